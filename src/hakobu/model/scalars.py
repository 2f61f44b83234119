"""What a YAML scalar means to kustomize, which reads with go-yaml v3 and writes with v2.

kustomize parses resources and kustomizations with go-yaml v3 and decodes them into Go
values before printing, so an unquoted scalar becomes:

- null: empty, ``~``, ``null``/``Null``/``NULL``;
- a boolean: ``true``/``True``/``TRUE``, ``false``/... only (YAML 1.2: ``yes``, ``on``,
  ``y`` stay strings);
- an int: decimal, ``0x``, ``0o``, ``0b`` and, as in YAML 1.1, a leading ``0`` for octal
  (``0755`` is 493); underscores are dropped first (``1_000`` is 1000); beyond 64 bits it
  is a float;
- a float: ``1.5``, ``1e3``, ``.5``, ``.inf``, ``.nan`` (and ``08``, which is not octal);
- a timestamp (``2001-12-14``, ``2001-12-14T21:59:43.10Z``, ``2001-12-14 21:59:43``),
  which kustomize prints as an RFC 3339 string (``"2001-12-14T00:00:00Z"``);
- anything else: a string.

Explicit tags are honoured (``!!str 1`` is a string, ``!!float 1`` a float); unknown tags
(``!foo bar``) leave the string. go-yaml v2, used for output, reads YAML 1.1, so strings
such as ``yes``/``on``/``y`` must be quoted when written (``reads_as_non_string_v2``).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import math
import re
from typing import Any

INT64_MIN, INT64_MAX, UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1

_NULLS = frozenset(["", "~", "null", "Null", "NULL"])
_TRUES_V3 = frozenset(["true", "True", "TRUE"])
_FALSES_V3 = frozenset(["false", "False", "FALSE"])
_SPECIAL_FLOATS = {
    **dict.fromkeys([".nan", ".NaN", ".NAN"], math.nan),
    **dict.fromkeys([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"], math.inf),
    **dict.fromkeys(["-.inf", "-.Inf", "-.INF"], -math.inf),
}
# Strings go-yaml v2 reads as booleans, nulls or special floats (YAML 1.1).
_V2_BOOLS = (
    *("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"),
    *("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"),
)
_V2_NON_STRINGS = frozenset(_V2_BOOLS) | _NULLS | frozenset(_SPECIAL_FLOATS)

YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_INT_BASE0 = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_DIGITS = r"[0-9](?:_?[0-9])*"
_GO_DECIMAL_FLOAT = re.compile(
    rf"[-+]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][-+]?{_DIGITS})?"
)
_DATE = r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
_TIME = r"([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]+))?"
_TIMESTAMPS = (
    re.compile(rf"{_DATE}[Tt]{_TIME}(Z|[-+][0-9]{{2}}:[0-9]{{2}})"),
    re.compile(rf"{_DATE} {_TIME}()"),
    re.compile(rf"{_DATE}()()()()()"),
)

_SHORT_TAGS = {
    "tag:yaml.org,2002:" + name: "!!" + name
    for name in ("null", "bool", "str", "int", "float", "timestamp", "binary")
}


class ScalarError(ValueError):
    """A tagged scalar whose text the tag cannot carry (``!!int abc``)."""


def go_parse_int_base0(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``, else ``ParseUint``: the value if one accepts it."""
    if not _GO_INT_BASE0.fullmatch(text):
        return None
    digits = text.lstrip("+-")
    if len(digits) > 1 and digits[0] == "0" and digits[1] in "xXoObB":
        value = int(digits[2:], {"x": 16, "o": 8, "b": 2}[digits[1].lower()])
    elif len(digits) > 1 and digits[0] == "0":
        value = int(digits, 8)
    else:
        try:
            value = int(digits)
        except ValueError:
            # Past Python's digit limit for decimal text: far past 64 bits, so Go's
            # parsers refuse it too.
            return None
    if text[0] == "-":
        value = -value
    if INT64_MIN <= value <= INT64_MAX:
        return value
    # ParseUint takes no sign at all.
    if text[0] not in "+-" and value <= UINT64_MAX:
        return value
    return None


def go_parse_float(text: str) -> float | None:
    """``strconv.ParseFloat(text, 64)`` for decimal text; None where Go reports an error."""
    if not _GO_DECIMAL_FLOAT.fullmatch(text):
        return None
    value = float(text)
    # Go reports overflow as an error; YAML then keeps the text as a string.
    return None if math.isinf(value) else value


def go_timestamp(text: str) -> str | None:
    """The RFC 3339 text Go's JSON encoder writes for a YAML timestamp, or None.

    go-yaml tries the layouts ``2006-1-2T15:4:5.999999999Z07:00`` (also with ``t``),
    ``2006-1-2 15:4:5.999999999`` and ``2006-1-2``; the time keeps the written offset.
    """
    if len(text) < 5 or not text[:4].isdigit() or text[4] != "-":
        return None
    for layout in _TIMESTAMPS:
        match = layout.fullmatch(text)
        if match:
            return _rfc3339(match.groups())
    return None


def _rfc3339(groups: tuple[str | None, ...]) -> str | None:
    year, month, day = (int(g or 0) for g in groups[:3])
    hour, minute, second = (int(g or 0) for g in groups[3:6])
    fraction, zone = groups[6] or "", groups[7] or ""
    if not (1 <= month <= 12 and 1 <= day <= _days_in(month, year)):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    offset = 0
    if zone not in ("", "Z"):
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_hours > 24 or zone_minutes > 60:
            return None
        offset = zone_hours * 60 + zone_minutes
        if zone[0] == "-":
            offset = -offset
    nanos = fraction[:9].ljust(9, "0").rstrip("0")
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    if nanos:
        text += "." + nanos
    if offset == 0:
        return text + "Z"
    sign = "-" if offset < 0 else "+"
    return f"{text}{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"


def _days_in(month: int, year: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _resolve(text: str) -> tuple[str, Any]:
    """go-yaml's resolution of untagged plain text: its tag and its value."""
    if text in _NULLS:
        return "!!null", None
    if text in _TRUES_V3 or text in _FALSES_V3:
        return "!!bool", text in _TRUES_V3
    if text in _SPECIAL_FLOATS:
        return "!!float", _SPECIAL_FLOATS[text]
    first = text[0]
    if first == ".":
        number = go_parse_float(text)
        return ("!!str", text) if number is None else ("!!float", number)
    if first.isascii() and (first.isdigit() or first in "+-"):
        return _resolve_number(text)
    return "!!str", text


def _resolve_number(text: str) -> tuple[str, Any]:
    timestamp = go_timestamp(text)
    if timestamp is not None:
        return "!!timestamp", timestamp
    plain = text.replace("_", "")
    integer = go_parse_int_base0(plain)
    if integer is not None:
        return "!!int", integer
    if YAML_STYLE_FLOAT.fullmatch(plain):
        number = go_parse_float(plain)
        if number is not None:
            return "!!float", number
    return "!!str", text


def resolve_plain(text: str) -> Any:
    """The value of an unquoted, untagged scalar as kustomize reads it (go-yaml v3)."""
    return _resolve(text)[1]


def resolve_tagged(tag: str, text: str) -> Any:
    """The value of a scalar with an explicit tag, as go-yaml v3 decodes it.

    Raises ``ScalarError`` when the text does not fit a core tag (``!!int abc``).
    """
    short = _SHORT_TAGS.get(tag, tag)
    if short == "!!str":
        return text
    if short == "!!binary":
        return _decode_binary(text)
    if short not in ("!!null", "!!bool", "!!int", "!!float", "!!timestamp"):
        # go-yaml keeps the text of scalars with tags it does not resolve.
        return text
    kind, value = _resolve(text)
    if kind == short:
        return value
    if short == "!!float" and kind == "!!int":
        return float(value)
    # The value itself stays out of the message: it may be a Secret's.
    raise ScalarError(f"cannot decode a {kind} value as a {short}")


def _decode_binary(text: str) -> str:
    try:
        data = base64.b64decode(text.replace("\n", "").replace("\r", ""), validate=True)
    except binascii.Error:
        raise ScalarError("!!binary value contains invalid base64 data") from None
    return go_string(data)


def go_string(data: bytes) -> str:
    """Bytes as Go's JSON encoder sees them: each byte that is not UTF-8 becomes U+FFFD."""
    return data.decode("utf-8", "hakobu-go-replace")


def _replace_one_byte(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "\ufffd", error.start + 1


def reads_as_non_string_v2(text: str) -> bool:
    """Whether go-yaml v2 (YAML 1.1) reads the plain scalar ``text`` as anything but a string."""
    return text in _V2_NON_STRINGS or _resolve(text)[0] != "!!str"


codecs.register_error("hakobu-go-replace", _replace_one_byte)
