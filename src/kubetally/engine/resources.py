"""The compute resources (CPU, RAM, GPU) and the column names each one uses."""

from __future__ import annotations

from kubetally.domain.pricing import GIB

RESOURCES = ("cpu", "ram", "gpu")
"""Compute resources, in the order of the ALLOCATIONS columns."""

QUANTITY_HOURS = {"cpu": "cpu_core_hours", "ram": "ram_byte_hours", "gpu": "gpu_hours"}
"""The billed quantity-hours column of each resource."""

REQUEST = {"cpu": "cpu_core_request_average", "ram": "ram_byte_request_average", "gpu": "gpu_request_average"}
USAGE = {"cpu": "cpu_core_usage_average", "ram": "ram_byte_usage_average", "gpu": "gpu_usage_average"}
PRICE = {"cpu": "cpu_price_per_core_hour", "ram": "ram_price_per_gib_hour", "gpu": "gpu_price_per_gpu_hour"}
PRICE_UNIT = {"cpu": 1.0, "ram": GIB, "gpu": 1.0}
"""Divisor turning quantity-hours into the unit the price is quoted in (GiB-hours for RAM)."""

COSTS = [f"{res}_cost" for res in RESOURCES]
ADJUSTMENTS = [f"{res}_cost_adjustment" for res in RESOURCES]
