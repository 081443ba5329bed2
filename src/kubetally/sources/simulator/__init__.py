"""The simulator: a realistic cluster from a scenario, as a ClusterHistory, an OpenMetrics exposition and the
exact ground truth of its costs.

``load_scenario`` reads a built-in scenario or a YAML file, ``simulate`` expands it with a seed into an event
timeline, and the three outputs are read off that one timeline: ``to_history``, ``write_openmetrics`` and
``ground_truth`` (a plain reference computation of docs/cost-model.md, independent of the engine).
"""

from __future__ import annotations

from kubetally.sources.simulator.bill import simulated_bill
from kubetally.sources.simulator.columnar import to_history
from kubetally.sources.simulator.generate import simulate
from kubetally.sources.simulator.loader import load_scenario
from kubetally.sources.simulator.model import Simulation
from kubetally.sources.simulator.openmetrics import write_openmetrics
from kubetally.sources.simulator.prices import scenario_pricebook
from kubetally.sources.simulator.scenario import Scenario
from kubetally.sources.simulator.truth import Truth, ground_truth

__all__ = [
    "Scenario",
    "Simulation",
    "Truth",
    "ground_truth",
    "load_scenario",
    "scenario_pricebook",
    "simulate",
    "simulated_bill",
    "to_history",
    "write_openmetrics",
]
