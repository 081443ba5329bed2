"""Aggregation keys: every key of the compatibility table, multi-key lists, label normalisation, bad keys."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubetally.domain import names
from kubetally.domain.aggregation import AggregateKey, KeySource, name_sql, parse_aggregate, value_sql
from kubetally.domain.names import label_lookup_keys, sanitize_label_name
from kubetally.errors import InvalidAggregate

SIMPLE = [
    ("cluster", "cluster", KeySource.COLUMN, "cluster", None),
    ("node", "node", KeySource.COLUMN, "node", None),
    ("namespace", "namespace", KeySource.COLUMN, "namespace", None),
    ("controllerKind", "controllerKind", KeySource.COLUMN, "controller_kind", None),
    ("controller", "controller", KeySource.CONTROLLER, "controller", None),
    ("pod", "pod", KeySource.COLUMN, "pod", None),
    ("container", "container", KeySource.COLUMN, "container", None),
    ("service", "service", KeySource.FIRST_OF_LIST, "services", None),
    ("providerID", "providerID", KeySource.COLUMN, "provider_id", None),
    ("deployment", "deployment", KeySource.CONTROLLER_OF_KIND, "controller", "deployment"),
    ("statefulset", "statefulset", KeySource.CONTROLLER_OF_KIND, "controller", "statefulset"),
    ("daemonset", "daemonset", KeySource.CONTROLLER_OF_KIND, "controller", "daemonset"),
    ("job", "job", KeySource.CONTROLLER_OF_KIND, "controller", "job"),
    ("Deployment", "deployment", KeySource.CONTROLLER_OF_KIND, "controller", "deployment"),
    ("cronjob", "cronjob", KeySource.COLUMN, "cronjob", None),
    ("ControllerKind", "controllerKind", KeySource.COLUMN, "controller_kind", None),
    ("NAMESPACE", "namespace", KeySource.COLUMN, "namespace", None),
    ("providerid", "providerID", KeySource.COLUMN, "provider_id", None),
]


@pytest.mark.parametrize(("text", "name", "source", "column", "kind"), SIMPLE)
def test_simple_keys(text: str, name: str, source: KeySource, column: str, kind: str | None) -> None:
    (key,) = parse_aggregate(text)
    assert (key.name, key.source, key.column, key.controller_kind) == (name, source, column, kind)


@pytest.mark.parametrize(
    ("text", "name", "label"),
    [
        ("department", "department", "department"),
        ("environment", "environment", "env"),
        ("owner", "owner", "owner"),
        ("product", "product", "app"),
        ("team", "team", "team"),
    ],
)
def test_label_aliases_read_their_default_labels(text: str, name: str, label: str) -> None:
    (key,) = parse_aggregate(text)
    assert (key.name, key.source, key.column, key.label) == (name, KeySource.MAP, "labels", label)


def test_label_aliases_are_configurable() -> None:
    (key,) = parse_aggregate("team", label_aliases={"team": "squad"})
    assert key.label == "squad"
    with pytest.raises(InvalidAggregate, match="unknown key 'owner'"):
        parse_aggregate("owner", label_aliases={"team": "squad"})


def test_label_and_annotation_keys() -> None:
    label, annotation = parse_aggregate("label:app.kubernetes.io/name,Annotation:owner")
    assert label == AggregateKey(
        "label:app.kubernetes.io/name",
        KeySource.MAP,
        "labels",
        column="labels",
        label="app.kubernetes.io/name",
        lookup_keys=("app.kubernetes.io/name", "app_kubernetes_io_name"),
    )
    assert (annotation.name, annotation.column, annotation.lookup_keys) == (
        "annotation:owner",
        "annotations",
        ("owner",),
    )
    assert label.needs_pods and annotation.needs_pods


def test_multi_key_keeps_order() -> None:
    keys = parse_aggregate(" cluster , namespace,label:app ")
    assert [key.name for key in keys] == ["cluster", "namespace", "label:app"]
    assert [key.needs_pods for key in keys] == [False, False, True]


def test_empty_means_unaggregated_and_all_means_one_aggregate() -> None:
    assert parse_aggregate("") == ()
    assert parse_aggregate(None) == ()
    assert parse_aggregate("  ") == ()
    (key,) = parse_aggregate("ALL")
    assert key.source is KeySource.ALL
    assert key.constant == names.ALL
    assert not key.needs_pods


BAD = [
    ("namepace", "aggregate: unknown key 'namepace'; accepted: cluster, node, namespace, controllerKind"),
    ("cluster,", "aggregate: empty key; accepted: cluster"),
    ("cluster,,pod", "aggregate: empty key; accepted: cluster"),
    ("label:", "aggregate: 'label:' needs a name after 'label:' (e.g. label:app)"),
    ("annotation: ", "aggregate: 'annotation:' needs a name after 'annotation:' (e.g. annotation:app)"),
    ("label", "aggregate: unknown key 'label'; accepted:"),
    ("namespace,Namespace", "aggregate: key 'namespace' is repeated in 'namespace,Namespace'"),
    ("cluster,all", "aggregate: unknown key 'all'; accepted:"),
    ("tag:app", "aggregate: unknown key 'tag:app'; accepted:"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_aggregates(text: str, message: str) -> None:
    with pytest.raises(InvalidAggregate) as caught:
        parse_aggregate(text)
    assert str(caught.value).startswith(message)
    assert caught.value.parameter == "aggregate"


def test_unknown_key_message_lists_every_accepted_key() -> None:
    with pytest.raises(InvalidAggregate) as caught:
        parse_aggregate("x")
    for accepted in ("service", "deployment", "team", "label:<name>", "annotation:<name>", "all"):
        assert accepted in str(caught.value)


@pytest.mark.parametrize(
    ("name", "sanitized"),
    [
        ("app", "app"),
        ("app.kubernetes.io/name", "app_kubernetes_io_name"),
        ("team-name", "team_name"),
        ("9lives", "_9lives"),
        ("ünïcode", "_n_code"),
    ],
)
def test_sanitize_label_name(name: str, sanitized: str) -> None:
    assert sanitize_label_name(name) == sanitized


@given(st.text(min_size=1, max_size=30))
def test_sanitized_names_are_prometheus_label_names(name: str) -> None:
    sanitized = sanitize_label_name(name)
    assert sanitized[0].isalpha() or sanitized[0] == "_"
    assert all(char.isascii() and (char.isalnum() or char == "_") for char in sanitized)
    assert sanitize_label_name(sanitized) == sanitized
    assert label_lookup_keys(name)[-1] == sanitized


def test_names_helpers() -> None:
    assert names.aggregate_name(["prod", None, ""]) == "prod/__unallocated__/__unallocated__"
    assert names.unaggregated_name("c", "n", "ns", "p", "ctr") == "c/n/ns/p/ctr"
    assert names.idle_name() == "__idle__"
    assert names.idle_name("c") == "c/__idle__"
    assert names.idle_name("c", "n") == "c/n/__idle__"
    assert names.controller_value("deployment", "api") == "deployment:api"
    assert names.controller_value(None, None) is None
    assert names.is_special("c/__idle__") and names.is_special("__unmounted__")
    assert not names.is_special("kube-system")
    assert names.asset_name(["gcp", None, "p", "Compute"]) == "gcp//p/Compute"


AGG_TABLE = """
CREATE TABLE r (id INTEGER, cluster VARCHAR, namespace VARCHAR, controller VARCHAR, controller_kind VARCHAR,
                cronjob VARCHAR, services VARCHAR[], labels MAP(VARCHAR, VARCHAR));
INSERT INTO r VALUES
 (1, 'prod', 'api', 'api', 'deployment', NULL, ['api', 'x'], MAP {'app.kubernetes.io/name': 'web', 'team': ''}),
 (2, 'prod', NULL, NULL, NULL, NULL, [], NULL),
 (3, 'dev', '', 'cron', 'job', 'cron', NULL, MAP {'app_kubernetes_io_name': 'batch'}),
 (4, 'dev', 'jobs', 'solo', NULL, NULL, ['s'], MAP {});
"""
AGG_COLUMNS = {name: f"r.{name}" for name in ("cluster", "namespace", "controller", "controller_kind", "cronjob")}
AGG_COLUMNS |= {"services": "r.services", "labels": "r.labels"}


def _names(aggregate: str) -> list[str]:
    con = duckdb.connect()
    con.execute(AGG_TABLE)
    fragment = name_sql(parse_aggregate(aggregate), AGG_COLUMNS)
    found = con.execute(f"SELECT {fragment.sql} FROM r ORDER BY id", list(fragment.params)).fetchall()
    return [row[0] for row in found]


def test_name_sql_joins_values_and_fills_missing_ones() -> None:
    u = "__unallocated__"
    assert _names("cluster,namespace,controller,service,label:app.kubernetes.io/name,team,cronjob,deployment") == [
        f"prod/api/deployment:api/api/web/{u}/{u}/api",
        f"prod/{u}/{u}/{u}/{u}/{u}/{u}/{u}",
        f"dev/{u}/job:cron/{u}/batch/{u}/cron/{u}",
        f"dev/jobs/solo/s/{u}/{u}/{u}/{u}",
    ]
    assert _names("all") == ["__all__"] * 4
    assert _names("controllerKind") == ["deployment", u, "job", u]
    assert _names("job,cronjob") == [f"{u}/{u}", f"{u}/{u}", "cron/cron", f"{u}/{u}"]


def test_sql_for_unavailable_columns_or_no_keys_is_rejected() -> None:
    with pytest.raises(InvalidAggregate, match="aggregate: key 'pod' cannot be aggregated on here"):
        value_sql(parse_aggregate("pod")[0], AGG_COLUMNS)
    with pytest.raises(InvalidAggregate, match="aggregate: no aggregation keys to name"):
        name_sql((), AGG_COLUMNS)
