"""Budget: how much one allocation query may ask for, and how much memory a cached answer is counted as.

The work and the memory of an allocation answer grow with its rows: the number of sets (one per step) times
the allocations in each. :func:`check_allocation_size` estimates that number from one cheap SQL count over the
window, before anything is computed, and refuses a query above ``max_rows`` with a 400 saying how to narrow it.
The estimate is an upper bound: filters are not taken into account, an aggregation by a plain column is.
"""

from __future__ import annotations

from kubetally.errors import InvalidParameter
from kubetally.query.allocation import Reader
from kubetally.query.params import AllocationQuery, IdleMode

DEFAULT_MAX_QUERY_ROWS = 25_000
"""The most rows (sets × allocations) one allocation query may ask for, by default."""

ROW_BYTES = 6 * 1024
"""What one allocation row of an answer is counted as in the cache's byte budget (a dict of ~50 fields)."""

_PLAIN_COLUMNS = frozenset({"cluster", "node", "namespace", "pod", "container"})

_COUNT_SQL = (
    "SELECT count(*), count(DISTINCT (cluster, namespace, pod, container)), count(DISTINCT (cluster, node)), "
    "count(DISTINCT cluster){keys} FROM allocations WHERE hour >= ? AND hour < ?"
)


def estimate_allocation_rows(reader: Reader, query: AllocationQuery) -> int:
    """An upper bound of the rows (over all sets) of ``query``'s answer, idle rows included."""
    columns = [key.column for key in query.aggregate]
    plain = bool(columns) and all(column in _PLAIN_COLUMNS for column in columns)
    keys = f", count(DISTINCT ({', '.join(c for c in columns if c)}, 0))" if plain else ""
    row = reader.fetch(_COUNT_SQL.format(keys=keys), [query.window.start, query.window.end]).row(0)
    container_hours, containers, nodes, clusters = (int(value or 0) for value in row[:4])
    groups = int(row[4] or 0) if plain else containers
    sets = len(query.sets)
    rows = min(container_hours, sets * groups) if not plain else sets * groups
    if query.idle is IdleMode.SEPARATE:
        rows += sets * (nodes if query.idle_by_node else clusters)
    return rows


def check_allocation_size(reader: Reader, query: AllocationQuery, max_rows: int) -> None:
    """InvalidParameter (400) when ``query`` would answer more than ``max_rows`` rows."""
    rows = estimate_allocation_rows(reader, query)
    if rows > max_rows:
        raise InvalidParameter(
            "step",
            f"the query asks for about {rows:,} rows ({len(query.sets)} sets); at most {max_rows:,} are answered: "
            "use a larger step, a shorter window, or aggregate (e.g. aggregate=namespace)",
        )


def answer_bytes(answer: object) -> int:
    """What a cached answer (a list of sets of rows) is counted as, in bytes."""
    if isinstance(answer, list):
        return ROW_BYTES * sum(len(item) if isinstance(item, dict) else 1 for item in answer) + 1024
    return 1024


__all__ = [
    "DEFAULT_MAX_QUERY_ROWS",
    "ROW_BYTES",
    "answer_bytes",
    "check_allocation_size",
    "estimate_allocation_rows",
]
