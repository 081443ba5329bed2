"""Controller names as OpenCost writes them, on a ledger written by an older release in Kubernetes' spelling.

The query fixture (tests/query/fixture.py) is rewritten into a schema-version-4 file: no ``pods.cronjob`` column,
kinds spelled ``Deployment``, ``CronJob``, ... Opening it for writing migrates it; the expected rows and totals
below follow docs/query-language.md "Controllers" by hand (fixture totals: web 14, dns-1 2, api-1 10, unmounted 1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from kubetally.errors import LedgerError
from kubetally.ledger import Ledger
from kubetally.ledger.opening import migrate_file
from kubetally.ledger.schema import SCHEMA_VERSION
from tests.query.fixture import build_ledger
from tests.query.helpers import allocation, totals

HIDE = {"includeIdle": "false"}
U = "__unallocated__"

OLD_SPELLING = {
    "u1": ("Deployment", "web"),
    "u2": ("CronJob", "backup"),
    "u3": ("Job", "report-29012345"),
    "u4": ("Deployment", "web"),
}
"""The fixture's pods as version 4 stored them: dns-1 became a CronJob's pod, api-1 a Job's with a timestamp."""


def write_version_4(path: Path) -> None:
    """Turn the fixture ledger into a version-4 file in the old spelling."""
    connection = duckdb.connect(str(path))
    connection.execute("ALTER TABLE pods DROP COLUMN cronjob")
    for uid, (kind, name) in OLD_SPELLING.items():
        connection.execute("UPDATE pods SET controller_kind = ?, controller = ? WHERE pod_uid = ?", [kind, name, uid])
    connection.execute("UPDATE ledger_meta SET value = '4' WHERE key = 'schema_version'")
    connection.close()


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build_ledger(tmp_path_factory.mktemp("controllers") / "v4.duckdb")
    write_version_4(path)
    with pytest.raises(LedgerError, match=r"schema version 4.*open it for writing once"):
        Ledger.open(path, read_only=True)
    assert migrate_file(path) == 4
    return path


@pytest.fixture
def ledger(migrated: Path) -> Iterator[Ledger]:
    with Ledger.open(migrated, read_only=True) as opened:
        yield opened


def test_the_migration_rewrites_kinds_names_and_cronjobs(ledger: Ledger) -> None:
    assert ledger.fetch("SELECT value FROM ledger_meta WHERE key = 'schema_version'").item() == str(SCHEMA_VERSION)
    rows = ledger.fetch("SELECT pod_uid, controller_kind, controller, cronjob FROM pods ORDER BY pod_uid").rows()
    assert rows == [
        ("u1", "deployment", "web", None),
        ("u2", "job", "backup", "backup"),
        ("u3", "job", "report", None),
        ("u4", "deployment", "web", None),
    ]


def test_aggregates_use_opencost_names(ledger: Ledger) -> None:
    assert totals(ledger, **HIDE, aggregate="controller") == {
        "deployment:web": 14.0,
        "job:backup": 2.0,
        "job:report": 10.0,
        "__unmounted__": 1.0,
    }
    assert totals(ledger, **HIDE, aggregate="controllerKind") == {"deployment": 14.0, "job": 12.0, "__unmounted__": 1.0}
    assert totals(ledger, **HIDE, aggregate="job") == {"backup": 2.0, "report": 10.0, U: 14.0, "__unmounted__": 1.0}
    assert totals(ledger, **HIDE, aggregate="cronjob") == {"backup": 2.0, U: 24.0, "__unmounted__": 1.0}
    (only,) = allocation(ledger, **HIDE, aggregate="cronjob")
    assert only["backup"]["properties"] == {"controller": "backup"}
    (unaggregated,) = allocation(ledger, **HIDE)
    web = unaggregated["c1/n1/a/web-1/app"]["properties"]
    assert (web["controllerKind"], web["controller"]) == ("deployment", "web")


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ('controllerKind:"deployment"', {"web-1": 12.0, "web-2": 2.0}),
        ('controllerKind:"Deployment"', {"web-1": 12.0, "web-2": 2.0}),
        ('controllerKind:"JOB"+controllerName:"Report"', {"api-1": 10.0}),
        ('controllerName:"BACKUP"', {"dns-1": 2.0}),
    ],
)
def test_filters_on_controllers_ignore_case(ledger: Ledger, filter_: str, expected: dict[str, float]) -> None:
    assert totals(ledger, **HIDE, aggregate="pod", filter=filter_) == pytest.approx(expected)
