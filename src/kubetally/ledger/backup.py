"""Backups of a ledger: DuckDB's ``EXPORT DATABASE`` as Parquet files in a directory, and ``IMPORT DATABASE`` of
such a directory into a new, empty ledger file.

A backup is a directory holding DuckDB's ``schema.sql``, ``load.sql`` and one Parquet file per table, plus
:data:`MANIFEST` (the schema version it was taken at and when). Exporting reads one consistent snapshot of the
ledger through its own cursor, so a running server (the ledger's one writer) keeps writing while it is taken.
Restoring never overwrites: the target ledger must not exist yet, and is opened (and so checked, or migrated
from an older schema version) once the import has finished.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from kubetally.errors import LedgerError
from kubetally.ledger.opening import connect
from kubetally.ledger.schema import SCHEMA_VERSION

MANIFEST = "kubetally-backup.json"
"""The file that marks a directory as a kubetally backup."""
PREFIX = "kubetally-"
"""Backups written into a parent directory are named ``kubetally-<UTC time>``."""


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_database(cursor: duckdb.DuckDBPyConnection, directory: Path, *, now: datetime) -> Path:
    """Export the ledger of ``cursor`` into ``directory`` (created; it must not exist or be empty)."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise LedgerError(f"backup directory {directory} already exists and is not empty")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        rows = cursor.execute("SELECT value FROM ledger_meta WHERE key = 'schema_version'").fetchall()
        cursor.execute(f"EXPORT DATABASE {_literal(directory)} (FORMAT PARQUET)").fetchall()
    except OSError as exc:
        raise LedgerError(f"cannot write the backup into {directory}: {exc.strerror or exc}") from exc
    except duckdb.Error as exc:
        raise LedgerError(f"cannot export the ledger into {directory}: {exc}") from exc
    manifest = {"schema_version": int(rows[0][0]) if rows else None, "created": now.astimezone(UTC).isoformat()}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return directory


def find_backup(directory: Path) -> Path:
    """``directory`` when it is a backup, else its newest ``kubetally-*`` backup; LedgerError when there is none."""
    if (directory / MANIFEST).is_file():
        return directory
    if not directory.is_dir():
        raise LedgerError(f"backup {directory} not found: no such directory")
    found = backups(directory)
    if not found:
        raise LedgerError(f"{directory} holds no kubetally backup (no {MANIFEST}, no {PREFIX}* directories)")
    return found[-1]


def backups(parent: Path) -> list[Path]:
    """The backups in ``parent``, oldest first (their names sort by time)."""
    return sorted(path for path in parent.glob(f"{PREFIX}*") if (path / MANIFEST).is_file())


def prune(parent: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups in ``parent``; returns what was deleted."""
    found = backups(parent)
    doomed = found[: max(len(found) - keep, 0)]
    for path in doomed:
        shutil.rmtree(path)
    return doomed


def backup_name(now: datetime) -> str:
    return f"{PREFIX}{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def import_database(directory: Path, db: Path) -> None:
    """Create the ledger ``db`` (which must not exist) from the backup ``directory``."""
    source = find_backup(directory)
    if db.exists():
        raise LedgerError(f"ledger {db} already exists: restore only into a new file (move the old one away)")
    manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    version = manifest.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise LedgerError(f"backup {source} has schema version {version}; this kubetally reads {SCHEMA_VERSION}")
    connection = connect(db, read_only=False)
    try:
        connection.execute(f"IMPORT DATABASE {_literal(source)}").fetchall()
    except duckdb.Error as exc:
        connection.close()
        db.unlink(missing_ok=True)
        raise LedgerError(f"cannot restore {source} into {db}: {exc}") from exc
    connection.close()


def pack(directory: Path, archive: Path) -> Path:
    """A tar of the backup ``directory`` (its files at the archive's top level)."""
    with tarfile.open(archive, "w") as tar:
        for path in sorted(directory.iterdir()):
            tar.add(path, arcname=path.name)
    return archive


def unpack(archive: Path, directory: Path) -> Path:
    """Extract a tar made by :func:`pack` into ``directory``; LedgerError when it is not a kubetally backup."""
    try:
        with tarfile.open(archive) as tar:
            _extract_files(tar, directory)
    except (tarfile.TarError, OSError) as exc:
        raise LedgerError(f"the backup archive cannot be unpacked into {directory}: {exc}") from exc
    if not (directory / MANIFEST).is_file():
        raise LedgerError(f"the backup archive holds no {MANIFEST}: not a kubetally backup")
    return directory


def _extract_files(tar: tarfile.TarFile, directory: Path) -> None:
    """Write the archive's regular top-level files into ``directory``, refusing any other member (a path, a link,
    a device). Done by hand: ``extractall(filter=...)`` is missing from Python 3.11 before 3.11.4 (Debian bookworm's
    python3, the image's)."""
    directory.mkdir(parents=True, exist_ok=True)
    for member in tar.getmembers():
        name = member.name
        if not member.isfile() or name in {"", ".", ".."} or "/" in name or "\\" in name:
            raise LedgerError(f"the backup archive holds {name!r}, not a plain file: not a kubetally backup")
        source = tar.extractfile(member)
        if source is None:
            raise LedgerError(f"the backup archive's {name!r} cannot be read")
        with source, (directory / name).open("xb") as target:
            shutil.copyfileobj(source, target)
