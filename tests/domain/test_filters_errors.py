"""Filter parsing: the tree it builds, quoting, and the exact message of every malformed filter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubetally.domain.filters import (
    ALLOCATION_FIELDS,
    ASSET_FIELDS,
    And,
    Comparison,
    FieldKind,
    FieldSet,
    Op,
    Or,
    parse_filter,
    quote,
)
from kubetally.errors import InvalidFilter

OPERATORS = ":, !:, ~:, !~:, <~:, !<~:, ~>:, !~>:"


def ns(value: str, op: Op = Op.EQ) -> Comparison:
    return Comparison("namespace", FieldKind.SCALAR, op, (value,))


def test_tree_shapes() -> None:
    assert parse_filter('namespace:"a"') == ns("a")
    assert parse_filter('namespace:"a"+namespace:"b"+namespace:"c"') == And((ns("a"), ns("b"), ns("c")))
    assert parse_filter('(namespace:"a"|namespace:"b")+namespace:"c"') == And((Or((ns("a"), ns("b"))), ns("c")))
    assert parse_filter('namespace:"a"|(namespace:"b"+namespace:"c")') == Or((ns("a"), And((ns("b"), ns("c")))))
    assert parse_filter('namespace!:"x","y"') == Comparison("namespace", FieldKind.SCALAR, Op.NOT_EQ, ("x", "y"))


def test_keys_aliases_and_shorthand_build_the_same_comparison() -> None:
    expected = Comparison("label", FieldKind.SCALAR, Op.EQ, ("frontend",), "app")
    assert parse_filter('label[app]:"frontend"') == expected
    assert parse_filter('label["app"]:"frontend"') == expected
    assert parse_filter("label:app:frontend") == expected
    assert parse_filter('label:app:"frontend"') == expected
    assert parse_filter('product:"frontend"') == expected
    assert parse_filter('label~:"app"') == Comparison("label", FieldKind.MAP, Op.CONTAINS, ("app",))
    assert parse_filter('services:"a"') == Comparison("services", FieldKind.LIST, Op.EQ, ("a",))


def test_label_aliases_come_from_the_field_set() -> None:
    fields = FieldSet("custom", ALLOCATION_FIELDS.fields, {"squad": "team"})
    assert parse_filter('squad:"x"', fields) == Comparison("label", FieldKind.SCALAR, Op.EQ, ("x",), "team")


def test_escapes_in_strings() -> None:
    assert parse_filter(r'namespace:"a\"b\\c"') == ns('a"b\\c')
    assert parse_filter('namespace:"with space, comma + plus | bar (paren)"') == ns(
        "with space, comma + plus | bar (paren)"
    )


@given(st.text(max_size=40))
def test_quoted_strings_round_trip(value: str) -> None:
    assert parse_filter(f"namespace:{quote(value)}") == ns(value)
    assert parse_filter(f"label[app]!~:{quote(value)},{quote(value)}") == Comparison(
        "label", FieldKind.SCALAR, Op.NOT_CONTAINS, (value, value), "app"
    )


ALLOCATION_NAMES = (
    "cluster, node, namespace, controllerName, controllerKind, container, pod, providerID, services, "
    "label[..], annotation[..], namespaceLabel[..], namespaceAnnotation[..], department, environment, owner, "
    "product, team"
)

MALFORMED = [
    ('namepace:"a"', f'unknown field "namepace" at 0 (expected one of {ALLOCATION_NAMES})'),
    ('cluster:"a"+nod:"b"', f'unknown field "nod" at 12 (expected one of {ALLOCATION_NAMES})'),
    ('namespace:"api', "unterminated string at 10"),
    ('namespace:"a\\', "unterminated string at 10"),
    ('namespace"api"', f'expected operator after field "namespace" at 9, found \'"\' (one of {OPERATORS})'),
    ('namespace=="a"', f"expected operator after field \"namespace\" at 9, found '=' (one of {OPERATORS})"),
    ("namespace", f'expected operator after field "namespace" at 9, found end of filter (one of {OPERATORS})'),
    ("label:app", f'expected operator after field "label[app]" at 9, found end of filter (one of {OPERATORS})'),
    ("namespace:api", "expected a double-quoted value at 10, found 'a'"),
    ('namespace:"a",', "expected a double-quoted value at 14, found end of filter"),
    (
        'namespace:"a"+cluster:"b"|node:"c"',
        "cannot mix '+' and '|' without parentheses at 25 (write e.g. (a|b)+c or a|(b+c))",
    ),
    (
        'namespace:"a"|cluster:"b"+node:"c"',
        "cannot mix '+' and '|' without parentheses at 25 (write e.g. (a|b)+c or a|(b+c))",
    ),
    ('(namespace:"a"', "expected ')' at 14 to close '(' at 0, found end of filter"),
    ('((namespace:"a")', "expected ')' at 16 to close '(' at 0, found end of filter"),
    ('namespace:"a")', "unexpected ')' at 13 (no matching '(')"),
    ('namespace:"a" cluster:"b"', "unexpected 'c' at 14 (expected '+', '|' or end of filter)"),
    ('label[app:"x"', "missing ']' after label[ at 6"),
    ('label[]:"x"', "empty key in label[] at 6"),
    ('label[""]:"x"', "empty key in label[] at 8"),
    ('namespace[app]:"x"', 'field "namespace" takes no [key] at 9'),
    (
        'label:"x"',
        'field "label" needs a key for ":" at 6 (e.g. label[app]:"x"; label~:"app" tests that the key exists)',
    ),
    (
        'annotation!:"x"',
        'field "annotation" needs a key for "!:" at 12 '
        '(e.g. annotation[app]:"x"; annotation~:"app" tests that the key exists)',
    ),
    ('namespace:"a\\q"', 'invalid escape "\\q" at 12 (only \\" and \\\\ are allowed)'),
    ('+namespace:"a"', "expected a field name at 0, found '+'"),
    ('namespace:"a"+', "expected a field name at 14, found end of filter"),
    ("()", "expected a field name at 1, found ')'"),
    ('1namespace:"a"', "expected a field name at 0, found '1'"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
def test_malformed_filters_say_where_and_what(text: str, message: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text)
    assert str(caught.value) == f"filter: {message}"
    assert caught.value.parameter == "filter"
    assert caught.value.status == 400


def test_asset_fields_are_their_own_set() -> None:
    assert parse_filter('type:"Node"', ASSET_FIELDS) == Comparison("type", FieldKind.SCALAR, Op.EQ, ("Node",))
    with pytest.raises(InvalidFilter) as caught:
        parse_filter('namespace:"x"', ASSET_FIELDS)
    assert str(caught.value) == (
        'filter: unknown field "namespace" at 0 (expected one of cluster, name, type, category, provider, '
        "providerID, account, project, service, label[..])"
    )
    with pytest.raises(InvalidFilter, match='unknown field "team"'):
        parse_filter('team:"x"', ASSET_FIELDS)


@given(st.text(max_size=30))
def test_arbitrary_text_parses_or_raises_invalid_filter(text: str) -> None:
    try:
        parse_filter(text)
    except InvalidFilter as error:
        assert str(error).startswith("filter: ")
