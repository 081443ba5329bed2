"""kubetally.sources.simulator."""
