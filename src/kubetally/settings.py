"""Settings: built once at the edge (CLI, server) and passed down as plain values.

Precedence, highest first: command-line flags, ``KUBETALLY_*`` environment variables, the YAML file given with
``--config``, defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.errors import InvalidInput, InvalidParameter
from kubetally.sources.prometheus import PrometheusConfig


class ScopedIdentity(BaseModel):
    """What a user or token may see: ``clusters`` and / or ``namespaces`` (all when left out; never empty)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    clusters: tuple[str, ...] | None = Field(default=None, min_length=1)
    namespaces: tuple[str, ...] | None = Field(default=None, min_length=1)


class UserSetting(ScopedIdentity):
    """An HTTP Basic user; ``password_hash`` is ``scrypt$<n>$<r>$<p>$<salt>$<hash>`` (``kubetally hash-password``)."""

    password_hash: SecretStr


class TokenSetting(ScopedIdentity):
    """A bearer API token, stored as the SHA-256 hex digest of the token (tokens are long random strings)."""

    token_sha256: SecretStr


class Settings(BaseSettings):
    """Everything an operator can configure."""

    model_config = SettingsConfigDict(env_prefix="KUBETALLY_", extra="forbid", frozen=True)

    db: Path = Path("kubetally.duckdb")
    """The ledger file."""
    pricing: Path | None = None
    """An OpenCost custom-pricing JSON file (kubetally extensions allowed, see docs/pricing.md)."""
    price_sheet: Path | None = None
    """A CSV of instance type, region, capacity type and $/h."""
    billing_mode: str = "max_request_usage"
    minimum_runtime_seconds: float = 0.0
    charge_reserved_waiting: bool = False

    max_window_days: float = Field(default=400.0, gt=0)
    """The longest window a query to the HTTP API may ask for."""

    auth: Literal["on", "off", "auto"] = "auto"
    """HTTP API authentication: ``auto`` is off when serving on a loopback address and on otherwise."""
    users: tuple[UserSetting, ...] = ()
    """HTTP Basic users (``KUBETALLY_USERS`` takes a JSON list)."""
    tokens: tuple[TokenSetting, ...] = ()
    """Bearer API tokens (``KUBETALLY_TOKENS`` takes a JSON list)."""
    cors_origins: tuple[str, ...] = ()
    """Origins allowed to call the HTTP API from a browser (CORS); none by default. ``*`` is refused."""
    allowed_hosts: tuple[str, ...] = ()
    """Names the server answers as (``Host`` header) besides its bind address; loopback names always when bound
    to loopback; ``*`` for any. Other names get a 403 (DNS rebinding)."""
    session_minutes: float = Field(default=30.0, gt=0, le=24 * 60)
    """How long a UI session token (``POST /session``) lasts after sign-in, in minutes."""
    cache_mib: float = Field(default=96.0, gt=0)
    """Memory the query cache may keep answers in (sized for a 512 MiB pod)."""
    cache_entry_mib: float = Field(default=16.0, gt=0)
    """Answers counted as more than this are answered but not cached."""
    max_query_rows: int = Field(default=25_000, ge=1)
    """The most rows (sets × allocations) one allocation query may ask for; more is a 400."""

    prometheus_url: str | None = None
    """A Prometheus-compatible query API (Prometheus, Thanos, Mimir, VictoriaMetrics), e.g. http://prometheus:9090."""
    prometheus_bearer_token: SecretStr | None = None
    prometheus_basic_auth_user: str | None = None
    prometheus_basic_auth_password: SecretStr | None = None
    prometheus_headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers, e.g. ``{"X-Scope-OrgID": "team-a"}`` for Mimir."""
    prometheus_ca_file: str | None = None
    prometheus_client_cert_file: str | None = None
    prometheus_client_key_file: str | None = None
    prometheus_insecure_skip_verify: bool = False
    prometheus_timeout_seconds: float = 60.0
    prometheus_max_concurrency: int = 4
    prometheus_retries: int = 3
    cluster_label: str | None = "cluster"
    """The label telling clusters apart in Prometheus; empty for a single-cluster Prometheus."""
    cluster_name: str = "default"
    """The cluster's name when Prometheus has no cluster label."""
    scrape_interval_seconds: float | None = None
    """Detected from the data when not given."""

    @field_validator("auth", mode="before")
    @classmethod
    def _yaml_switch(cls, value: object) -> object:
        """YAML reads a bare ``on`` / ``off`` as a boolean."""
        if isinstance(value, bool):
            return "on" if value else "off"
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard_origin(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """The API answers with credentials allowed: ``*`` would let every site read it as the logged-in user."""
        if any(origin.strip() == "*" for origin in value):
            raise ValueError("'*' is refused: the API allows credentials, so list the origins that may call it")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, YamlConfigSettingsSource(settings_cls)

    def policy(self) -> BillingPolicy:
        return BillingPolicy.parse(self.billing_mode, self.minimum_runtime_seconds, self.charge_reserved_waiting)

    def pricebook(self) -> PriceBook:
        return PriceBook.from_files(self.pricing, self.price_sheet)

    def prometheus_config(self) -> PrometheusConfig:
        """The Prometheus source's configuration; InvalidParameter when no URL is configured."""
        if not self.prometheus_url:
            raise InvalidParameter(
                "prometheus_url", "no Prometheus URL given (--prometheus-url or KUBETALLY_PROMETHEUS_URL)"
            )
        token, password = self.prometheus_bearer_token, self.prometheus_basic_auth_password
        return PrometheusConfig(
            url=self.prometheus_url,
            bearer_token=token.get_secret_value() if token else None,
            basic_auth_user=self.prometheus_basic_auth_user,
            basic_auth_password=password.get_secret_value() if password else None,
            headers=dict(self.prometheus_headers),
            ca_file=self.prometheus_ca_file,
            client_cert_file=self.prometheus_client_cert_file,
            client_key_file=self.prometheus_client_key_file,
            insecure_skip_verify=self.prometheus_insecure_skip_verify,
            timeout_seconds=self.prometheus_timeout_seconds,
            max_concurrency=self.prometheus_max_concurrency,
            retries=self.prometheus_retries,
            cluster_label=self.cluster_label or None,
            cluster_name=self.cluster_name,
            scrape_interval_seconds=self.scrape_interval_seconds,
        )


def load_settings(config_file: Path | None = None, **flags: Any) -> Settings:
    """Settings from flags (``None`` means not given), the environment and an optional YAML file, in that order."""
    settings_cls: type[Settings] = Settings
    if config_file is not None:
        _check_config_file(config_file)
        config = SettingsConfigDict(**Settings.model_config)
        config["yaml_file"] = config_file
        settings_cls = type("FileSettings", (Settings,), {"model_config": config, "__doc__": Settings.__doc__})
    try:
        return settings_cls(**{key: value for key, value in flags.items() if value is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}" for error in exc.errors()
        )
        raise InvalidInput(f"invalid settings: {problems}") from exc


def _check_config_file(config_file: Path) -> None:
    """Fail with one clear line when the config file is unreadable, not YAML, or not a mapping."""
    try:
        loaded = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read config file {config_file}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise InvalidInput(f"config file {config_file} is not valid YAML: {exc}") from exc
    if loaded is not None and not isinstance(loaded, dict):
        raise InvalidInput(f"config file {config_file} must hold a mapping of settings")
