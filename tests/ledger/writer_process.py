"""A separate process that writes into a ledger, for lock and crash tests.

``python -m tests.ledger.writer_process PATH MARKER MODE [STEP]``:

* ``hold``: open the ledger for writing, create MARKER, and wait to be killed.
* ``stop-at STEP``: write the ``new`` result; when the write reaches STEP (a Ledger write step, or ``after``
  for once the write returned) create MARKER and wait to be killed.
* ``loop``: write the ``new`` and ``other`` results alternately forever, creating MARKER when the first write
  begins.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from kubetally.ledger import Ledger, RunInfo
from tests.ledger.crash_cases import CLUSTERS, NEW_END, NEW_START, candidates


def wait_forever(marker: Path) -> None:
    marker.touch()
    while True:
        time.sleep(60)


def main(argv: list[str]) -> None:
    path, marker, mode = Path(argv[0]), Path(argv[1]), argv[2]
    if mode == "hold":
        with Ledger.open(path):
            wait_forever(marker)
    results = candidates()
    run = RunInfo(source="writer-process")
    if mode == "stop-at":
        step = argv[3]

        def stop(name: str) -> None:
            if name == step:
                wait_forever(marker)

        with Ledger.open(path, hook=stop) as ledger:
            ledger.write(results["new"], clusters=CLUSTERS, start=NEW_START, end=NEW_END, run=run)
            stop("after")
    if mode == "loop":
        with Ledger.open(path, hook=lambda _name: marker.touch()) as ledger:
            while True:
                for name in ("new", "other"):
                    ledger.write(results[name], clusters=CLUSTERS, start=NEW_START, end=NEW_END, run=run)


if __name__ == "__main__":
    main(sys.argv[1:])
