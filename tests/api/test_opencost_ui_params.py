"""Parameters the OpenCost UI sends: ``accumulate=weeknow`` (calendar weeks) and ``aggregate=assetType``."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from kubetally.domain.window import Accumulate, CalendarStep, Window, parse_accumulate, split_window
from tests.api.conftest import WINDOW


def test_weeknow_cuts_the_window_at_sundays() -> None:
    # 2026-01-01 is a Thursday; the Sundays after it are 2026-01-04 and 2026-01-11.
    window = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 13, 6, tzinfo=UTC))
    assert parse_accumulate("weeknow") is Accumulate.WEEKNOW
    pieces = split_window(window, CalendarStep.WEEK)
    assert [(p.start.day, p.end.day) for p in pieces] == [(1, 4), (4, 11), (11, 13)]
    assert pieces[-1].end == window.end


def test_weeknow_on_allocation_compute_answers_one_set_per_calendar_week(client: TestClient) -> None:
    for prefix in ("", "/model"):
        response = client.get(f"{prefix}/allocation/compute", params={"window": WINDOW, "accumulate": "weeknow"})
        assert response.status_code == 200, response.text
        sets = response.json()["data"]
        assert len(sets) == 1
        whole = client.get(f"{prefix}/allocation/compute", params={"window": WINDOW, "accumulate": "true"}).json()
        total = sum(row["totalCost"] for row in sets[0].values())
        assert abs(total - sum(row["totalCost"] for row in whole["data"][0].values())) < 1e-6


def test_asset_type_is_opencosts_name_for_type(client: TestClient) -> None:
    by_type = client.get("/assets", params={"window": WINDOW, "aggregate": "type", "accumulate": "true"})
    by_asset_type = client.get(
        "/model/assets", params={"window": WINDOW, "aggregate": "assetType", "accumulate": "true"}
    )
    assert by_asset_type.status_code == 200, by_asset_type.text
    assert sorted(by_asset_type.json()["data"]) == sorted(by_type.json()["data"])
    assert len(by_type.json()["data"]) > 1


def test_weeknow_with_a_short_first_week_puts_each_hour_in_its_own_set() -> None:
    # 48 hours ending Monday 2026-12-07 23:00: one hour before Sunday 00:00, then 47 hours.
    import duckdb

    from kubetally.query.sql import set_index_sql

    window = Window(datetime(2026, 12, 5, 23, tzinfo=UTC), datetime(2026, 12, 7, 23, tzinfo=UTC))
    sets = split_window(window, CalendarStep.WEEK)
    assert [s.duration.total_seconds() / 3600 for s in sets] == [1, 47]
    hours = [
        datetime(2026, 12, 5, 23, tzinfo=UTC),
        datetime(2026, 12, 6, tzinfo=UTC),
        datetime(2026, 12, 7, 22, tzinfo=UTC),
    ]
    sql = f"SELECT {set_index_sql(sets, 'h')} AS i FROM (SELECT unnest(?::TIMESTAMPTZ[]) AS h)"
    assert [row[0] for row in duckdb.sql(sql, params=[hours]).fetchall()] == [0, 1, 1]
