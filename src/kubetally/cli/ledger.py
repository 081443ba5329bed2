"""``kubetally ledger backup`` / ``restore``: the ledger to a directory of Parquet files and back.

``backup --db`` exports a ledger no server holds open; ``backup --url`` asks a running server for one
(``GET /ledger/backup``), since the server is the file's one writer. Each backup is a ``kubetally-<UTC time>``
directory under ``--to``; ``--keep N`` deletes all but the newest N there.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import httpx
import typer

from kubetally.cli.options import now
from kubetally.errors import InvalidInput, InvalidParameter, SourceUnavailable
from kubetally.ledger import Ledger
from kubetally.ledger.backup import backup_name, import_database, prune, unpack

app = typer.Typer(help="Back up and restore the ledger.", no_args_is_help=True)

To = Annotated[Path, typer.Option("--to", help="Directory to write the backup into (as kubetally-<UTC time>/).")]
LedgerDb = Annotated[
    Path | None, typer.Option("--db", help="The ledger file (not open in a server).", envvar="KUBETALLY_DB")
]
Url = Annotated[str | None, typer.Option("--url", help="Back up a running server instead: its base URL.")]
Keep = Annotated[int | None, typer.Option("--keep", min=1, help="Keep only the newest N backups in --to.")]
User = Annotated[
    str | None, typer.Option("--user", help="HTTP Basic user for --url (password: KUBETALLY_BACKUP_PASSWORD).")
]
TOKEN_ENV = "KUBETALLY_BACKUP_TOKEN"
PASSWORD_ENV = "KUBETALLY_BACKUP_PASSWORD"


@app.command("backup")
def backup_command(to: To, db: LedgerDb = None, url: Url = None, keep: Keep = None, user: User = None) -> None:
    """Back the ledger up into a new directory under --to (DuckDB EXPORT DATABASE, Parquet).

    Examples:

      kubetally ledger backup --db costs.duckdb --to /backups

      KUBETALLY_BACKUP_TOKEN=... kubetally ledger backup --url http://kubetally:9003 --to /backups --keep 14
    """
    if db is None and url is None:
        raise InvalidParameter("--db", "give the ledger (--db) or a running server (--url)")
    to.mkdir(parents=True, exist_ok=True)
    target = to / backup_name(now())
    if url is not None:
        _download(url.rstrip("/"), target, user)
    elif db is not None:
        with Ledger.open(db, read_only=True) as ledger:
            ledger.export(target)
    typer.echo(f"backed up into {target}")
    for path in prune(to, keep) if keep is not None else []:
        typer.echo(f"deleted the old backup {path}")


def _download(url: str, target: Path, user: str | None) -> None:
    """Fetch ``url``/ledger/backup into ``target`` (unpacked)."""
    token, password = os.environ.get(TOKEN_ENV), os.environ.get(PASSWORD_ENV)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    auth = (user, password or "") if user else None
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".partial-") as work:
        archive = Path(work) / "backup.tar"
        try:
            with httpx.stream("GET", f"{url}/ledger/backup", headers=headers, auth=auth, timeout=600) as response:
                if response.status_code != 200:
                    response.read()
                    raise InvalidInput(f"{url}/ledger/backup answered {response.status_code}: {_reason(response)}")
                with archive.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"cannot reach {url}/ledger/backup: {exc}") from exc
        unpack(archive, Path(work) / "backup")
        (Path(work) / "backup").rename(target)


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("message") or body)[:200] if isinstance(body, dict) else str(body)[:200]


From = Annotated[
    Path, typer.Option("--from", help="A backup directory, or a --to directory (its newest backup is used).")
]
NewDb = Annotated[Path, typer.Option("--db", help="The ledger file to create (must not exist).", envvar="KUBETALLY_DB")]


@app.command("restore")
def restore_command(source: From, db: NewDb) -> None:
    """Create a ledger from a backup (DuckDB IMPORT DATABASE); an older schema version is migrated.

    Example:

      kubetally ledger restore --from /backups --db /var/lib/kubetally/kubetally.duckdb
    """
    import_database(source, db)
    with Ledger.open(db) as ledger:
        bounds = ledger.bounds()
    span = "no hours" if bounds is None else f"{bounds[0]:%Y-%m-%dT%H:%MZ} to {bounds[1]:%Y-%m-%dT%H:%MZ}"
    typer.echo(f"restored {db} ({span})")
