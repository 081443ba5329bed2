"""The filter language's vocabulary: operators, fields, and the immutable syntax tree a filter parses into."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from kubetally.domain.names import DEFAULT_LABEL_ALIASES, label_lookup_keys


class Op(StrEnum):
    """Comparison operators, spelled as in OpenCost's filter language v2."""

    EQ = ":"
    NOT_EQ = "!:"
    CONTAINS = "~:"
    NOT_CONTAINS = "!~:"
    PREFIX = "<~:"
    NOT_PREFIX = "!<~:"
    SUFFIX = "~>:"
    NOT_SUFFIX = "!~>:"

    @property
    def negated(self) -> bool:
        return self.value.startswith("!")

    @property
    def positive(self) -> Op:
        """The operator without its negation (``!~:`` → ``~:``)."""
        return Op(self.value.removeprefix("!"))


OPERATORS_LONGEST_FIRST = tuple(sorted(Op, key=lambda op: -len(op.value)))


class FieldKind(StrEnum):
    """The shape of a field's value."""

    SCALAR = "scalar"
    """A string (a missing value compares as the empty string)."""
    LIST = "list"
    """A list of strings: ``:`` and ``~:`` match when an element equals the value, ``<~:`` / ``~>:`` when an
    element starts / ends with it."""
    MAP = "map"
    """A string map: ``field[key]`` is a scalar (missing key → empty string); without a key, ``~:``, ``<~:`` and
    ``~>:`` test whether a key equal to / starting with / ending with the value exists."""


@dataclass(frozen=True)
class FieldSpec:
    """A filterable field: its canonical name and value shape."""

    name: str
    kind: FieldKind


@dataclass(frozen=True)
class FieldSet:
    """The fields one kind of query can filter on, plus label aliases (``team`` → ``label[team]``)."""

    name: str
    fields: tuple[FieldSpec, ...]
    label_aliases: Mapping[str, str]

    def lookup(self, name: str) -> FieldSpec | None:
        """The field named ``name`` (case-insensitive)."""
        lowered = name.lower()
        return next((spec for spec in self.fields if spec.name.lower() == lowered), None)

    def alias(self, name: str) -> str | None:
        """The label an alias field reads, or ``None`` when ``name`` is not an alias."""
        return self.label_aliases.get(name.lower())

    def describe(self) -> str:
        """The accepted field names, for error messages."""
        names = [f"{spec.name}[..]" if spec.kind is FieldKind.MAP else spec.name for spec in self.fields]
        return ", ".join([*names, *self.label_aliases])


def _scalars(*names: str) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec(name, FieldKind.SCALAR) for name in names)


ALLOCATION_FIELDS = FieldSet(
    "allocation",
    (
        *_scalars("cluster", "node", "namespace", "controllerName", "controllerKind", "container", "pod"),
        *_scalars("providerID"),
        FieldSpec("services", FieldKind.LIST),
        FieldSpec("label", FieldKind.MAP),
        FieldSpec("annotation", FieldKind.MAP),
        FieldSpec("namespaceLabel", FieldKind.MAP),
        FieldSpec("namespaceAnnotation", FieldKind.MAP),
    ),
    DEFAULT_LABEL_ALIASES,
)
"""Fields of ``/allocation`` filters (OpenCost's allocation fields, plus namespace labels and annotations)."""

CASE_INSENSITIVE_FIELDS = frozenset({"controllerKind", "controllerName"})
"""Allocation fields compared without regard to case: ``controllerKind:"Deployment"`` matches OpenCost's
``deployment`` (and the ``Deployment`` spelling of older kubetally releases)."""

ASSET_FIELDS = FieldSet(
    "asset",
    (
        *_scalars("cluster", "name", "type", "category", "provider", "providerID", "account", "project"),
        *_scalars("service"),
        FieldSpec("label", FieldKind.MAP),
    ),
    {},
)
"""Fields of ``/assets`` filters (OpenCost's asset fields)."""


@dataclass(frozen=True)
class Comparison:
    """``field[key] op value, value, ...``: true when the comparison holds for any of the values; a negated
    operator is true when the positive one holds for none of them.

    ``key`` is the map key (``label[app]``) and ``lookup_keys`` the map keys tried in order (the key as
    written, then its Prometheus-sanitised form); both are ``None`` / empty for scalar and list fields and for a
    key-existence test on a map field.
    """

    field: str
    kind: FieldKind
    op: Op
    values: tuple[str, ...]
    key: str | None = None

    def __post_init__(self) -> None:
        if self.key is not None and self.kind is not FieldKind.SCALAR:
            raise ValueError(f"{self.field}[{self.key}] reads one value: its kind must be {FieldKind.SCALAR}")

    @property
    def lookup_keys(self) -> tuple[str, ...]:
        return label_lookup_keys(self.key) if self.key is not None else ()

    @property
    def folds_case(self) -> bool:
        """Whether the comparison ignores case (:data:`CASE_INSENSITIVE_FIELDS`)."""
        return self.field in CASE_INSENSITIVE_FIELDS and self.kind is FieldKind.SCALAR

    def __str__(self) -> str:
        key = f"[{self.key}]" if self.key is not None else ""
        return f"{self.field}{key}{self.op.value}{','.join(quote(value) for value in self.values)}"


@dataclass(frozen=True)
class And:
    """True when every operand is true."""

    operands: tuple[Filter, ...]

    def __str__(self) -> str:
        return "+".join(_group(operand) for operand in self.operands)


@dataclass(frozen=True)
class Or:
    """True when any operand is true."""

    operands: tuple[Filter, ...]

    def __str__(self) -> str:
        return "|".join(_group(operand) for operand in self.operands)


Filter = Comparison | And | Or
"""A parsed filter. ``str(filter)`` is canonical filter text that parses back to an equal tree."""


def _group(operand: Filter) -> str:
    return str(operand) if isinstance(operand, Comparison) else f"({operand})"


def quote(value: str) -> str:
    """``value`` as a double-quoted filter string (``\\`` and ``"`` escaped with a backslash)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
