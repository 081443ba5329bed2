"""Resolving endpoints: <varName> substitution, environment variables, secrets, endpointRef and client certificates."""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from kubetally.errors import InvalidInput
from kubetally.focus.krateo import load_config
from kubetally.focus.targets import SecretStore, Target, resolve_targets
from kubetally.ledger import Ledger
from tests.focus_pipeline.conftest import DATA, BillApi, Route, bill_handler, build_pipeline, serving

TLS = DATA / "tls"

DATABASE = """
apiVersion: finops.krateo.io/v1
kind: DatabaseConfig
metadata: {name: db, namespace: finops}
spec: {username: u}
"""


def exporter(exporter_config: str, name: str = "bill") -> str:
    return f"""
apiVersion: finops.krateo.io/v1
kind: ExporterScraperConfig
metadata: {{name: {name}, namespace: finops}}
spec:
  exporterConfig:
{exporter_config}
  scraperConfig:
    scraperDatabaseConfigRef: {{name: db}}
"""


def targets(
    tmp_path: Path, *documents: str, environ: dict[str, str] | None = None, secrets_dir: Path | None = None
) -> tuple[tuple[Target, ...], SecretStore]:
    path = tmp_path / "config.yaml"
    path.write_text("\n---\n".join((DATABASE, *documents)))
    config = load_config([path])
    store = SecretStore.of(config, secrets_dir)
    return resolve_targets(config, store, environ or {}), store


def test_variables_and_environment_fill_the_url(tmp_path: Path) -> None:
    (target,), _ = targets(
        tmp_path,
        exporter(
            "    url: https://<host>/subscriptions/<sub>/bill.csv?region=<region>\n"
            "    pollingIntervalHours: 2\n"
            "    additionalVariables: {host: API_HOST, sub: sub-9, region: eu_west_1}"
        ),
        environ={"API_HOST": "bills.example:8443"},
    )
    assert target.url == "https://bills.example:8443/subscriptions/sub-9/bill.csv?region=eu_west_1"
    assert target.interval_seconds == 7200.0 and target.method == "GET" and target.source == "bill"


def test_missing_environment_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"additionalVariables\.host: environment variable API_HOST is not set"):
        targets(
            tmp_path,
            exporter(
                "    url: https://<host>/b.csv\n    pollingInterval: 1h\n    additionalVariables: {host: API_HOST}"
            ),
        )


def test_unknown_placeholder_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"spec\.exporterConfig\.url: <tenant> is not in additionalVariables"):
        targets(tmp_path, exporter("    url: https://<tenant>.example/b.csv\n    pollingInterval: 1h"))


def test_url_must_be_http(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is not an http"):
        targets(tmp_path, exporter("    url: ftp://files.example/b.csv\n    pollingInterval: 1h"))


BEARER = """    url: https://bills.example/b.csv
    pollingInterval: 1h
    requireAuthentication: true
    authenticationMethod: bearer-token
    bearerToken: {name: api-token, key: token}"""


def test_bearer_token_from_secret_data_and_string_data(tmp_path: Path) -> None:
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: api-token, namespace: finops}\n"
        "data: {token: ZnJvbS1kYXRh}\nstringData: {other: x}\n"
    )
    (target,), store = targets(tmp_path, secret, exporter(BEARER))
    assert target.request_headers(store) == {"Authorization": "Bearer from-data"}
    plain = secret.replace("data: {token: ZnJvbS1kYXRh}\nstringData: {other: x}", "stringData: {token: plain}")
    (target,), store = targets(tmp_path, plain, exporter(BEARER))
    assert target.request_headers(store)["Authorization"] == "Bearer plain"


def test_bearer_token_from_secrets_dir_is_reread_at_each_poll(tmp_path: Path) -> None:
    folder = tmp_path / "secrets" / "finops" / "api-token"
    folder.mkdir(parents=True)
    (folder / "token").write_text("first\n")
    (target,), store = targets(tmp_path, exporter(BEARER), secrets_dir=tmp_path / "secrets")
    assert target.request_headers(store)["Authorization"] == "Bearer first"
    (folder / "token").write_text("rotated")
    assert target.request_headers(store)["Authorization"] == "Bearer rotated"


def test_missing_secret_names_field_and_places(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        targets(tmp_path, exporter(BEARER), secrets_dir=tmp_path)
    message = caught.value.message
    assert "spec.exporterConfig.bearerToken" in message
    assert "Secret finops/api-token" in message and str(tmp_path / "finops" / "api-token" / "token") in message
    with pytest.raises(InvalidInput, match="no --secrets-dir was given"):
        targets(tmp_path, exporter(BEARER))


def test_endpoint_ref_gives_the_server_and_headers_are_substituted(tmp_path: Path) -> None:
    endpoint = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: api, namespace: shared}\n"
        "stringData: {server-url: 'https://management.example.com/'}\n"
    )
    api = (
        "    api:\n      path: /subs/<sub>/usage\n      method: POST\n"
        "      headers: ['Accept: application/json', 'x-tenant: <tenant>']\n"
        "      endpointRef: {name: api, namespace: shared}\n"
        "    pollingInterval: 15m\n    additionalVariables: {sub: s1, tenant: t1}"
    )
    (target,), store = targets(tmp_path, endpoint, exporter(api))
    assert target.url == "https://management.example.com/subs/s1/usage"
    assert target.method == "POST"
    assert target.request_headers(store) == {"Accept": "application/json", "x-tenant": "t1"}


def test_malformed_header_is_refused(tmp_path: Path) -> None:
    api = "    api: {path: /x, headers: ['no colon'], endpointRef: {name: api}}\n    pollingInterval: 15m"
    with pytest.raises(InvalidInput, match="header 'no colon' is not of the form 'Name: value'"):
        targets(tmp_path, exporter(api))


CERT = """    url: https://<server>/bill.csv
    pollingInterval: 1h
    requireAuthentication: true
    authenticationMethod: cert-file
    certSecretRef: {name: client-cert}
    additionalVariables: {server: BILLS_SERVER}"""


@pytest.fixture
def cert_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "secrets" / "finops" / "client-cert"
    folder.mkdir(parents=True)
    for source, key in (("client.crt", "tls.crt"), ("client.key", "tls.key"), ("ca.crt", "ca.crt")):
        shutil.copy(TLS / source, folder / key)
    return tmp_path / "secrets"


@pytest.fixture
def mtls_api() -> Iterator[BillApi]:
    api = BillApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), bill_handler(api))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "server.crt", TLS / "server.key")
    context.load_verify_locations(TLS / "ca.crt")
    context.verify_mode = ssl.CERT_REQUIRED
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server, api) as served:
        yield served


def test_client_certificate_polls_an_mtls_endpoint(
    tmp_path: Path, cert_dir: Path, mtls_api: BillApi, ledger: Ledger
) -> None:
    mtls_api.routes["/bill.csv"] = Route((DATA / "bill.csv").read_bytes())
    config = tmp_path / "config.yaml"
    config.write_text("\n---\n".join((DATABASE, exporter(CERT))))
    pipeline = build_pipeline([config], ledger, {"BILLS_SERVER": mtls_api.address}, secrets_dir=cert_dir)
    result = pipeline.poll(pipeline.targets[0])
    assert result.ok, result.error
    assert result.inserted == 3


def test_cert_file_without_a_certificate_is_refused_at_start(ledger: Ledger, tmp_path: Path) -> None:
    secret_dir = tmp_path / "secrets" / "finops" / "client-cert"
    secret_dir.mkdir(parents=True)
    shutil.copy(TLS / "ca.crt", secret_dir / "ca.crt")
    config = tmp_path / "config.yaml"
    config.write_text("\n---\n".join((DATABASE, exporter(CERT))))
    with pytest.raises(InvalidInput, match=r"'tls\.crt' of Secret finops/client-cert not found"):
        build_pipeline([config], ledger, {"BILLS_SERVER": "127.0.0.1:1"}, secrets_dir=tmp_path / "secrets")


def test_bad_certificate_material_is_refused(tmp_path: Path) -> None:
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: client-cert, namespace: finops}\n"
        "stringData: {tls.crt: not a certificate, tls.key: not a key}\n"
    )
    with pytest.raises(InvalidInput, match=r"certSecretRef: Secret finops/client-cert"):
        targets(tmp_path, secret, exporter(CERT), environ={"BILLS_SERVER": "127.0.0.1:1"})
