"""kubetally: Kubernetes cost allocation that adds up to the cent."""

__version__ = "0.1.0"
