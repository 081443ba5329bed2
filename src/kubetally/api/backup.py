"""``GET /ledger/backup``: a tar of the ledger's ``EXPORT DATABASE`` (Parquet), for backing up a running server.

The server is the ledger's one writer, so nothing else may open the file while it runs; this route exports one
consistent snapshot through the server's own connection instead. The ledger holds every cluster and namespace,
so only an unscoped identity may take it (403 for a scoped one). ``kubetally ledger backup --url`` calls it.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from kubetally.api.auth import require_unscoped
from kubetally.ledger.backup import backup_name, pack

router = APIRouter()


@router.get("/ledger/backup", dependencies=[Depends(require_unscoped)], response_class=FileResponse)
def ledger_backup(request: Request) -> FileResponse:
    """The whole ledger as a tar of DuckDB's EXPORT DATABASE (Parquet files, schema.sql, load.sql)."""
    state = request.app.state.kubetally
    ledger = state.reader()
    name = backup_name(state.clock())
    work = Path(tempfile.mkdtemp(prefix="kubetally-backup-"))
    try:
        archive = pack(ledger.export(work / name), work / f"{name}.tar")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return FileResponse(
        archive,
        media_type="application/x-tar",
        filename=archive.name,
        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True),
    )
