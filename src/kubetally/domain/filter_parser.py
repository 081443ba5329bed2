"""A recursive-descent parser for OpenCost's filter language v2 (plus the ``label:app:frontend`` shorthand).

Grammar (positions in error messages are 0-based character offsets into the filter text)::

    filter     := element (('+' | '|') element)*    one combinator per level; parenthesise to mix
    element    := comparison | '(' filter ')'
    comparison := key op value (',' value)*
    key        := field | mapfield '[' name ']' | mapfield ':' name   (the last is the shorthand)
    op         := ':' | '!:' | '~:' | '!~:' | '<~:' | '!<~:' | '~>:' | '!~>:'
    value      := '"' chars '"'   (backslash escapes \\" and \\\\; in the shorthand, also a bare word)
"""

from __future__ import annotations

import re

from kubetally.domain.filter_ast import (
    OPERATORS_LONGEST_FIRST,
    And,
    Comparison,
    FieldKind,
    FieldSet,
    FieldSpec,
    Filter,
    Op,
    Or,
)
from kubetally.errors import InvalidFilter

_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_BARE = re.compile(r"[A-Za-z0-9._/\-]+")
_OPERATORS = ", ".join(op.value for op in Op)
_COMBINATORS = frozenset({"+", "|"})


class _Parser:
    """Parses one filter text; ``pos`` is the offset of the next unread character."""

    def __init__(self, text: str, fields: FieldSet) -> None:
        self.text = text
        self.fields = fields
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def found(self) -> str:
        """What stands at the current position, for error messages."""
        return repr(self.text[self.pos]) if self.pos < len(self.text) else "end of filter"

    def parse(self) -> Filter:
        result = self.group(depth=0)
        if self.peek():
            if self.peek() == ")":
                raise InvalidFilter(f"unexpected ')' at {self.pos} (no matching '(')")
            raise InvalidFilter(f"unexpected {self.found()} at {self.pos} (expected '+', '|' or end of filter)")
        return result

    def group(self, depth: int) -> Filter:
        operands = [self.element(depth)]
        combinator = ""
        while (char := self.peek()) in _COMBINATORS:
            if combinator and char != combinator:
                raise InvalidFilter(
                    f"cannot mix '+' and '|' without parentheses at {self.pos} (write e.g. (a|b)+c or a|(b+c))"
                )
            combinator = char
            self.pos += 1
            operands.append(self.element(depth))
        if len(operands) == 1:
            return operands[0]
        return And(tuple(operands)) if combinator == "+" else Or(tuple(operands))

    def element(self, depth: int) -> Filter:
        if self.peek() == "(":
            opened = self.pos
            self.pos += 1
            inner = self.group(depth + 1)
            if self.peek() != ")":
                raise InvalidFilter(f"expected ')' at {self.pos} to close '(' at {opened}, found {self.found()}")
            self.pos += 1
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        self.skip_space()
        start = self.pos
        match = _FIELD.match(self.text, self.pos)
        if match is None:
            raise InvalidFilter(f"expected a field name at {self.pos}, found {self.found()}")
        name = match.group(0)
        self.pos = match.end()
        alias = self.fields.alias(name)
        spec = self.fields.lookup(name)
        if alias is not None and spec is None:
            return self.finish(FieldSpec("label", FieldKind.MAP), alias, shorthand=False)
        if spec is None:
            raise InvalidFilter(f'unknown field "{name}" at {start} (expected one of {self.fields.describe()})')
        key, shorthand = self.key(spec)
        return self.finish(spec, key, shorthand)

    def key(self, spec: FieldSpec) -> tuple[str | None, bool]:
        """The ``[name]`` or shorthand ``:name`` after a field; ``(None, False)`` when there is none."""
        if self.pos < len(self.text) and self.text[self.pos] == "[":
            if spec.kind is not FieldKind.MAP:
                raise InvalidFilter(f'field "{spec.name}" takes no [key] at {self.pos}')
            self.pos += 1
            if self.pos < len(self.text) and self.text[self.pos] == '"':
                key = self.string()
            else:
                close = self.text.find("]", self.pos)
                if close < 0:
                    raise InvalidFilter(f"missing ']' after {spec.name}[ at {self.pos}")
                key = self.text[self.pos : close].strip()
                self.pos = close
            if not key:
                raise InvalidFilter(f"empty key in {spec.name}[] at {self.pos}")
            if self.pos >= len(self.text) or self.text[self.pos] != "]":
                raise InvalidFilter(f"missing ']' after {spec.name}[ at {self.pos}")
            self.pos += 1
            return key, False
        if spec.kind is FieldKind.MAP and self.text.startswith(":", self.pos):
            match = _BARE.match(self.text, self.pos + 1)
            if match is not None:
                self.pos = match.end()
                return match.group(0), True
        return None, False

    def finish(self, spec: FieldSpec, key: str | None, shorthand: bool) -> Comparison:
        op = self.operator(spec, key)
        if spec.kind is FieldKind.MAP and key is None and op.positive is Op.EQ:
            raise InvalidFilter(
                f'field "{spec.name}" needs a key for "{op.value}" at {self.pos} '
                f'(e.g. {spec.name}[app]:"x"; {spec.name}~:"app" tests that the key exists)'
            )
        values = [self.value(shorthand)]
        while self.peek() == ",":
            self.pos += 1
            values.append(self.value(shorthand))
        kind = FieldKind.SCALAR if key is not None else spec.kind
        return Comparison(spec.name, kind, op, tuple(values), key)

    def operator(self, spec: FieldSpec, key: str | None) -> Op:
        self.skip_space()
        for op in OPERATORS_LONGEST_FIRST:
            if self.text.startswith(op.value, self.pos):
                self.pos += len(op.value)
                return op
        shown = f"{spec.name}[{key}]" if key is not None else spec.name
        raise InvalidFilter(
            f'expected operator after field "{shown}" at {self.pos}, found {self.found()} (one of {_OPERATORS})'
        )

    def value(self, shorthand: bool) -> str:
        self.skip_space()
        if self.pos < len(self.text) and self.text[self.pos] == '"':
            return self.string()
        if shorthand and (match := _BARE.match(self.text, self.pos)) is not None:
            self.pos = match.end()
            return match.group(0)
        raise InvalidFilter(f"expected a double-quoted value at {self.pos}, found {self.found()}")

    def string(self) -> str:
        """A double-quoted string starting at ``pos``; leaves ``pos`` after the closing quote."""
        opened = self.pos
        self.pos += 1
        chars: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(chars)
            if char == "\\":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                if not escaped:
                    break
                if escaped not in ('"', "\\"):
                    raise InvalidFilter(f'invalid escape "\\{escaped}" at {self.pos} (only \\" and \\\\ are allowed)')
                chars.append(escaped)
                self.pos += 2
                continue
            chars.append(char)
            self.pos += 1
        raise InvalidFilter(f"unterminated string at {opened}")


MAX_FILTER_CHARS = 4096
"""The longest filter text accepted."""
MAX_FILTER_DEPTH = 32
"""The deepest nesting of parentheses accepted (checked before parsing, so the parser's recursion stays shallow)."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``(`` outside quoted values."""
    depth = deepest = 0
    quoted = escaped = False
    for char in text:
        if quoted:
            escaped, quoted = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            quoted = True
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def parse(text: str, fields: FieldSet) -> Filter:
    """Parse a non-empty filter text (see the module grammar); longer than :data:`MAX_FILTER_CHARS` or nested
    deeper than :data:`MAX_FILTER_DEPTH` is refused."""
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidFilter(f"the filter is {len(text)} characters long; at most {MAX_FILTER_CHARS} are allowed")
    if nesting_depth(text) > MAX_FILTER_DEPTH:
        raise InvalidFilter(f"the filter nests parentheses deeper than {MAX_FILTER_DEPTH} levels")
    return _Parser(text, fields).parse()
