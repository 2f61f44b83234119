"""Conditions on a metric query's result, such as ``result[0] >= 0.95``.

A canary's analysis judges each measurement with a success and a failure condition. They
are written in repositories, so they are parsed by this small grammar and never evaluated
as code::

    condition  := or
    or         := and (("or" | "||") and)*
    and        := not (("and" | "&&") not)*
    not        := ("not" | "!") not | "(" condition ")" | comparison
    comparison := operand ("<" | "<=" | ">" | ">=" | "==" | "!=") operand
    operand    := number | "result" "[" index "]" | "len" "(" "result" ")"

``result`` is the list of the query's sample values, in the order Prometheus returns them.
An index past its end is an error of the measurement (``ConditionError``), never False: a
condition that cannot be decided must not pass a canary.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_MAX_CHARS = 1000

_TOKEN = re.compile(
    r"\s*(?:(?P<number>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<op><=|>=|==|!=|<|>|&&|\|\||!|\(|\)|\[|\])"
    r"|(?P<word>[A-Za-z_]+))"
)

_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


class ConditionSyntaxError(ValueError):
    """A condition that does not parse; the message says where and what was expected."""


class ConditionError(ValueError):
    """A condition that cannot be decided on a result (an index past its end)."""


@dataclass(frozen=True)
class _Number:
    value: float

    def value_in(self, result: Sequence[float]) -> float:
        return self.value


@dataclass(frozen=True)
class _Sample:
    index: int

    def value_in(self, result: Sequence[float]) -> float:
        if self.index >= len(result):
            raise ConditionError(
                f"result[{self.index}] does not exist: the query returned {len(result)} value(s)"
            )
        return result[self.index]


@dataclass(frozen=True)
class _Length:
    def value_in(self, result: Sequence[float]) -> float:
        return float(len(result))


_Operand = _Number | _Sample | _Length


@dataclass(frozen=True)
class _Comparison:
    left: _Operand
    op: str
    right: _Operand

    def holds(self, result: Sequence[float]) -> bool:
        return _COMPARISONS[self.op](self.left.value_in(result), self.right.value_in(result))


@dataclass(frozen=True)
class _Not:
    inner: _Node

    def holds(self, result: Sequence[float]) -> bool:
        return not self.inner.holds(result)


@dataclass(frozen=True)
class _Both:
    left: _Node
    right: _Node

    def holds(self, result: Sequence[float]) -> bool:
        return self.left.holds(result) and self.right.holds(result)


@dataclass(frozen=True)
class _Either:
    left: _Node
    right: _Node

    def holds(self, result: Sequence[float]) -> bool:
        return self.left.holds(result) or self.right.holds(result)


_Node = _Comparison | _Not | _Both | _Either


@dataclass(frozen=True)
class Condition:
    """A parsed condition; ``holds`` decides it on a query's result."""

    text: str
    _root: _Node

    def holds(self, result: Sequence[float]) -> bool:
        return self._root.holds(result)


def parse_condition(text: str) -> Condition:
    """The condition ``text`` says; ``ConditionSyntaxError`` if it does not parse."""
    if len(text) > _MAX_CHARS:
        raise ConditionSyntaxError(f"a condition is at most {_MAX_CHARS} characters")
    parser = _Parser(_tokens(text))
    root = parser.condition()
    if parser.position < len(parser.tokens):
        raise ConditionSyntaxError(f"unexpected {parser.tokens[parser.position]!r}")
    return Condition(text, root)


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            column = position + len(text[position:]) - len(text[position:].lstrip())
            raise ConditionSyntaxError(f"unexpected {text[column]!r} at column {column + 1}")
        tokens.append(match.group(match.lastgroup or 0))
        position = match.end()
    if not tokens:
        raise ConditionSyntaxError("the condition is empty")
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None:
            want = f"{expected!r}" if expected else "more"
            raise ConditionSyntaxError(f"the condition ends early: expected {want}")
        if expected is not None and token != expected:
            raise ConditionSyntaxError(f"expected {expected!r}, got {token!r}")
        self.position += 1
        return token

    def condition(self) -> _Node:
        node = self.conjunction()
        while self.peek() in ("or", "||"):
            self.take()
            node = _Either(node, self.conjunction())
        return node

    def conjunction(self) -> _Node:
        node = self.negation()
        while self.peek() in ("and", "&&"):
            self.take()
            node = _Both(node, self.negation())
        return node

    def negation(self) -> _Node:
        if self.peek() in ("not", "!"):
            self.take()
            return _Not(self.negation())
        if self.peek() == "(":
            self.take()
            node = self.condition()
            self.take(")")
            return node
        left = self.operand()
        op = self.take()
        if op not in _COMPARISONS:
            raise ConditionSyntaxError(
                f"expected a comparison (<, <=, >, >=, ==, !=) after an operand, got {op!r}"
            )
        return _Comparison(left, op, self.operand())

    def operand(self) -> _Operand:
        word = self.take()
        if word == "result":
            self.take("[")
            index = self.take()
            if not index.isdigit():
                raise ConditionSyntaxError(
                    f"expected an index such as 0 in result[], got {index!r}"
                )
            self.take("]")
            return _Sample(int(index))
        if word == "len":
            self.take("(")
            self.take("result")
            self.take(")")
            return _Length()
        if _NUMBER.fullmatch(word):
            return _Number(float(word))
        raise ConditionSyntaxError(f"expected a number, result[N] or len(result), got {word!r}")
