"""The Krateo-compatible pipeline: poll each endpoint at its interval, upsert its rows, expose ``billed_cost``.

One poll of an endpoint, in order:

1. fetch the response, retrying a transport error, a 5xx or a 429 with exponential backoff (a 4xx such as 401 is
   final at once);
2. decode all of it — a FOCUS file with ``read_focus`` (cost) or the usage JSON (resource) — so that a malformed
   response is rejected whole before anything is written;
3. upsert the rows into the ledger (one transaction; a repeated row replaces itself, so polls never duplicate);
4. only then replace the endpoint's ``billed_cost`` samples.

A failed poll is logged and reported; the ledger and the gauge keep the endpoint's last good data and the next
interval tries again, so an endpoint that recovers needs no restart. The clock and the sleep are parameters, so
tests run hours of schedule in milliseconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import polars as pl

from kubetally.errors import FocusFileError, InvalidInput, KubetallyError, SourceUnavailable
from kubetally.focus.exporter import BilledCostCollector, billed_cost_series
from kubetally.focus.read import read_focus
from kubetally.focus.reconcile import reconcile_bill
from kubetally.focus.targets import SecretStore, Target
from kubetally.focus.usage import read_usage
from kubetally.ledger import Ledger

log = logging.getLogger("kubetally.focus.pipeline")

Clock = Callable[[], float]
Sleep = Callable[[float], object]

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
"""Answers worth retrying within a poll."""


@dataclass(frozen=True)
class PollResult:
    """The outcome of one poll of one endpoint."""

    config: str
    metric_type: str
    ok: bool
    attempts: int
    rows: int = 0
    """Rows decoded from the response (after folding duplicate keys)."""
    inserted: int = 0
    updated: int = 0
    error: str | None = None
    problems: tuple[tuple[int, str], ...] = ()
    """``(row_number, reason)`` of a rejected FOCUS file (row 0 = the file as a whole)."""


RECONCILE_ATTEMPTS = 3
"""Reconciliation runs after each cost poll; concurrent polls' writes make it start again, this many times."""


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per poll and the backoff between them: ``first_delay * 2**n`` seconds."""

    attempts: int = 3
    first_delay: float = 2.0
    timeout: float = 30.0


@dataclass
class Pipeline:
    """The endpoints, where their rows go, and the seams (HTTP transport, clock, sleep) tests replace."""

    targets: Sequence[Target]
    ledger: Ledger
    secrets: SecretStore
    collector: BilledCostCollector = field(default_factory=BilledCostCollector)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Clock = time.time
    sleep: Sleep = time.sleep
    transport: httpx.BaseTransport | None = None
    reconcile: bool = True
    """Reconcile the billed nodes and disks of each cost poll's charge periods (see docs/reconciliation.md)."""

    def poll(self, target: Target) -> PollResult:
        """Poll ``target`` once (with retries); never raises for a failing endpoint, the result says why."""
        attempts = 0
        try:
            data, attempts = self._fetch(target)
            result = self._store(target, data, attempts)
        except _Failed as exc:
            result = self._failed(target, exc.attempts, exc.message)
        except FocusFileError as exc:
            result = self._failed(target, attempts, exc.message, tuple(exc.problems))
        except KubetallyError as exc:
            result = self._failed(target, attempts, exc.message)
        except Exception as exc:  # one endpoint's unforeseen failure must not stop the other endpoints' polls
            log.exception("%s: unexpected error", target.key)
            result = self._failed(target, attempts, f"unexpected error: {type(exc).__name__}: {exc}")
        else:
            log.info("%s: %d rows (%d new, %d updated)", target.key, result.rows, result.inserted, result.updated)
        self.collector.record(target.key, ok=result.ok, at=self.clock())
        return result

    def poll_all(self, targets: Sequence[Target] | None = None) -> list[PollResult]:
        """Poll ``targets`` (default: all) concurrently, once each; results in the targets' order."""
        chosen = list(self.targets if targets is None else targets)
        if len(chosen) <= 1:
            return [self.poll(target) for target in chosen]
        with ThreadPoolExecutor(max_workers=min(8, len(chosen)), thread_name_prefix="kubetally-poll") as pool:
            return list(pool.map(self.poll, chosen))

    def run(self, stop: threading.Event, *, on_result: Callable[[PollResult], None] | None = None) -> None:
        """Poll every endpoint now and then at its interval until ``stop`` is set.

        Each endpoint's next poll is due ``interval`` after its previous one was due (no drift); endpoints that are
        due together are polled concurrently.
        """
        due = dict.fromkeys(range(len(self.targets)), self.clock())
        while not stop.is_set():
            now = self.clock()
            ready = [i for i, at in due.items() if at <= now]
            if ready:
                for i, result in zip(ready, self.poll_all([self.targets[i] for i in ready]), strict=True):
                    if on_result is not None:
                        on_result(result)
                    due[i] = max(due[i] + self.targets[i].interval_seconds, now)
                continue
            self.sleep(max(0.0, min(due.values()) - now))

    def _fetch(self, target: Target) -> tuple[bytes, int]:
        """The response body and the number of attempts it took; SourceUnavailable after the last attempt."""
        headers = target.request_headers(self.secrets)
        verify = target.ssl_context(self.secrets)
        problem = ""
        attempt = 0
        with httpx.Client(
            timeout=self.retry.timeout, verify=verify, transport=self.transport, follow_redirects=True
        ) as client:
            for attempt in range(1, self.retry.attempts + 1):
                if attempt > 1:
                    self.sleep(self.retry.first_delay * 2 ** (attempt - 2))
                try:
                    response = client.request(target.method, target.url, headers=headers)
                except httpx.HTTPError as exc:
                    problem = f"cannot reach {target.url}: {exc}"
                    log.warning("%s: attempt %d: %s", target.key, attempt, problem)
                    continue
                if response.is_success:
                    return response.content, attempt
                problem = f"{target.url} answered {response.status_code} {response.reason_phrase}"
                if response.status_code not in RETRYABLE_STATUS:
                    raise _Failed(problem, attempt)
                log.warning("%s: attempt %d: %s", target.key, attempt, problem)
        raise _Failed(f"{problem} (after {attempt} attempts)", attempt)

    def _store(self, target: Target, data: bytes, attempts: int) -> PollResult:
        if target.metric_type == "cost":
            batch = read_focus(data, target.source)
            series = billed_cost_series(data, target.source)
            written = self.ledger.upsert_cloud_costs(batch.frame)
            self.collector.replace(target.key, series)
            if self.reconcile:
                self._reconcile(target, batch.frame)
            rows = batch.frame.height
        else:
            if target.resource_id is None:
                raise InvalidInput(f"{target.key}: additionalVariables.ResourceId is required for metricType resource")
            frame = read_usage(data, name=target.url, resource_id=target.resource_id, source=target.source)
            written = self.ledger.upsert_cloud_usage(frame)
            rows = frame.height
        return PollResult(target.key, target.metric_type, True, attempts, rows, written.inserted, written.updated)

    def _reconcile(self, target: Target, bill: pl.DataFrame) -> None:
        """Reconcile the poll's charge periods, again when another poll wrote meanwhile; a failure is logged (the
        rows stay written, the next poll reconciles them)."""
        report = None
        for attempt in range(1, RECONCILE_ATTEMPTS + 1):
            try:
                report = reconcile_bill(self.ledger, bill)
                break
            except KubetallyError as exc:
                if attempt == RECONCILE_ATTEMPTS:
                    log.warning("%s: reconciliation failed, retried at the next poll: %s", target.key, exc.message)
                    return
        if report is not None and not report.assets.is_empty():
            log.info(
                "%s: reconciled %d nodes and disks: estimate %.2f, bill %.2f",
                target.key,
                report.assets.height,
                report.estimate,
                report.bill,
            )

    def _failed(
        self, target: Target, attempts: int, message: str, problems: tuple[tuple[int, str], ...] = ()
    ) -> PollResult:
        log.error("%s: poll failed, keeping the last good data: %s", target.key, message)
        return PollResult(target.key, target.metric_type, False, attempts, error=message, problems=problems)


class _Failed(SourceUnavailable):
    """An endpoint that did not answer with data, with the attempts made."""

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts
