"""Krateo Composable FinOps configuration documents, validated.

A pipeline configuration is one or more multi-document YAML files holding Krateo's ``ExporterScraperConfig`` and
``DatabaseConfig`` custom resources (``finops.krateo.io/v1``), the Kubernetes ``Secret`` documents they name, and
optionally the ``ProviderConfig``/``ResourceConfig``/``MetricConfig`` chain of the first Krateo releases, which is
accepted and reported as ignored. Both forms of ``ExporterScraperConfig`` are read: the first one
(``url`` + ``pollingIntervalHours``) and the later one (``api{path, verb, headers, endpointRef}`` +
``pollingInterval`` durations such as ``1h30m``). See docs/focus-pipeline.md.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, ValidationError, field_validator, model_validator

from kubetally.errors import InvalidInput

KRATEO_API_VERSION = "finops.krateo.io/v1"
"""The apiVersion of every Krateo FinOps document."""

IGNORED_KINDS = ("ProviderConfig", "ResourceConfig", "MetricConfig")
"""Krateo kinds that are accepted and ignored (the provider chain removed from Krateo in 2025)."""

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_DURATION_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str) -> float:
    """Seconds in a Go duration such as ``1h``, ``30m``, ``12h30m`` or ``90s`` (Kubernetes ``metav1.Duration``)."""
    compact = text.strip()
    if not compact or _DURATION.sub("", compact):
        raise ValueError(f"{text!r} is not a duration such as 1h, 30m or 12h30m")
    seconds = sum(float(number) * _DURATION_SECONDS[unit] for number, unit in _DURATION.findall(compact))
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ObjectRef(_Strict):
    """A reference to a namespaced object; a missing namespace means the referring document's namespace."""

    name: str = Field(min_length=1)
    namespace: str | None = None


class SecretKeyRef(ObjectRef):
    """A reference to one key of a Kubernetes Secret."""

    key: str = Field(min_length=1)


class Metadata(BaseModel):
    """Kubernetes object metadata; labels, annotations and other fields are accepted and not used."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field(min_length=1)
    namespace: str = "default"


class ApiCall(_Strict):
    """The later form's endpoint: ``path`` on the server named by ``endpointRef`` (a Secret with ``server-url``)."""

    path: str
    verb: Literal["GET", "POST"] = "GET"
    method: Literal["GET", "POST"] | None = None
    headers: tuple[str, ...] = ()
    endpointRef: ObjectRef  # noqa: N815 - Krateo's field name

    @field_validator("headers")
    @classmethod
    def _headers_have_names(cls, headers: tuple[str, ...]) -> tuple[str, ...]:
        for header in headers:
            name, colon, _ = header.partition(":")
            if not colon or not name.strip():
                raise ValueError(f"header {header!r} is not of the form 'Name: value'")
        return headers

    @property
    def http_verb(self) -> str:
        """The HTTP method (``method`` is accepted as a synonym of ``verb``)."""
        return self.method or self.verb


class ExporterConfig(_Strict):
    """``spec.exporterConfig``: where the bill or the usage metrics come from and how often."""

    name: str | None = None
    provider: ObjectRef | None = None
    url: str | None = None
    api: ApiCall | None = None
    requireAuthentication: bool = False  # noqa: N815
    authenticationMethod: Literal["bearer-token", "cert-file"] | None = None  # noqa: N815
    bearerToken: SecretKeyRef | None = None  # noqa: N815
    certSecretRef: ObjectRef | None = None  # noqa: N815
    metricType: Literal["cost", "resource"] = "cost"  # noqa: N815
    pollingIntervalHours: PositiveFloat | None = None  # noqa: N815
    pollingInterval: str | None = None  # noqa: N815
    additionalVariables: dict[str, str] = Field(default_factory=dict)  # noqa: N815

    @field_validator("additionalVariables", mode="before")
    @classmethod
    def _variables_as_text(cls, variables: object) -> object:
        if isinstance(variables, Mapping):
            return {str(k): v if isinstance(v, str) or v is None else str(v) for k, v in variables.items()}
        return variables

    @field_validator("pollingInterval")
    @classmethod
    def _interval_is_duration(cls, text: str | None) -> str | None:
        if text is not None:
            parse_duration(text)
        return text

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.url is None) == (self.api is None):
            raise ValueError("give exactly one of url or api")
        if (self.pollingIntervalHours is None) == (self.pollingInterval is None):
            raise ValueError("give exactly one of pollingIntervalHours or pollingInterval")
        if self.requireAuthentication:
            if self.authenticationMethod is None:
                raise ValueError("requireAuthentication is true: authenticationMethod (bearer-token or cert-file)")
            if self.authenticationMethod == "bearer-token" and self.bearerToken is None:
                raise ValueError("authenticationMethod bearer-token needs bearerToken{name, namespace, key}")
            if self.authenticationMethod == "cert-file" and self.certSecretRef is None and self.api is None:
                raise ValueError(
                    "authenticationMethod cert-file needs certSecretRef{name, namespace} or api.endpointRef"
                )
        if self.metricType == "resource" and not self.additionalVariables.get("ResourceId"):
            raise ValueError("metricType resource needs additionalVariables.ResourceId (the usage rows' ResourceId)")
        return self

    @property
    def interval_seconds(self) -> float:
        """The polling interval in seconds."""
        if self.pollingInterval is not None:
            return parse_duration(self.pollingInterval)
        return (self.pollingIntervalHours or 0.0) * 3600.0


class ScraperConfig(_Strict):
    """``spec.scraperConfig``: the table and database the rows go to (its url and interval do not apply here)."""

    tableName: str | None = Field(default=None, min_length=1)  # noqa: N815
    url: str | None = None
    api: dict[str, Any] | None = None
    metricType: Literal["cost", "resource"] | None = None  # noqa: N815
    pollingIntervalHours: PositiveFloat | None = None  # noqa: N815
    pollingInterval: str | None = None  # noqa: N815
    scraperDatabaseConfigRef: ObjectRef  # noqa: N815

    @field_validator("pollingInterval")
    @classmethod
    def _interval_is_duration(cls, text: str | None) -> str | None:
        if text is not None:
            parse_duration(text)
        return text


class ExporterScraperSpec(_Strict):
    exporterConfig: ExporterConfig  # noqa: N815
    scraperConfig: ScraperConfig  # noqa: N815


class ExporterScraperConfig(_Strict):
    """One bill or usage endpoint to poll and the table its rows go to."""

    apiVersion: Literal["finops.krateo.io/v1"]  # noqa: N815
    kind: Literal["ExporterScraperConfig"]
    metadata: Metadata
    spec: ExporterScraperSpec
    status: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        """``namespace/name``, unique across the configuration."""
        return f"{self.metadata.namespace}/{self.metadata.name}"

    @property
    def source(self) -> str:
        """The ledger's ``source`` for this endpoint's rows: ``scraperConfig.tableName``, else the config's name."""
        return self.spec.scraperConfig.tableName or self.metadata.name


class DatabaseConfigSpec(BaseModel):
    """``DatabaseConfig.spec``: validated for shape; later Krateo fields (host, port, token, ...) are accepted."""

    model_config = ConfigDict(extra="allow", frozen=True)

    username: str | None = None
    passwordSecretRef: SecretKeyRef | None = None  # noqa: N815


class DatabaseConfig(_Strict):
    """Krateo's database connection; the ledger (``--db``) replaces it, so its credentials are never used."""

    apiVersion: Literal["finops.krateo.io/v1"]  # noqa: N815
    kind: Literal["DatabaseConfig"]
    metadata: Metadata
    spec: DatabaseConfigSpec
    status: dict[str, Any] | None = None


class Secret(_Strict):
    """A Kubernetes Secret: ``data`` values are base64, ``stringData`` values plain text (and win on conflict)."""

    apiVersion: Literal["v1"]  # noqa: N815
    kind: Literal["Secret"]
    metadata: Metadata
    type: str | None = None
    data: dict[str, str] = Field(default_factory=dict)
    stringData: dict[str, str] = Field(default_factory=dict)  # noqa: N815
    immutable: bool | None = None

    @field_validator("data")
    @classmethod
    def _base64(cls, data: dict[str, str]) -> dict[str, str]:
        for key, value in data.items():
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValueError(f"data.{key} is not base64") from exc
        return data

    def value(self, key: str) -> bytes | None:
        """The decoded value of ``key``, or None when the Secret has no such key."""
        if key in self.stringData:
            return self.stringData[key].encode()
        if key in self.data:
            return base64.b64decode(self.data[key])
        return None


class IgnoredDocument(BaseModel):
    """A ProviderConfig, ResourceConfig or MetricConfig: checked for apiVersion, kind and name, then ignored."""

    model_config = ConfigDict(extra="allow", frozen=True)

    apiVersion: Literal["finops.krateo.io/v1"]  # noqa: N815
    kind: Literal["ProviderConfig", "ResourceConfig", "MetricConfig"]
    metadata: Metadata


_KINDS: dict[str, tuple[str, type[BaseModel]]] = {
    "ExporterScraperConfig": (KRATEO_API_VERSION, ExporterScraperConfig),
    "DatabaseConfig": (KRATEO_API_VERSION, DatabaseConfig),
    "Secret": ("v1", Secret),
    **{kind: (KRATEO_API_VERSION, IgnoredDocument) for kind in IGNORED_KINDS},
}


@dataclass(frozen=True)
class KrateoConfig:
    """Every document of a pipeline configuration, by kind, in file order."""

    exporters: tuple[ExporterScraperConfig, ...]
    databases: tuple[DatabaseConfig, ...]
    secrets: tuple[Secret, ...]
    ignored: tuple[str, ...]
    """``Kind namespace/name`` of each ignored document."""

    def database(self, ref: ObjectRef, namespace: str) -> DatabaseConfig | None:
        """The DatabaseConfig named by ``ref`` (its namespace defaulting to ``namespace``), if any."""
        wanted = (ref.namespace or namespace, ref.name)
        return next((d for d in self.databases if (d.metadata.namespace, d.metadata.name) == wanted), None)


def load_config(paths: Iterable[Path]) -> KrateoConfig:
    """Read and validate the documents of every file in ``paths`` (multi-document YAML).

    Raises InvalidInput naming the file, the 1-based document index and the field for an unreadable file, an
    unknown kind or apiVersion, a field that does not validate, a duplicate ExporterScraperConfig or a
    ``scraperDatabaseConfigRef`` that names no DatabaseConfig.
    """
    documents: list[tuple[str, BaseModel]] = []
    for path in paths:
        documents.extend(_read_file(path))
    if not any(isinstance(d, ExporterScraperConfig) for _, d in documents):
        raise InvalidInput("--config: no ExporterScraperConfig document in the configuration")
    config = KrateoConfig(
        exporters=tuple(d for _, d in documents if isinstance(d, ExporterScraperConfig)),
        databases=tuple(d for _, d in documents if isinstance(d, DatabaseConfig)),
        secrets=tuple(d for _, d in documents if isinstance(d, Secret)),
        ignored=tuple(
            f"{d.kind} {d.metadata.namespace}/{d.metadata.name}" for _, d in documents if isinstance(d, IgnoredDocument)
        ),
    )
    _check_references(config, {id(d): where for where, d in documents})
    return config


def _read_file(path: Path) -> list[tuple[str, BaseModel]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"--config: cannot read {path}: {exc.strerror or exc}") from exc
    try:
        raw = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise InvalidInput(f"--config: {path} is not valid YAML: {exc}") from exc
    parsed: list[tuple[str, BaseModel]] = []
    for index, document in enumerate(raw, start=1):
        if document is None:
            continue
        where = f"{path} document {index}"
        parsed.append((where, _parse_document(document, where)))
    return parsed


def _parse_document(document: object, where: str) -> BaseModel:
    if not isinstance(document, dict):
        raise InvalidInput(f"{where}: a document must be a mapping with apiVersion and kind")
    kind = document.get("kind")
    if kind not in _KINDS:
        allowed = ", ".join(_KINDS)
        raise InvalidInput(f"{where}: kind: {kind!r} is not supported; use one of {allowed}")
    api_version, model = _KINDS[kind]
    if document.get("apiVersion") != api_version:
        raise InvalidInput(
            f"{where} ({kind}): apiVersion: {document.get('apiVersion')!r} is not supported; use {api_version}"
        )
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise InvalidInput(f"{where} ({kind}): {_describe(exc)}") from exc


def _describe(error: ValidationError) -> str:
    """The first validation problems as ``field.path: message``."""
    parts = []
    for problem in error.errors()[:3]:
        location = ".".join(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


def _check_references(config: KrateoConfig, where: Mapping[int, str]) -> None:
    seen: set[str] = set()
    for exporter in config.exporters:
        if exporter.key in seen:
            raise InvalidInput(f"{where[id(exporter)]}: ExporterScraperConfig {exporter.key} is defined twice")
        seen.add(exporter.key)
        ref = exporter.spec.scraperConfig.scraperDatabaseConfigRef
        if config.database(ref, exporter.metadata.namespace) is None:
            namespace = ref.namespace or exporter.metadata.namespace
            raise InvalidInput(
                f"{where[id(exporter)]} (ExporterScraperConfig {exporter.key}): "
                f"spec.scraperConfig.scraperDatabaseConfigRef: no DatabaseConfig {namespace}/{ref.name} "
                "in the configuration"
            )
