"""kubetally.ledger."""
