"""Splitting a node's total hourly price into CPU, RAM and GPU unit prices (OpenCost spec, Appendix A).

When a provider bills a node as a whole, the per-resource prices are derived by keeping the ratio of base unit
prices (the defaults of the custom pricing file: CPU, RAM, GPU, or their spot variants for spot nodes) and scaling
them by one factor so that ``cpu_cores·cpu + ram_gib·ram + gpus·gpu`` equals the node's price.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UnitPrices:
    """Per-unit hourly prices: $/vCPU-h, $/GiB-h, $/GPU-h."""

    cpu_price_per_core_hour: float
    ram_price_per_gib_hour: float
    gpu_price_per_gpu_hour: float

    def node_price_per_hour(self, cpu_cores: float, ram_gib: float, gpu_count: float) -> float:
        """What a node of this shape costs per hour at these unit prices ($/h)."""
        return (
            cpu_cores * self.cpu_price_per_core_hour
            + ram_gib * self.ram_price_per_gib_hour
            + gpu_count * self.gpu_price_per_gpu_hour
        )


def split_node_price(
    node_price_per_hour: float, base: UnitPrices, cpu_cores: float, ram_gib: float, gpu_count: float
) -> UnitPrices | None:
    """Unit prices that keep ``base``'s ratios and add up to ``node_price_per_hour`` for this node shape.

    Returns None when the node's shape prices to zero at the base prices (no capacity, or all base prices zero):
    no scale factor exists then, and the caller falls through to the next price level.
    """
    base_total = base.node_price_per_hour(cpu_cores, ram_gib, gpu_count)
    if base_total <= 0.0:
        return None
    scale = node_price_per_hour / base_total
    return UnitPrices(
        cpu_price_per_core_hour=base.cpu_price_per_core_hour * scale,
        ram_price_per_gib_hour=base.ram_price_per_gib_hour * scale,
        gpu_price_per_gpu_hour=base.gpu_price_per_gpu_hour * scale,
    )
