"""Filter semantics: each case runs the compiled SQL on a hand-written DuckDB table and checks the row ids
written by hand, then checks that the Python evaluator agrees row by row."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import duckdb
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kubetally.domain.filters import (
    ALLOCATION_FIELDS,
    ASSET_FIELDS,
    And,
    Comparison,
    FieldKind,
    Filter,
    FilterColumns,
    Op,
    Or,
    compile_filter,
    matches,
    parse_filter,
)
from kubetally.errors import InvalidFilter

TABLE = """
CREATE TABLE t (
    id INTEGER, cluster VARCHAR, node VARCHAR, namespace VARCHAR, pod VARCHAR, container VARCHAR,
    controller VARCHAR, controller_kind VARCHAR, provider_id VARCHAR, services VARCHAR[],
    labels MAP(VARCHAR, VARCHAR), annotations MAP(VARCHAR, VARCHAR),
    namespace_labels MAP(VARCHAR, VARCHAR), namespace_annotations MAP(VARCHAR, VARCHAR)
);
INSERT INTO t VALUES
 (1, 'prod', 'n1', 'kube-system', 'coredns-abc', 'coredns', 'coredns', 'deployment', 'gce://p/n1',
  ['kube-dns'], MAP {'k8s-app': 'kube-dns', 'app.kubernetes.io/name': 'coredns'}, MAP {},
  MAP {'tier': 'system'}, MAP {}),
 (2, 'prod', 'n1', 'api', 'api-7f9', 'api', 'api', 'deployment', 'gce://p/n1',
  ['api', 'api-internal'], MAP {'app': 'api', 'team': 'payments'}, MAP {'owner': 'alice'},
  MAP {'tier': 'app'}, MAP {'contact': 'ops'}),
 (3, 'prod', 'n2', 'api', 'api-worker-1', 'worker', 'api-worker', 'statefulset', 'gce://p/n2',
  [], MAP {'app': 'worker', 'team': 'payments'}, MAP {}, MAP {'tier': 'app'}, MAP {'contact': 'ops'}),
 (4, 'dev', 'n3', 'monitoring', 'prometheus-0', 'prometheus', 'prometheus', 'StatefulSet', 'aws:///i-3',
  ['prometheus'], MAP {'app': 'prometheus', 'app_kubernetes_io_name': 'prometheus'},
  MAP {'note': 'say "hi"'}, NULL, NULL),
 (5, 'dev', 'n3', 'web', 'web-frontend', 'nginx', NULL, NULL, 'aws:///i-3', NULL, NULL, NULL, NULL, NULL),
 (6, 'dev', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"""

COLUMNS = FilterColumns.for_allocations(allocations="t", pods="t")


@cache
def connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(TABLE)
    return con


@cache
def rows() -> tuple[tuple[int, Mapping[str, object]], ...]:
    """The table's rows keyed by filter field, as :func:`matches` expects."""
    result = connection().execute(
        "SELECT id, cluster, node, namespace, pod, container, controller, controller_kind, provider_id, "
        "services, labels, annotations, namespace_labels, namespace_annotations FROM t ORDER BY id"
    )
    fields = (
        *("cluster", "node", "namespace", "pod", "container", "controllerName", "controllerKind"),
        *("providerID", "services", "label", "annotation", "namespaceLabel", "namespaceAnnotation"),
    )
    return tuple((row[0], dict(zip(fields, row[1:], strict=True))) for row in result.fetchall())


def sql_ids(filter_: Filter) -> set[int]:
    fragment = compile_filter(filter_, COLUMNS)
    found = connection().execute(f"SELECT id FROM t WHERE {fragment.sql}", list(fragment.params)).fetchall()
    return {row[0] for row in found}


def python_ids(filter_: Filter) -> set[int]:
    return {row_id for row_id, row in rows() if matches(filter_, row)}


CASES: list[tuple[str, set[int]]] = [
    # equals, several values, missing values compare as ""
    ('namespace:"api"', {2, 3}),
    ('namespace:"api","monitoring"', {2, 3, 4}),
    ('namespace!:"kube-system","monitoring"', {2, 3, 5, 6}),
    ('namespace:""', {6}),
    ('namespace!:""', {1, 2, 3, 4, 5}),
    ('cluster:"prod"', {1, 2, 3}),
    ('node:"n3"', {4, 5}),
    ('container:"nginx"', {5}),
    ('controllerName:"api"', {2}),
    ('controllerKind:"StatefulSet"', {3, 4}),
    ('controllerKind:""', {5, 6}),
    # controllerKind and controllerName ignore case (row 4 keeps an older release's spelling); others do not
    ('controllerKind:"deployment"', {1, 2}),
    ('controllerKind:"Deployment"', {1, 2}),
    ('controllerKind:"STATEFULSET"', {3, 4}),
    ('controllerKind!:"deployment"', {3, 4, 5, 6}),
    ('controllerKind~:"SET"', {3, 4}),
    ('controllerKind<~:"Stateful"', {3, 4}),
    ('controllerName:"API"', {2}),
    ('controllerName<~:"Api-"', {3}),
    ('controllerName~>:"DNS"', {1}),
    ('namespace:"API"', set()),
    ('Namespace:"api"', {2, 3}),
    # contains, starts with, ends with, and their negations
    ('pod~:"api"', {2, 3}),
    ('pod!~:"api"', {1, 4, 5, 6}),
    ('container~:"o"', {1, 3, 4}),
    ('pod<~:"api-"', {2, 3}),
    ('pod<~:"api-w","web"', {3, 5}),
    ('pod!<~:"api-"', {1, 4, 5, 6}),
    ('providerID<~:"gce://"', {1, 2, 3}),
    ('pod~>:"-0"', {4}),
    ('pod!~>:"-0","abc"', {2, 3, 5, 6}),
    # list field: element equality, element prefix / suffix
    ('services:"api"', {2}),
    ('services~:"api-internal"', {2}),
    ('services~:"api-int"', set()),
    ('services<~:"api"', {2}),
    ('services~>:"dns"', {1}),
    ('services!:"api"', {1, 3, 4, 5, 6}),
    ('services!<~:"prom"', {1, 2, 3, 5, 6}),
    ('services:"kube-dns","prometheus"', {1, 4}),
    # map field with a key
    ('label[app]:"api"', {2}),
    ('label[app]:"api","worker"', {2, 3}),
    ('label[app]!:"api"', {1, 3, 4, 5, 6}),
    ('label[app]:""', {1, 5, 6}),
    ('label[team]~:"pay"', {2, 3}),
    ('label[team]!~:"pay"', {1, 4, 5, 6}),
    ('label[app]<~:"pro"', {4}),
    ('label[app]!<~:"pro"', {1, 2, 3, 5, 6}),
    ('label[app]~>:"er"', {3}),
    ('label[app]!~>:"er"', {1, 2, 4, 5, 6}),
    ('label[app.kubernetes.io/name]:"coredns","prometheus"', {1, 4}),
    ('label["app"]:"api"', {2}),
    ('annotation[owner]:"alice"', {2}),
    ('annotation[note]:"say \\"hi\\""', {4}),
    ('namespaceLabel[tier]:"app"', {2, 3}),
    ('namespaceAnnotation[contact]:"ops"', {2, 3}),
    # map field without a key: key existence (prefix / suffix of a key)
    ('label~:"team"', {2, 3}),
    ('label!~:"team"', {1, 4, 5, 6}),
    ('label<~:"k8s"', {1}),
    ('label~>:"name"', {1, 4}),
    ('label!~>:"name"', {2, 3, 5, 6}),
    ('label!<~:"k8s"', {2, 3, 4, 5, 6}),
    ('label~:"app.kubernetes.io/name"', {1, 4}),
    ('annotation~:"owner","note"', {2, 4}),
    # label aliases
    ('team:"payments"', {2, 3}),
    ('product:"api"', {2}),
    ('owner!:""', set()),
    # the label:key:value shorthand
    ("label:app:api", {2}),
    ("label:app:api,worker", {2, 3}),
    ("label:team!:payments", {1, 4, 5, 6}),
    ('label:app:"prometheus"', {4}),
    ("label:app.kubernetes.io/name:coredns", {1}),
    ("annotation:owner:alice", {2}),
    ("label:app:api|label:app:worker", {2, 3}),
    # combinators, grouping, whitespace
    ('namespace:"api"+container:"api"', {2}),
    ('namespace:"api"|cluster:"dev"', {2, 3, 4, 5, 6}),
    ('namespace:"api"+cluster:"prod"+node:"n2"', {3}),
    ('namespace:"a"|namespace:"web"|pod~:"core"', {1, 5}),
    ('(namespace:"a"|namespace:"api")+node:"n1"', {2}),
    ('(namespace:"api"+node:"n1")|(cluster:"dev"+node:"n3")', {2, 4, 5}),
    ('namespace:"api"+(node:"n1"|node:"n3")', {2}),
    ('((namespace:"api"))', {2, 3}),
    (' namespace : "api" + node:"n2" ', {3}),
    ('label[team]:"payments"+(services:"api"|label[app]<~:"wor")', {2, 3}),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_sql_and_python_select_the_expected_rows(text: str, expected: set[int]) -> None:
    filter_ = parse_filter(text)
    assert filter_ is not None
    assert sql_ids(filter_) == expected
    assert python_ids(filter_) == expected


def test_every_operator_is_covered() -> None:
    used = {op for text, _ in CASES for op in _ops(parse_filter(text))}
    assert used == set(Op)


def _ops(filter_: Filter | None) -> set[Op]:
    if filter_ is None:
        return set()
    if isinstance(filter_, Comparison):
        return {filter_.op}
    return {op for operand in filter_.operands for op in _ops(operand)}


def test_values_are_parameters_never_sql() -> None:
    hostile = "x'); DROP TABLE t; --"
    filter_ = parse_filter(f'namespace:"{hostile}"|label[{hostile}]:"{hostile}"')
    assert filter_ is not None
    fragment = compile_filter(filter_, COLUMNS)
    assert hostile not in fragment.sql
    assert fragment.params.count(hostile) == 3
    assert sql_ids(filter_) == set()
    assert connection().execute("SELECT count(*) FROM t").fetchone() == (6,)


def test_blank_filter_is_none() -> None:
    assert parse_filter("") is None
    assert parse_filter("   ") is None
    assert parse_filter(None) is None


def test_asset_filters() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE s (id INTEGER, cluster VARCHAR, name VARCHAR, type VARCHAR, category VARCHAR, "
        "service VARCHAR, provider_id VARCHAR, labels MAP(VARCHAR, VARCHAR));"
        "INSERT INTO s VALUES (1, 'prod', 'n1', 'Node', 'Compute', 'Kubernetes', 'i-1', MAP {'env': 'prod'}),"
        "(2, 'prod', 'pv-1', 'Disk', 'Storage', 'Kubernetes', 'disk-1', MAP {}),"
        "(3, 'dev', 'n2', 'Node', 'Compute', 'Kubernetes', 'i-2', MAP {'env': 'dev'})"
    )
    filter_ = parse_filter('type:"Node"+label[env]!:"dev"', ASSET_FIELDS)
    assert filter_ is not None
    fragment = compile_filter(filter_, FilterColumns.for_assets("s"))
    assert con.execute(f"SELECT id FROM s WHERE {fragment.sql}", list(fragment.params)).fetchall() == [(1,)]
    unstored = parse_filter('account:"a"', ASSET_FIELDS)
    assert unstored is not None
    with pytest.raises(InvalidFilter, match='filter: field "account" cannot be filtered on here'):
        compile_filter(unstored, FilterColumns.for_assets("s"))


_SCALAR_FIELDS = ["cluster", "node", "namespace", "pod", "container", "controllerName", "controllerKind"]
_MAP_FIELDS = ["label", "annotation", "namespaceLabel"]
_WORDS = ["", "api", "a", "prod", "dev", "n1", "n3", "o", "-0", "kube", "payments", "app", "team", "worker"]


def _comparisons() -> st.SearchStrategy[Comparison]:
    values = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3).map(tuple)
    ops = st.sampled_from(list(Op))
    scalar = st.builds(Comparison, st.sampled_from(_SCALAR_FIELDS), st.just(FieldKind.SCALAR), ops, values)
    keyed = st.builds(
        Comparison,
        st.sampled_from(_MAP_FIELDS),
        st.just(FieldKind.SCALAR),
        ops,
        values,
        st.sampled_from(["app", "team", "owner", "tier", "app.kubernetes.io/name"]),
    )
    listed = st.builds(Comparison, st.just("services"), st.just(FieldKind.LIST), ops, values)
    keys = st.builds(Comparison, st.sampled_from(_MAP_FIELDS), st.just(FieldKind.MAP), ops, values)
    return st.one_of(scalar, keyed, listed, keys)


FILTERS: st.SearchStrategy[Filter] = st.recursive(
    _comparisons(),
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda ops: And(tuple(ops))),
        st.lists(children, min_size=2, max_size=3).map(lambda ops: Or(tuple(ops))),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(FILTERS)
def test_sql_and_python_agree_on_random_filters(filter_: Filter) -> None:
    assert sql_ids(filter_) == python_ids(filter_)


@settings(max_examples=150, deadline=None)
@given(FILTERS)
def test_canonical_text_parses_back_to_the_same_tree(filter_: Filter) -> None:
    assume(not _has_keyless_equality(filter_))
    assert parse_filter(str(filter_), ALLOCATION_FIELDS) == filter_


def _has_keyless_equality(filter_: Filter) -> bool:
    """Keyless ``label:"x"`` is rejected by the parser (it needs a key), so such trees have no text form."""
    if isinstance(filter_, Comparison):
        return filter_.kind is FieldKind.MAP and filter_.op.positive is Op.EQ
    return any(_has_keyless_equality(operand) for operand in filter_.operands)
