"""kubetally.engine."""
