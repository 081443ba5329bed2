"""The query table: rendered PromQL, and docs/prometheus.md lists every query."""

from __future__ import annotations

from pathlib import Path

from kubetally.sources.prometheus.queries import COUNTERS, PRESENCE, QUERIES, SCRAPE_INTERVAL, Shape

DOC = Path(__file__).resolve().parents[2] / "docs" / "prometheus.md"


def test_every_query_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    missing = [q.name for q in (*QUERIES, SCRAPE_INTERVAL) if f"`{q.name}`" not in doc]
    assert not missing


def test_templates_render_without_leftover_placeholders() -> None:
    for query in QUERIES:
        for label in ("cluster", None):
            promql = query.render(30.0, 7200, label)
            assert "{i}" not in promql and "{w}" not in promql and "{by}" not in promql, query.name
            assert promql.count("(") == promql.count(")"), query.name


def test_bucket_queries_never_select_raw_ranges_without_aggregation() -> None:
    functions = {"count_over_time", "min_over_time", "max_over_time", "sum_over_time", "avg_over_time", "sum by",
                 "avg by", "resets", "timestamp", "last_over_time"}  # fmt: skip
    for query in QUERIES:
        promql = query.render(60.0, 7200, "cluster")
        if query.shape is Shape.BUCKETS:
            outer = promql.lstrip("(").split("(")[0].strip()
            assert outer in functions, query.name
            if outer == "timestamp":
                assert "[" not in promql, query.name
            else:
                assert "[1h" in promql or "[3599999ms" in promql or "[3900s" in promql, query.name


def test_no_bucket_query_steps_a_subquery_at_the_scrape_interval() -> None:
    for interval in (15.0, 30.0, 60.0):
        for query in QUERIES:
            promql = query.render(interval, 7200, "cluster")
            assert f":{round(interval)}s]" not in promql, query.name


def test_every_sampled_series_has_its_bucket_queries() -> None:
    names = {query.name for query in QUERIES}
    for spec in PRESENCE:
        assert {f"{spec.name}_n", f"{spec.name}_last"} <= names
        assert spec.match in spec.labels
    for spec in COUNTERS:
        assert {spec.name, f"{spec.name}_resets"} <= names
        assert spec.match in spec.labels


def test_single_cluster_queries_group_without_a_cluster_label() -> None:
    grouped = [q for q in QUERIES if "{by}" in q.template]
    assert grouped
    for query in grouped:
        assert "cluster," not in query.render(60.0, 3600, None)
        assert "cluster_id, " in query.render(60.0, 3600, "cluster_id")
