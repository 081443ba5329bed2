"""Validating Krateo configuration documents: both forms, defaults, and precise errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubetally.errors import InvalidInput
from kubetally.focus.krateo import load_config, parse_duration
from tests.focus_pipeline.conftest import DATA

DATABASE = """
apiVersion: finops.krateo.io/v1
kind: DatabaseConfig
metadata: {name: db, namespace: finops}
spec: {username: u, passwordSecretRef: {name: pw, namespace: finops, key: password}}
"""

EXPORTER = """
apiVersion: finops.krateo.io/v1
kind: ExporterScraperConfig
metadata: {name: bill, namespace: finops}
spec:
  exporterConfig:
    url: http://bills.example/focus.csv
    pollingInterval: 1h
  scraperConfig:
    tableName: bills
    scraperDatabaseConfigRef: {name: db}
"""


def write(tmp_path: Path, *documents: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("\n---\n".join(documents))
    return path


def error_of(tmp_path: Path, *documents: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        load_config([write(tmp_path, *documents)])
    return caught.value.message


def test_seed_form_is_read_with_its_provider_chain_ignored() -> None:
    config = load_config([DATA / "seed.yaml"])
    assert [e.key for e in config.exporters] == ["finops/azure-costs", "finops/vm-web-1-usage"]
    assert [e.spec.exporterConfig.interval_seconds for e in config.exporters] == [86400.0, 3600.0]
    assert [e.source for e in config.exporters] == ["azure_focus_costs", "azure_vm_usage"]
    assert config.ignored == (
        "ProviderConfig finops/azure",
        "ResourceConfig finops/azure-virtual-machines",
        "MetricConfig finops/azure-vm-cpu-usage",
    )
    assert [d.metadata.name for d in config.databases] == ["finops-database"]


def test_later_form_defaults() -> None:
    config = load_config([DATA / "later.yaml"])
    bill, cpu = config.exporters
    assert bill.spec.exporterConfig.metricType == "cost"  # absent: the default is cost
    assert bill.spec.exporterConfig.api is not None and bill.spec.exporterConfig.api.http_verb == "GET"
    assert cpu.spec.exporterConfig.interval_seconds == 1800.0
    assert cpu.source == "vm-web-1-cpu"  # no tableName: the config's name


def test_config_split_over_several_files(tmp_path: Path) -> None:
    (tmp_path / "db.yaml").write_text(DATABASE)
    (tmp_path / "bill.yaml").write_text(EXPORTER)
    config = load_config([tmp_path / "bill.yaml", tmp_path / "db.yaml"])
    assert len(config.exporters) == 1 and len(config.databases) == 1


@pytest.mark.parametrize(
    ("text", "seconds"), [("1h", 3600.0), ("30m", 1800.0), ("12h30m", 45000.0), ("90s", 90.0), ("1.5h", 5400.0)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5d", "1h x", "soon", "0s", "h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_unknown_kind_names_the_document(tmp_path: Path) -> None:
    message = error_of(tmp_path, DATABASE, "apiVersion: finops.krateo.io/v1\nkind: FocusConfig\nmetadata: {name: x}\n")
    assert "config.yaml document 2" in message and "kind: 'FocusConfig' is not supported" in message


def test_unknown_api_version_names_the_document(tmp_path: Path) -> None:
    message = error_of(tmp_path, DATABASE.replace("finops.krateo.io/v1", "finops.krateo.io/v2"), EXPORTER)
    assert "document 1 (DatabaseConfig): apiVersion: 'finops.krateo.io/v2' is not supported" in message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("pollingInterval: 1h", "pollingInterval: soon"), "spec.exporterConfig.pollingInterval"),
        (
            ("pollingInterval: 1h", "pollingInterval: 1h\n    pollingIntervalHours: 2"),
            "exactly one of pollingIntervalHours",
        ),
        (
            ("url: http://bills.example/focus.csv", "url: http://a\n    api: {path: /x, endpointRef: {name: e}}"),
            "exactly one of url or api",
        ),
        (("pollingInterval: 1h", "pollingInterval: 1h\n    metricType: usage"), "spec.exporterConfig.metricType"),
        (("pollingInterval: 1h", "pollingInterval: 1h\n    metricType: resource"), "additionalVariables.ResourceId"),
        (("pollingInterval: 1h", "pollingInterval: 1h\n    requireAuthentication: true"), "authenticationMethod"),
        (
            (
                "pollingInterval: 1h",
                "pollingInterval: 1h\n    requireAuthentication: true\n    authenticationMethod: bearer-token",
            ),
            "bearerToken{name, namespace, key}",
        ),
        (("pollingInterval: 1h", "pollingInterval: 1h\n    polingInterval: 2h"), "spec.exporterConfig.polingInterval"),
        (("scraperDatabaseConfigRef: {name: db}", "scraperDatabaseConfigRef: {}"), "scraperDatabaseConfigRef.name"),
    ],
)
def test_bad_exporter_field_is_named(tmp_path: Path, change: tuple[str, str], field: str) -> None:
    message = error_of(tmp_path, DATABASE, EXPORTER.replace(*change))
    assert "document 2 (ExporterScraperConfig)" in message
    assert field in message


def test_database_reference_must_resolve(tmp_path: Path) -> None:
    message = error_of(tmp_path, DATABASE, EXPORTER.replace("{name: db}", "{name: other-db}"))
    assert "scraperDatabaseConfigRef: no DatabaseConfig finops/other-db" in message


def test_database_reference_in_another_namespace(tmp_path: Path) -> None:
    message = error_of(tmp_path, DATABASE, EXPORTER.replace("{name: db}", "{name: db, namespace: elsewhere}"))
    assert "no DatabaseConfig elsewhere/db" in message


def test_duplicate_exporter_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, DATABASE, EXPORTER, EXPORTER)
    assert re.search(r"document 3: ExporterScraperConfig finops/bill is defined twice", message)


def test_configuration_without_exporters_is_refused(tmp_path: Path) -> None:
    assert "no ExporterScraperConfig" in error_of(tmp_path, DATABASE)


def test_secret_data_must_be_base64(tmp_path: Path) -> None:
    secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: finops}\ndata: {token: 'not base64!'}\n"
    message = error_of(tmp_path, secret, DATABASE, EXPORTER)
    assert "document 1 (Secret)" in message and "data.token is not base64" in message


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        load_config([tmp_path / "missing.yaml"])
    assert "is not valid YAML" in error_of(tmp_path, "kind: [unclosed")
    assert "document 1: a document must be a mapping" in error_of(tmp_path, "- a list\n")
