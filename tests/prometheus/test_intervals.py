"""Running intervals from per-bucket presence: contiguous buckets, restarts, exact edges."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from kubetally.sources.prometheus import intervals as iv

H = 3600.0
KEYS = ["uid"]


def _presence(rows: list[tuple[str, float, float, float, float]]) -> pl.DataFrame:
    """(uid, bucket start, samples, first, last) in seconds from 0."""
    return pl.DataFrame(rows, schema=["uid", "hour", "n", "first", "last"], orient="row")


def test_contiguous_buckets_merge_into_one_interval() -> None:
    frame = _presence([("a", 0, 120, 0, H - 30), ("a", H, 60, H, H + 1770)])
    merged = iv.merge(iv.pieces(frame, KEYS, 30.0), KEYS)
    assert merged.select("start", "end").rows() == [(0.0, H + 1800)]


def test_a_single_sample_is_one_interval() -> None:
    merged = iv.merge(iv.pieces(_presence([("a", 0, 1, 600, 600)]), KEYS, 60.0), KEYS)
    assert merged.select("start", "end").rows() == [(600.0, 660.0)]


def test_a_gap_splits_at_the_exact_restart() -> None:
    frame = _presence([("a", 0, 108, 0, H - 30)])
    splits = pl.DataFrame({"uid": ["a"], "hour": [0], "terminated": [1800.0], "restarted": [2160.0]})
    merged = iv.merge(iv.pieces(frame, KEYS, 30.0, splits), KEYS).sort("start")
    assert merged.select("start", "end").rows() == [(0.0, 1800.0), (2160.0, H)]


def test_a_gap_without_exact_times_keeps_the_measured_duration() -> None:
    frame = _presence([("a", 0, 108, 0, H - 30)])
    merged = iv.merge(iv.pieces(frame, KEYS, 30.0), KEYS)
    assert merged.select(pl.col("end") - pl.col("start")).item() == 108 * 30


def test_edges_snap_to_exact_times_within_one_interval() -> None:
    frame = pl.DataFrame({"uid": ["a", "b"], "start": [960.0, 960.0], "end": [2460.0, 2460.0]})
    exact = pl.DataFrame({"uid": ["a", "b"], "at": [935.0, 100.0]})
    snapped = iv.snap(frame, exact, KEYS, "start", 30.0).sort("uid")
    assert snapped.get_column("start").to_list() == [935.0, 960.0]


def test_intervals_are_clipped_to_the_window() -> None:
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 1, tzinfo=UTC)
    base = start.timestamp()
    frame = pl.DataFrame({"uid": ["a"], "start": [base + 3000.0], "end": [base + 3700.0]})
    clipped = iv.to_times(frame, start, end)
    assert clipped.get_column("end").to_list() == [end]
