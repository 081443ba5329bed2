"""The same query over the same ledger answers the same floating-point sums every time."""

from __future__ import annotations

from pathlib import Path

from kubetally.ledger.opening import connect


def test_a_grouped_sum_over_many_row_groups_is_the_same_every_time(tmp_path: Path) -> None:
    connection = connect(tmp_path / "ledger.duckdb", read_only=False)
    try:
        # Two million rows (16 DuckDB row groups) of values whose sum depends on the order of addition.
        connection.execute(
            "CREATE TABLE t AS SELECT i % 7 AS g, (hash(i) % 1000003) * 1.000001e6 / 3 AS x FROM range(2000000) r(i)"
        ).fetchall()
        sums = {tuple(connection.execute("SELECT g, sum(x) FROM t GROUP BY g ORDER BY g").fetchall()) for _ in range(8)}
    finally:
        connection.close()
    assert len(sums) == 1
