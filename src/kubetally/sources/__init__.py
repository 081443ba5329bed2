"""kubetally.sources."""
