"""Ingest: which hours → fetch → compute → write. ``backfill`` costs a closed range; ``follow`` keeps up."""

from kubetally.ingest.backfill import DEFAULT_CHUNK, IngestReport, hour_chunks, ingest

__all__ = ["DEFAULT_CHUNK", "IngestReport", "hour_chunks", "ingest"]
