"""kubetally.query."""
