"""Ingest: which hours → fetch → compute → write. ``backfill`` costs a closed range; ``follow`` keeps up."""

from kubetally.ingest.backfill import DEFAULT_CHUNK, IngestReport, hour_chunks, ingest
from kubetally.ingest.follow import Follower, FollowReport, missing_hours

__all__ = [
    "DEFAULT_CHUNK",
    "FollowReport",
    "Follower",
    "IngestReport",
    "hour_chunks",
    "ingest",
    "missing_hours",
]
