"""The prices a scenario declares (its ``pricing`` section, in OpenCost custom pricing JSON form)."""

from __future__ import annotations

from kubetally.domain.pricing import PriceBook, parse_custom_pricing
from kubetally.errors import InvalidPricing, InvalidScenario
from kubetally.sources.simulator.scenario import Scenario


def scenario_pricebook(scenario: Scenario) -> PriceBook:
    """A PriceBook from the scenario's ``pricing``; OpenCost's defaults for every key it does not set."""
    try:
        return PriceBook(parse_custom_pricing(dict(scenario.pricing)))
    except InvalidPricing as exc:
        raise InvalidScenario(f"scenario {scenario.name}: field pricing: {exc.message}") from exc
