"""Asset rows of the ground truth (R4, R7–R10): one row per asset and hour bucket, in the ASSETS schema."""

from __future__ import annotations

from typing import Any

import polars as pl

from kubetally.costs import ASSETS
from kubetally.domain.pricing import GIB, NodePrice, PriceBook
from kubetally.history import empty
from kubetally.sources.simulator.model import SimNode, SimService, Simulation, SimVolume

SERVICE = "Kubernetes"
DEFAULT_SOURCE = "default"
Row = dict[str, Any]


def _map(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in sorted(mapping.items())]


class AssetLedger:
    """Collects asset rows while the reference computation walks the simulation; adds management rows."""

    def __init__(self, sim: Simulation, prices: PriceBook, node_prices: dict[tuple[str, str], NodePrice]) -> None:
        self.sim, self.prices, self.node_prices = sim, prices, node_prices
        self.rows: list[Row] = []
        self.networks: dict[tuple[str, int], Row] = {}
        self.cluster_prices = {
            row["cluster"]: row
            for row in prices.cluster_prices(sim.clusters, empty("observed_cluster_prices")).iter_rows(named=True)
        }

    def blank(self, cluster: str, hour: int, kind: str, name: str, *, minutes: float, source: str) -> Row:
        row: Row = dict.fromkeys(ASSETS)
        row.update(
            cluster=cluster,
            hour=hour,
            type=kind,
            name=name,
            category={"Node": "Compute", "Disk": "Storage", "ClusterManagement": "Management"}.get(kind, "Network"),
            service=SERVICE,
            labels=[],
            minutes=minutes,
            adjustment=0.0,
            price_source=source,
        )
        self.rows.append(row)
        return row

    def node(self, node: SimNode, hour: int, node_hours: float) -> Row:
        """R4: the Node asset of one bucket; its ``*_cost`` are the node's resource costs."""
        price = self.node_prices[(node.cluster, node.name)]
        row = self.blank(node.cluster, hour, "Node", node.name, minutes=node_hours * 60.0, source=price.source)
        row.update(
            provider_id=node.provider_id,
            labels=_map(node.labels),
            node_type=node.instance_type,
            region=node.region,
            zone=node.zone,
            preemptible=price.preemptible,
            discount=price.discount,
            cpu_cores=node.cpu_cores,
            ram_bytes=node.ram_bytes,
            gpu_count=node.gpu_count,
            cpu_core_hours=node.cpu_cores * node_hours,
            ram_byte_hours=node.ram_bytes * node_hours,
            gpu_hours=node.gpu_count * node_hours,
            cpu_cost=node.cpu_cores * node_hours * price.cpu_price_per_core_hour,
            ram_cost=node.ram_bytes / GIB * node_hours * price.ram_price_per_gib_hour,
            gpu_cost=node.gpu_count * node_hours * price.gpu_price_per_gpu_hour,
        )
        row["total_cost"] = row["cpu_cost"] + row["ram_cost"] + row["gpu_cost"]
        return row

    def volume_price(self, volume: SimVolume) -> tuple[float, str]:
        """$/GiB-h of a volume and its price source, from the PriceBook (no observed prices)."""
        frame = pl.DataFrame(
            {
                "cluster": [volume.cluster],
                "pv": [volume.name],
                "storage_class": [volume.storage_class],
                "start": [self.sim.at(volume.span[0])],
            }
        )
        row = self.prices.volume_prices(frame, empty("observed_volume_prices")).row(0, named=True)
        return float(row["price_per_gib_hour"]), str(row["price_source"])

    def disk(self, volume: SimVolume, hour: int, pv_hours: float, price: float, source: str) -> None:
        """R7: the Disk asset of one bucket."""
        row = self.blank(volume.cluster, hour, "Disk", volume.name, minutes=pv_hours * 60.0, source=source)
        row.update(
            provider_id=volume.provider_id,
            bytes=volume.capacity_bytes,
            byte_hours=volume.capacity_bytes * pv_hours,
            storage_class=volume.storage_class,
            claim=volume.claim,
            claim_namespace=volume.claim_namespace,
            total_cost=volume.capacity_bytes / GIB * pv_hours * price,
        )

    def lb_price(self, service: SimService) -> tuple[float, str]:
        """$/h of a LoadBalancer service (no observed prices: ``defaultLBPrice``)."""
        frame = pl.DataFrame(
            {
                "cluster": [service.cluster],
                "namespace": [service.namespace],
                "service": [service.name],
                "service_type": [service.service_type],
            }
        )
        row = self.prices.lb_prices(frame, empty("observed_lb_prices")).row(0, named=True)
        return float(row["price_per_hour"]), DEFAULT_SOURCE

    def load_balancer(self, service: SimService, hour: int, lb_hours: float, price: float, source: str) -> None:
        """R8: the LoadBalancer asset of one bucket."""
        name = f"{service.namespace}/{service.name}"
        row = self.blank(service.cluster, hour, "LoadBalancer", name, minutes=lb_hours * 60.0, source=source)
        row.update(
            namespace=service.namespace,
            ip=service.ip,
            private=service.private,
            total_cost=price * lb_hours,
        )

    def egress_prices(self, cluster: str) -> dict[str, float]:
        """$/GiB by egress class for ``cluster``."""
        row = self.cluster_prices[cluster]
        return {
            "zone": row["zone_egress_price_per_gib"],
            "region": row["region_egress_price_per_gib"],
            "internet": row["internet_egress_price_per_gib"],
            "unclassified": row["unclassified_egress_price_per_gib"],
        }

    def network(self, cluster: str, hour: int, transfer_bytes: float, cost: float) -> None:
        """R9: add one pod's egress to the cluster's Network asset of the bucket (created on the first bytes)."""
        if transfer_bytes <= 0:
            return
        key = (cluster, hour)
        if key not in self.networks:
            row = self.blank(cluster, hour, "Network", cluster, minutes=60.0, source=DEFAULT_SOURCE)
            row.update(bytes=0.0, cpu_cost=0.0, ram_cost=0.0, gpu_cost=0.0, total_cost=0.0)
            self.networks[key] = row
        self.networks[key]["bytes"] += transfer_bytes
        self.networks[key]["total_cost"] += cost

    def management(self) -> None:
        """R10: a ClusterManagement asset per cluster and bucket when its price is above 0."""
        for cluster in self.sim.clusters:
            price = self.cluster_prices[cluster]["management_price_per_hour"]
            if price <= 0:
                continue
            for hour in range(self.sim.hours):
                row = self.blank(cluster, hour, "ClusterManagement", cluster, minutes=60.0, source=DEFAULT_SOURCE)
                row["total_cost"] = price

    def frame(self) -> pl.DataFrame:
        self.management()
        for row in self.rows:
            row["hour"] = self.sim.at(row["hour"] * 3600)
        return pl.DataFrame(self.rows, schema=ASSETS).sort(["cluster", "hour", "type", "name"])
