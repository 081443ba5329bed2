"""The HTTP edge: the FastAPI application (``/metrics``, health, and later the OpenCost API)."""
