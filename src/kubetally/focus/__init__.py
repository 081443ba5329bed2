"""FOCUS cloud bills: reading FOCUS files, the Krateo-compatible pipeline, and reconciliation with the ledger."""

from kubetally.focus.read import FocusBatch, read_focus, read_focus_source

__all__ = ["FocusBatch", "read_focus", "read_focus_source"]
