"""The background threads of ``kubetally serve``: a Follower's steps on an interval, and a FOCUS Pipeline's polls."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import datetime

from kubetally.api.metrics import Telemetry
from kubetally.errors import KubetallyError
from kubetally.focus.pipeline import Pipeline
from kubetally.focus.reconcile import reconcile_written
from kubetally.ingest.follow import Follower, FollowReport

LOG = logging.getLogger(__name__)


class _Background:
    """A daemon thread running :meth:`_run` from :meth:`start` until :meth:`stop` (which waits for it)."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to stop and wait for the work in progress to finish."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        raise NotImplementedError


class FollowLoop(_Background):
    """Calls ``follower.step()`` every ``interval_seconds`` in a daemon thread until :meth:`stop`.

    A step that raises a KubetallyError (ledger or source) is counted and retried at the next interval; any other
    error is logged with its traceback, counted and retried too: the loop itself never dies.
    """

    def __init__(self, follower: Follower, telemetry: Telemetry, interval_seconds: float) -> None:
        super().__init__("kubetally-follow")
        self.follower = follower
        self.telemetry = telemetry
        self.interval_seconds = interval_seconds
        self.last_report: FollowReport | None = None
        self.last_error: str | None = None
        self.steps = 0

    def run_once(self) -> None:
        """One step, with its outcome recorded in the telemetry."""
        try:
            report = self.follower.step()
        except KubetallyError as exc:
            self.telemetry.ingest_errors.inc()
            self.last_error = exc.message
            return
        except Exception as exc:  # a bug must not stop ingestion silently: log it and try again next interval
            LOG.exception("follow step failed")
            self.telemetry.ingest_errors.inc()
            self.last_error = f"internal error: {type(exc).__name__}"
            return
        self.telemetry.hours_written.inc(report.hours_written)
        self.telemetry.ingest_errors.inc(len(report.failures))
        self.last_report = report
        self.last_error = report.failures[-1] if report.failures else None
        if report.written_span is not None:
            self._reconcile(*report.written_span)
        self.steps += 1

    def _reconcile(self, start: datetime, end: datetime) -> None:
        """Apply the cloud bill again to hours the step rewrote (a write resets their bill adjustments)."""
        try:
            reconcile_written(self.follower.ledger, start, end)
        except KubetallyError as exc:
            self.telemetry.ingest_errors.inc()
            self.last_error = f"reconciliation of {start.isoformat()}–{end.isoformat()}: {exc.message}"

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval_seconds)


class PipelineLoop(_Background):
    """Runs ``pipeline`` (each endpoint polled at its interval) in a daemon thread until :meth:`stop`."""

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__("kubetally-pipeline")
        self.pipeline = replace(pipeline, sleep=self._stop.wait)

    def _run(self) -> None:
        try:
            self.pipeline.run(self._stop)
        except Exception:  # the API keeps serving; the log says why bills stopped arriving
            LOG.exception("cloud bill pipeline stopped")
