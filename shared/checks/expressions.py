"""Centreon status expressions (`--warning-status='%{used} > %{issue_warning_quota}'`), parsed safely.

A tokenizer and a recursive-descent parser build a small tree; nothing is ever eval'ed. Perl semantics:
numeric operators (== != < > <= >= + - * /) convert strings to their leading number (else 0); eq ne lt gt
le ge compare strings; =~ and !~ match a Perl regex (/.../imsx, m{...}, or a string used as pattern);
&& || ! and the low-precedence and or not. `%{name}` is a variable, also interpolated inside "..." and
'...' strings and regexes. An empty expression is disabled.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import cast

from shared.echo import echo

from .perlre import BoundedPattern, compile_perl
from .result import CheckError, perl_number

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LEADING_NUMBER = re.compile(r"\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_VAR = re.compile(r"%\{(.*?)\}")
_WORD_OPS = {"eq", "ne", "lt", "gt", "le", "ge", "and", "or", "not"}
_SYMBOL_OPS = ("=~", "!~", "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "+", "-", "*", "/")
_CLOSING = {"{": "}", "(": ")", "[": "]", "<": ">"}
# Parentheses and unary operators nest by recursion; beyond this an expression is refused up front (Python's
# own recursion limit would otherwise end the check with a RecursionError).
MAX_DEPTH = 32


def to_number(value: object) -> float | int:
    """Perl numification: numbers as is, strings by their leading number, else 0."""
    if type(value) is int or type(value) is float:  # the common case first (a bool is neither)
        return value
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int | float):
        return value
    if value is None:
        return 0
    m = _LEADING_NUMBER.match(str(value))
    if not m:
        return 0
    text = m.group(1)
    number = float(text)
    return int(number) if re.fullmatch(r"[+-]?[0-9]+", text) else number


def to_string(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, int | float):
        return perl_number(value)
    return str(value)


def truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | float):
        return value != 0
    return value not in ("", "0")


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, var, regex, op, end
    value: object
    pos: int


class _Interpolated:
    """A string or regex source with %{var} parts, resolved at evaluation."""

    def __init__(self, text: str):
        self.parts = _VAR.split(text)  # even indexes: literal text, odd: variable names

    def names(self) -> list[str]:
        return self.parts[1::2]

    def render(self, values: Mapping[str, object]) -> str:
        out = []
        for i, part in enumerate(self.parts):
            out.append(part if i % 2 == 0 else to_string(values.get(part)))
        return "".join(out)


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        prev = tokens[-1] if tokens else None
        expects_regex = prev is not None and prev.kind == "op" and prev.value in ("=~", "!~")
        if expects_regex and (c == "/" or (c == "m" and i + 1 < n and not text[i + 1].isalnum())):
            start = i
            if c == "m":
                i += 1
                while i < n and text[i].isspace():
                    i += 1
                if i >= n:
                    raise CheckError(f"Syntax error in expression '{echo(text)}': unterminated regex.")
            delim = text[i]
            close = _CLOSING.get(delim, delim)
            j = i + 1
            body = []
            while j < n and text[j] != close:
                if text[j] == "\\" and j + 1 < n:
                    if text[j + 1] == close and close == "/":
                        body.append("/")
                    else:
                        body.append(text[j : j + 2])
                    j += 2
                    continue
                body.append(text[j])
                j += 1
            if j >= n:
                raise CheckError(f"Syntax error in expression '{echo(text)}': unterminated regex at position {start}.")
            j += 1
            flags_start = j
            while j < n and text[j].isalpha():
                j += 1
            tokens.append(Token("regex", ("".join(body), text[flags_start:j]), start))
            i = j
            continue
        if c == "%" and text.startswith("%{", i):
            end = text.find("}", i + 2)
            if end < 0:
                raise CheckError(f"Syntax error in expression '{echo(text)}': unterminated %{{ at position {i}.")
            tokens.append(Token("var", text[i + 2 : end], i))
            i = end + 1
            continue
        if c in "'\"":
            j = i + 1
            buf = []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    nxt = text[j + 1]
                    if c == '"':
                        buf.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
                    else:
                        buf.append(nxt if nxt in "\\'" else "\\" + nxt)
                    j += 2
                    continue
                buf.append(text[j])
                j += 1
            if j >= n:
                raise CheckError(f"Syntax error in expression '{echo(text)}': unterminated string at position {i}.")
            tokens.append(Token("str", "".join(buf), i))
            i = j + 1
            continue
        m = _NUMBER.match(text, i)
        if m and (c.isdigit() or c == "."):
            literal = m.group(0)
            value = float(literal)
            tokens.append(Token("num", int(value) if re.fullmatch(r"[0-9]+", literal) else value, i))
            i = m.end()
            continue
        if c.isalpha() or c == "_":
            m = _WORD.match(text, i)
            assert m is not None  # text[i] is a letter or '_'
            word = m.group(0)
            if word not in _WORD_OPS:
                raise CheckError(
                    f"Syntax error in expression '{echo(text)}': unexpected '{echo(word, 20)}' at position {i}."
                )
            tokens.append(Token("op", word, i))
            i = m.end()
            continue
        for op in _SYMBOL_OPS:
            if text.startswith(op, i):
                tokens.append(Token("op", op, i))
                i += len(op)
                break
        else:
            raise CheckError(f"Syntax error in expression '{echo(text)}': unexpected '{echo(c)}' at position {i}.")
    tokens.append(Token("end", None, n))
    return tokens


Node = Callable[[Mapping[str, object]], object]


class _Parser:
    def __init__(self, text: str, option: str = ""):
        self.text = text
        self.option = option or "status expression"
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.variables: list[str] = []

    def peek(self) -> Token:
        return self.tokens[self.i]

    def accept(self, *ops: str) -> str | None:
        tok = self.peek()
        if tok.kind == "op" and tok.value in ops:
            self.i += 1
            return str(tok.value)
        return None

    def fail(self, what: str) -> CheckError:
        tok = self.peek()
        found = "end of expression" if tok.kind == "end" else f"'{echo(self.text[tok.pos : tok.pos + 10])}'"
        return CheckError(
            f"Syntax error in expression '{echo(self.text)}': {what}, found {found} at position {tok.pos}."
        )

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            tok = self.peek()
            raise CheckError(
                f"Syntax error in expression '{echo(self.text)}': nested deeper than {MAX_DEPTH} levels "
                f"(parentheses or unary operators) at position {tok.pos}."
            )

    def parse(self) -> Node:
        node = self.low_or()
        if self.peek().kind != "end":
            raise self.fail("expected an operator")
        return node

    def _left(self, sub: Callable[[], Node], ops: tuple[str, ...], make: Callable[[str, Node, Node], Node]) -> Node:
        """A left-associative chain (a + b - c ...) evaluated in a loop: a long chain costs no recursion."""
        first = sub()
        rest: list[tuple[str, Node]] = []
        while (op := self.accept(*ops)) is not None:
            rest.append((op, sub()))
        if not rest:
            return first
        if len(rest) == 1:
            return make(rest[0][0], first, rest[0][1])
        if make is _logical:
            conjunction = rest[0][0] in ("and", "&&")  # one operator per precedence level

            def stop_when(value: object) -> bool:
                return truthy(value) != conjunction

            def chain(v: Mapping[str, object]) -> object:
                value = first(v)
                for _op, node in rest:
                    if stop_when(value):
                        return value
                    value = node(v)
                return value

            return chain
        steps = [(_VALUE_OPS[make][op], node) for op, node in rest]

        def fold(v: Mapping[str, object]) -> object:
            value = first(v)
            for combine, node in steps:
                value = combine(value, node(v))
            return value

        return fold

    def low_or(self) -> Node:
        return self._left(self.low_and, ("or",), _logical)

    def low_and(self) -> Node:
        return self._left(self.low_not, ("and",), _logical)

    def low_not(self) -> Node:
        if self.accept("not"):
            self.nest()
            inner = self.low_not()
            self.depth -= 1
            return lambda v: not truthy(inner(v))
        return self.high_or()

    def high_or(self) -> Node:
        return self._left(self.high_and, ("||",), _logical)

    def high_and(self) -> Node:
        return self._left(self.equality, ("&&",), _logical)

    def equality(self) -> Node:
        return self._left(self.relational, ("==", "!=", "eq", "ne"), _compare)

    def relational(self) -> Node:
        return self._left(self.additive, ("<", ">", "<=", ">=", "lt", "gt", "le", "ge"), _compare)

    def additive(self) -> Node:
        return self._left(self.multiplicative, ("+", "-"), _arith)

    def multiplicative(self) -> Node:
        return self._left(self.binding, ("*", "/"), _arith)

    def binding(self) -> Node:
        node = self.unary()
        op = self.accept("=~", "!~")
        if op is None:
            return node
        tok = self.peek()
        if tok.kind == "regex":
            self.i += 1
            body, flags = cast("tuple[str, str]", tok.value)
            source = _Interpolated(body)
            self.variables.extend(source.names())
            if not source.names():
                compiled = compile_perl(body, flags, what=f"expression '{echo(self.text)}'", option=self.option)
                pattern: Callable[[Mapping[str, object]], BoundedPattern] = lambda v: compiled  # noqa: E731
            else:
                pattern = lambda v: compile_perl(  # noqa: E731
                    source.render(v), flags, what=f"expression '{echo(self.text)}'", option=self.option
                )
        else:
            rhs = self.unary()
            pattern = lambda v: compile_perl(  # noqa: E731
                to_string(rhs(v)), "", what=f"expression '{echo(self.text)}'", option=self.option
            )
        negate = op == "!~"
        return lambda v: (pattern(v).search(to_string(node(v))) is None) == negate

    def unary(self) -> Node:
        op = self.accept("!", "-", "+")
        if op is None:
            return self.primary()
        self.nest()
        inner = self.unary()
        self.depth -= 1
        if op == "!":
            return lambda v: not truthy(inner(v))
        if op == "-":
            return lambda v: -to_number(inner(v))
        return inner

    def primary(self) -> Node:
        tok = self.peek()
        if tok.kind == "num":
            self.i += 1
            return lambda v: tok.value
        if tok.kind == "str":
            self.i += 1
            source = _Interpolated(str(tok.value))
            self.variables.extend(source.names())
            return source.render
        if tok.kind == "var":
            self.i += 1
            name = str(tok.value)
            self.variables.append(name)
            return lambda v: v.get(name)
        if self.accept("("):
            self.nest()
            node = self.low_or()
            if not self.accept(")"):
                raise self.fail("expected ')'")
            self.depth -= 1
            return node
        raise self.fail("expected a value")


def _logical(op: str, left: Node, right: Node) -> Node:
    if op in ("and", "&&"):
        return lambda v: lv if not truthy(lv := left(v)) else right(v)
    return lambda v: lv if truthy(lv := left(v)) else right(v)


_NUM_CMP = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}
_STR_CMP = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}


def _compare(op: str, left: Node, right: Node) -> Node:
    if op in _STR_CMP:
        fn = _NUM_CMP[_STR_CMP[op]]
        return lambda v: fn(to_string(left(v)), to_string(right(v)))
    fn = _NUM_CMP[op]
    return lambda v: fn(to_number(left(v)), to_number(right(v)))


def _arith(op: str, left: Node, right: Node) -> Node:
    if op == "+":
        return lambda v: to_number(left(v)) + to_number(right(v))
    if op == "-":
        return lambda v: to_number(left(v)) - to_number(right(v))
    if op == "*":
        return lambda v: to_number(left(v)) * to_number(right(v))

    def divide(v: Mapping[str, object]) -> object:
        denominator = to_number(right(v))
        if denominator == 0:
            raise CheckError("Illegal division by zero in status expression.")
        return to_number(left(v)) / denominator

    return divide


def _divide(a: object, b: object) -> object:
    denominator = to_number(b)
    if denominator == 0:
        raise CheckError("Illegal division by zero in status expression.")
    return to_number(a) / denominator


def _numeric(fn: Callable[[object, object], bool]) -> Callable[[object, object], bool]:
    return lambda a, b: fn(to_number(a), to_number(b))


def _stringwise(fn: Callable[[object, object], bool]) -> Callable[[object, object], bool]:
    return lambda a, b: fn(to_string(a), to_string(b))


# The value-level operation of each binary operator, for chains folded in a loop (see _Parser._left).
_VALUE_OPS: dict[object, dict[str, Callable[[object, object], object]]] = {
    _compare: {
        **{op: _numeric(fn) for op, fn in _NUM_CMP.items()},
        **{op: _stringwise(_NUM_CMP[num]) for op, num in _STR_CMP.items()},
    },
    _arith: {
        "+": lambda a, b: to_number(a) + to_number(b),
        "-": lambda a, b: to_number(a) - to_number(b),
        "*": lambda a, b: to_number(a) * to_number(b),
        "/": _divide,
    },
}


@dataclass(frozen=True)
class Expression:
    text: str
    node: Node | None  # None: disabled (empty expression)

    def matches(self, values: Mapping[str, object]) -> bool:
        return self.node is not None and truthy(self.node(values))


def parse_expression(text: str, variables: Iterable[str] | None = None, option: str = "") -> Expression:
    """Parse `text`; with `variables`, any other %{name} is an error. '' gives a disabled expression."""
    if text is None or text.strip() == "":
        return Expression(text or "", None)
    parser = _Parser(text, option)
    node = parser.parse()
    if variables is not None:
        allowed = list(variables)
        for name in parser.variables:
            if name not in allowed:
                where = f" in --{echo(option)}" if option else ""
                raise CheckError(
                    f"Unknown variable '%{{{echo(name, 40)}}}'{where}; available: "
                    + ", ".join(f"%{{{a}}}" for a in allowed)
                    + "."
                )
    return Expression(text, node)
