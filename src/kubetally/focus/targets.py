"""From validated Krateo documents to the endpoints to poll: URLs, variables, secrets and credentials.

``<varName>`` in the URL, the API path and header values is replaced by ``additionalVariables.varName``; a variable
whose value is written only in upper-case letters, digits and underscores (``AZURE_TOKEN``) names an environment
variable that supplies the value instead. Secrets come from the ``kind: Secret`` documents of the configuration
first, then from the files ``<secrets-dir>/<namespace>/<name>/<key>`` (the layout of a mounted Kubernetes Secret).
"""

from __future__ import annotations

import re
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from kubetally.errors import InvalidInput
from kubetally.focus.krateo import ExporterScraperConfig, KrateoConfig, Secret

ENVIRONMENT_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
"""A variable value that names an environment variable."""

_PLACEHOLDER = re.compile(r"<([^<>]*)>")

SERVER_URL_KEY = "server-url"
"""The key of an ``api.endpointRef`` Secret holding the server's base URL (Krateo's endpoint convention)."""

CERT_KEYS = ("tls.crt", "tls.key", "ca.crt")
"""Client certificate, its private key and the optional CA bundle of a ``cert-file`` Secret (kubernetes.io/tls)."""


@dataclass(frozen=True)
class SecretRef:
    """One Secret (and a key of it), with its namespace resolved."""

    namespace: str
    name: str
    key: str = ""
    field: str = ""
    """The configuration field that named it, for messages."""


@dataclass(frozen=True)
class SecretStore:
    """Secrets from the configuration's Secret documents, then from ``directory/<namespace>/<name>/<key>``."""

    documents: Mapping[tuple[str, str], Secret]
    directory: Path | None = None

    @classmethod
    def of(cls, config: KrateoConfig, directory: Path | None) -> SecretStore:
        return cls({(s.metadata.namespace, s.metadata.name): s for s in config.secrets}, directory)

    def read(self, ref: SecretRef, key: str | None = None) -> bytes | None:
        """The value of ``key`` (default ``ref.key``) in the Secret, or None when neither place has it."""
        wanted = key or ref.key
        secret = self.documents.get((ref.namespace, ref.name))
        if secret is not None and (value := secret.value(wanted)) is not None:
            return value
        if self.directory is not None:
            file = self.directory / ref.namespace / ref.name / wanted
            if file.is_file():
                return file.read_bytes()
        return None

    def require(self, ref: SecretRef, key: str | None = None) -> bytes:
        """Like :meth:`read`, raising InvalidInput that names the field and both places looked at."""
        value = self.read(ref, key)
        if value is None:
            wanted = key or ref.key
            places = "no Secret document in the configuration has it"
            if self.directory is not None:
                places += f" and {self.directory / ref.namespace / ref.name / wanted} does not exist"
            else:
                places += " (and no --secrets-dir was given)"
            raise InvalidInput(f"{ref.field}: key {wanted!r} of Secret {ref.namespace}/{ref.name} not found: {places}")
        return value


@dataclass(frozen=True)
class Target:
    """One endpoint to poll, fully resolved except for secrets (read at every poll so rotated tokens apply)."""

    key: str
    """``namespace/name`` of the ExporterScraperConfig."""
    source: str
    """The ledger's ``source`` value for its rows."""
    metric_type: Literal["cost", "resource"]
    interval_seconds: float
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    resource_id: str | None
    """``additionalVariables.ResourceId`` (required for resource targets)."""
    bearer: SecretRef | None
    cert: SecretRef | None

    def request_headers(self, secrets: SecretStore) -> dict[str, str]:
        """The configured headers plus ``Authorization: Bearer <token>`` for bearer-token targets."""
        headers = dict(self.headers)
        if self.bearer is not None:
            token = secrets.require(self.bearer).decode("utf-8").strip()
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def ssl_context(self, secrets: SecretStore) -> ssl.SSLContext | bool:
        """The TLS client context of a cert-file target (client certificate, key, optional CA); True otherwise."""
        if self.cert is None:
            return True
        material = {key: secrets.read(self.cert, key) for key in CERT_KEYS}
        for key in CERT_KEYS[:2]:
            secrets.require(self.cert, key)
        with tempfile.TemporaryDirectory(prefix="kubetally-cert-") as scratch:
            files = {}
            for key, value in material.items():
                if value is not None:
                    files[key] = Path(scratch) / key
                    files[key].write_bytes(value)
            context = ssl.create_default_context(cafile=str(files["ca.crt"]) if "ca.crt" in files else None)
            try:
                context.load_cert_chain(files["tls.crt"], files["tls.key"])
            except ssl.SSLError as exc:
                raise InvalidInput(f"{self.cert.field}: Secret {self.cert.namespace}/{self.cert.name}: {exc}") from exc
        return context


def resolve_targets(config: KrateoConfig, secrets: SecretStore, environ: Mapping[str, str]) -> tuple[Target, ...]:
    """Every ExporterScraperConfig as a :class:`Target`; checks now that every named secret exists.

    Raises InvalidInput for a missing environment variable, an unknown ``<varName>``, a URL that is not http(s),
    or a Secret key that cannot be found.
    """
    targets = tuple(_resolve(exporter, secrets, environ) for exporter in config.exporters)
    for target in targets:
        target.request_headers(secrets)
        target.ssl_context(secrets)
    return targets


def _resolve(exporter: ExporterScraperConfig, secrets: SecretStore, environ: Mapping[str, str]) -> Target:
    spec = exporter.spec.exporterConfig
    field = f"ExporterScraperConfig {exporter.key}: spec.exporterConfig"
    namespace = exporter.metadata.namespace
    variables = _variables(spec.additionalVariables, environ, field)
    if spec.api is not None:
        endpoint = SecretRef(
            spec.api.endpointRef.namespace or namespace,
            spec.api.endpointRef.name,
            SERVER_URL_KEY,
            f"{field}.api.endpointRef",
        )
        server = secrets.require(endpoint).decode("utf-8").strip().rstrip("/")
        raw_url, method = server + "/" + spec.api.path.lstrip("/"), spec.api.http_verb
        raw_headers = [h.partition(":") for h in spec.api.headers]
        headers = tuple(
            (n.strip(), _substitute(v.strip(), variables, f"{field}.api.headers")) for n, _, v in raw_headers
        )
    else:
        raw_url, method, headers = spec.url or "", "GET", ()
    url = _substitute(raw_url, variables, f"{field}.url")
    parsed = httpx.URL(url)
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise InvalidInput(f"{field}.url: {url!r} is not an http(s) URL")
    bearer = cert = None
    if spec.requireAuthentication and spec.authenticationMethod == "bearer-token" and spec.bearerToken is not None:
        ref = spec.bearerToken
        bearer = SecretRef(ref.namespace or namespace, ref.name, ref.key, f"{field}.bearerToken")
    if spec.requireAuthentication and spec.authenticationMethod == "cert-file":
        named = spec.certSecretRef or (spec.api.endpointRef if spec.api is not None else None)
        if named is not None:
            cert = SecretRef(named.namespace or namespace, named.name, "", f"{field}.certSecretRef")
    return Target(
        key=exporter.key,
        source=exporter.source,
        metric_type=spec.metricType,
        interval_seconds=spec.interval_seconds,
        method=method,
        url=url,
        headers=headers,
        resource_id=variables.get("ResourceId"),
        bearer=bearer,
        cert=cert,
    )


def _variables(declared: Mapping[str, str], environ: Mapping[str, str], field: str) -> dict[str, str]:
    values = {}
    for name, value in declared.items():
        if ENVIRONMENT_NAME.fullmatch(value):
            if value not in environ:
                raise InvalidInput(
                    f"{field}.additionalVariables.{name}: environment variable {value} is not set "
                    "(a value in upper-case letters names an environment variable)"
                )
            values[name] = environ[value]
        else:
            values[name] = value
    return values


def _substitute(text: str, variables: Mapping[str, str], field: str) -> str:
    """``text`` with every ``<name>`` replaced by its variable; an unknown name raises InvalidInput."""
    for name in _PLACEHOLDER.findall(text):
        if name not in variables:
            known = ", ".join(sorted(variables)) or "none"
            raise InvalidInput(f"{field}: <{name}> is not in additionalVariables (defined: {known})")
    return _PLACEHOLDER.sub(lambda match: variables[match.group(1)], text)
