"""kubetally.cli."""
