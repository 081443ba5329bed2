"""BillingPolicy: how a container's running time and resources turn into billed quantities."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kubetally.errors import InvalidParameter


class BillingMode(StrEnum):
    """Which quantity a container is billed for, per resource and hour bucket."""

    MAX_REQUEST_USAGE = "max_request_usage"
    """max(average request, average usage) over the running time: the OpenCost specification."""
    REQUEST = "request"
    USAGE = "usage"


@dataclass(frozen=True)
class BillingPolicy:
    """The billing rules applied by the engine (and by the simulator's reference computation).

    ``minimum_runtime_seconds``: a container that ran (0, minimum) seconds in an hour bucket is billed the
    minimum (seed 001 bills 5 minutes); 0 disables it. ``charge_reserved_waiting``: containers that are scheduled
    but waiting (ImagePullBackOff, ErrImagePull, ContainerCreating) are charged their requests, because they hold
    node capacity; off by default, as in the OpenCost specification.
    """

    mode: BillingMode = BillingMode.MAX_REQUEST_USAGE
    minimum_runtime_seconds: float = 0.0
    charge_reserved_waiting: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.minimum_runtime_seconds <= 3600.0:
            raise InvalidParameter(
                "minimum_runtime", f"must be between 0 and 3600 seconds, got {self.minimum_runtime_seconds}"
            )

    @classmethod
    def parse(
        cls, mode: str, minimum_runtime_seconds: float = 0.0, charge_reserved_waiting: bool = False
    ) -> BillingPolicy:
        try:
            billing_mode = BillingMode(mode)
        except ValueError as exc:
            allowed = ", ".join(m.value for m in BillingMode)
            raise InvalidParameter("billing_mode", f"unknown mode {mode!r}; allowed: {allowed}") from exc
        return cls(billing_mode, minimum_runtime_seconds, charge_reserved_waiting)
