"""How long a text operation's result would be, worked out before the operation runs.

``"%*s" % (10**9, "")``, ``"{:>999999999}".format("")`` and ``s.replace("", s)`` each
allocate their whole result before anything can measure it, so the bound must be applied to
an estimate made from the operands. Estimates are upper bounds, never exact lengths.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from typing import Any

from hakobu.render.budget import LimitExceeded

# printf-style conversions: %(key)flags width .precision length type
_PRINTF = re.compile(r"%(?:\(([^)]*)\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.)")
# Characters ``repr``/``ascii`` may print for one character of text ('\U0001f600').
_REPR_WIDENING = 10
# A width or precision written with more digits is past any bound anyway.
_HUGE = 10**12

Sizer = Callable[[Any], int]


def printf_chars(size: Sizer, text: str, operands: Any) -> int:
    """Characters ``text % operands`` can produce."""
    mapping = operands if isinstance(operands, Mapping) else None
    positional = list(operands) if isinstance(operands, tuple) else [operands]
    index = 0
    chars = len(text)

    def next_operand() -> Any:
        nonlocal index
        index += 1
        return positional[index - 1] if index <= len(positional) else None

    for match in _PRINTF.finditer(text):
        key, width, precision, conversion = match.groups()
        if conversion == "%":
            continue
        for number in (width, precision):
            if number == "*":
                star = next_operand()
                chars += abs(star) if isinstance(star, int) else 0
            elif number:
                chars += _number(number)
        operand = mapping.get(key) if mapping is not None and key is not None else next_operand()
        chars += size(operand) * (_REPR_WIDENING if conversion in "ra" else 1)
    return chars


def format_chars(size: Sizer, text: str, operands_chars: int) -> int:
    """Characters ``text.format(...)`` can produce when its operands print as
    ``operands_chars`` characters together (each field may print any of them)."""
    chars = 0
    for literal, field, spec, conversion in string.Formatter().parse(text):
        chars += len(literal)
        if field is None:
            continue
        if spec and "{" in spec:
            # The width would come from an operand: measurable only by formatting.
            raise LimitExceeded("format specifications with nested fields are not supported")
        numbers = re.findall(r"\d+", spec or "")
        widening = _REPR_WIDENING if conversion in ("r", "a") else 1
        chars += operands_chars * widening + sum(_number(n) for n in numbers)
    return chars


def replace_chars(text: str, old: str, new: str, count: Any = None) -> int:
    """Characters ``text.replace(old, new, count)`` produces."""
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * max(len(new) - len(old), 0)


def _number(digits: str) -> int:
    return int(digits) if len(digits) < 13 else _HUGE
