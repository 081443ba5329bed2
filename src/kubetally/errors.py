"""The one exception tree.

Every error kubetally raises on purpose derives from :class:`KubetallyError`. Each class carries the HTTP
status and a stable machine-readable ``code``; edges (HTTP API, CLI, MCP) map them in one place and never
classify errors by message text. Foreign exceptions are translated at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations


class KubetallyError(Exception):
    """Base of every deliberate kubetally error."""

    status: int = 500
    code: str = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(KubetallyError):
    """Input from a user (flag, HTTP parameter, file) that cannot be accepted."""

    status = 400
    code = "invalid_input"


class InvalidParameter(InvalidInput):
    """A named request parameter is malformed; the message names the parameter and what is allowed."""

    code = "invalid_parameter"

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


class InvalidWindow(InvalidParameter):
    code = "invalid_window"

    def __init__(self, message: str, parameter: str = "window") -> None:
        super().__init__(parameter, message)


class InvalidFilter(InvalidParameter):
    code = "invalid_filter"

    def __init__(self, message: str, parameter: str = "filter") -> None:
        super().__init__(parameter, message)


class InvalidAggregate(InvalidParameter):
    code = "invalid_aggregate"

    def __init__(self, message: str, parameter: str = "aggregate") -> None:
        super().__init__(parameter, message)


class InvalidPricing(InvalidInput):
    """A pricing file or price sheet cannot be read."""

    code = "invalid_pricing"


class InvalidScenario(InvalidInput):
    """A simulator scenario is malformed."""

    code = "invalid_scenario"


class InvalidHistory(KubetallyError):
    """A ClusterHistory does not satisfy its schema (a source produced bad data)."""

    status = 422
    code = "invalid_history"


class Unauthorized(KubetallyError):
    """The request carries no credentials, or credentials that match no identity."""

    status = 401
    code = "unauthorized"


class TooManyRequests(KubetallyError):
    """Too many failed logins from one client: answered 429 with ``Retry-After`` (seconds)."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class Forbidden(KubetallyError):
    """The identity is known but the request asks for something outside its scope."""

    status = 403
    code = "forbidden"


class NotFound(KubetallyError):
    status = 404
    code = "not_found"


class LedgerError(KubetallyError):
    """The ledger file cannot be opened, read or written."""

    status = 503
    code = "ledger_unavailable"


class SourceUnavailable(KubetallyError):
    """A source (Prometheus, a bill endpoint) cannot be reached or answered badly."""

    status = 502
    code = "source_unavailable"


class FocusFileError(InvalidInput):
    """A FOCUS bill file that cannot be accepted: not CSV or Parquet, missing mandatory columns, or bad rows.

    ``problems`` holds every ``(row_number, reason)`` found, row 1 being the first data row and row 0 the file
    as a whole (its format or header); the message names the file and the first ten problems.
    """

    code = "invalid_focus_file"
    shown = 10

    def __init__(self, source: str, problems: list[tuple[int, str]]) -> None:
        self.source = source
        self.problems = list(problems)
        listed = "; ".join(f"row {row}: {reason}" if row else reason for row, reason in self.problems[: self.shown])
        more = len(self.problems) - self.shown
        count = f"{len(self.problems)} problem" + ("" if len(self.problems) == 1 else "s")
        suffix = f"; and {more} more" if more > 0 else ""
        super().__init__(f"FOCUS file {source} rejected ({count}): {listed}{suffix}")
