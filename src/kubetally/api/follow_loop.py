"""The background thread that runs a Follower's steps on an interval, for ``kubetally serve``."""

from __future__ import annotations

import logging
import threading

from kubetally.api.metrics import Telemetry
from kubetally.errors import KubetallyError
from kubetally.ingest.follow import Follower, FollowReport

LOG = logging.getLogger(__name__)


class FollowLoop:
    """Calls ``follower.step()`` every ``interval_seconds`` in a daemon thread until :meth:`stop`.

    A step that raises a KubetallyError (ledger or source) is counted and retried at the next interval; any other
    error is logged with its traceback, counted and retried too: the loop itself never dies.
    """

    def __init__(self, follower: Follower, telemetry: Telemetry, interval_seconds: float) -> None:
        self.follower = follower
        self.telemetry = telemetry
        self.interval_seconds = interval_seconds
        self.last_report: FollowReport | None = None
        self.last_error: str | None = None
        self.steps = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kubetally-follow", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to stop and wait for the step in progress to finish."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

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
        self.steps += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval_seconds)
