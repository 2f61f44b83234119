"""YAML out, byte for byte as ``kustomize build`` prints it.

kustomize prints each resource as ``yaml.JSONToYAML(json.Marshal(resource))``: the object is
encoded as JSON (Go ``encoding/json``), the JSON is decoded by go-yaml v2 and marshalled
again by go-yaml v2, whose emitter is a port of libyaml. Documents are joined with
``---\\n``. This module reproduces that chain:

- JSON stage: floats print as Go's ``encoding/json`` prints them and are then read back as
  YAML 1.1 numbers, so an integral float (``1.0``) comes out as an int (``1``) and a huge
  int (beyond unsigned 64 bits) as a float. NaN and infinities cannot be encoded at all.
- Mapping keys are sorted with go-yaml v2's "natural" order: letters before other
  characters, runs of digits compared as numbers (``a2`` < ``a10``). What is a letter
  follows Python's Unicode tables; a key with a character assigned only in a newer Unicode
  version than Python's (Go 1.21+ knows Unicode 15) may sort differently from kustomize.
- A string is plain unless it would read back as another YAML 1.1 type (``yes``, ``on``,
  ``y``, ``1.0``, ``0x1F``, ``1:20``, ``2001-12-14``, ``~``, ``""``), in which case it is
  double-quoted; strings with a line feed are block literals (``|``, ``|-``, ``|+``, with an
  indentation indicator when they start with a space or break). libyaml falls back to
  single quotes when plain is not allowed (leading indicators, ``: ``, `` #``, leading or
  trailing spaces) and to double quotes (with escapes) for tabs, control characters,
  characters outside the Basic Multilingual Plane and other unprintables.
- Plain, single- and double-quoted scalars are folded at a space once a line is past
  80 columns; keys are never folded; a key longer than 128 bytes or spanning lines is
  written as an explicit ``? key`` / ``: value`` pair.
- Sequences under a mapping key are not indented; empty collections print as ``{}``/``[]``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from decimal import Decimal
from enum import Enum
from functools import cmp_to_key, lru_cache
from typing import Any

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.model.scalars import (
    INT64_MIN,
    UINT64_MAX,
    YAML_STYLE_FLOAT,
    go_parse_float,
    go_parse_int_base0,
    reads_as_non_string_v2,
)
from hakobu.model.source import format_field

__all__ = ["dump_documents", "dump_object"]

_BEST_INDENT = 2
_BEST_WIDTH = 80
_MAX_SIMPLE_KEY_BYTES = 128


def dump_documents(objects: Sequence[Object]) -> str:
    """What ``kustomize build`` prints for ``objects``, in the given order."""
    return "---\n".join(dump_object(obj) for obj in objects)


def dump_object(obj: Object) -> str:
    """One document, without a separator, ending in a newline."""
    emitter = _Emitter()
    try:
        emitter.node(obj, mapping=False)
    except _Unwritable as e:
        raise InvalidInput(f"{_where(tuple(reversed(e.path)))}{e.message}", hint=e.hint) from None
    emitter.indent = -1
    emitter.write_indent()
    return "".join(emitter.out)


class _Unwritable(Exception):
    """A value that cannot be written; each enclosing collection adds its key on the way out.

    Walking without the path of every node keeps writing fast; the path is only needed for
    the error.
    """

    def __init__(self, message: str, *, key: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # Innermost first.
        self.path: list[str | int] = [] if key is None else [key]


# ---------------------------------------------------------------------------------------
# Scalars: the text go-yaml v2 writes and the style it asks the emitter for.


class _Style(Enum):
    PLAIN = "plain"
    SINGLE = "single"
    DOUBLE = "double"
    LITERAL = "literal"


_BASE60_FLOAT = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")


def _is_base60_float(text: str) -> bool:
    return (
        bool(text)
        and (text[0] in "+-" or "0" <= text[0] <= "9")
        and ":" in text
        and (_BASE60_FLOAT.fullmatch(text) is not None)
    )


def _string_style(text: str) -> _Style:
    """go-yaml v2 ``stringv``: literal for line feeds, plain unless it reads as another type."""
    if "\n" in text:
        return _Style.LITERAL
    if not reads_as_non_string_v2(text) and not _is_base60_float(text):
        return _Style.PLAIN
    return _Style.DOUBLE


def _go_json_float(value: float) -> str:
    """Go ``encoding/json``: shortest digits, exponent form below 1e-6 and from 1e21."""
    sign, digits, exponent = _decimal_parts(value)
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = _format_exponent(sign, digits, exponent)
        # encoding/json writes e-7 where strconv writes e-07.
        return re.sub(r"e-0(\d)$", r"e-\1", text)
    return format(Decimal(repr(value)).normalize(), "f")


def _decimal_parts(value: float) -> tuple[int, tuple[int, ...], int]:
    """The shortest decimal digits that read back as ``value`` (as Go's strconv finds)."""
    parts = Decimal(repr(value)).normalize().as_tuple()
    return parts.sign, parts.digits, int(parts.exponent)


def _format_exponent(sign: int, digits: tuple[int, ...], exponent: int) -> str:
    """strconv ``%e`` with the shortest digits: ``1.5e+06``, ``1e-07``."""
    mantissa = "".join(map(str, digits))
    power = exponent + len(digits) - 1
    text = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    return f"{'-' if sign else ''}{text}e{'-' if power < 0 else '+'}{abs(power):02d}"


def _go_format_float_g(value: float) -> str:
    """strconv ``FormatFloat(value, 'g', -1, 64)``."""
    sign, digits, exponent = _decimal_parts(value)
    if value == 0:
        return "-0" if sign else "0"
    power = exponent + len(digits) - 1
    if power < -4 or power >= 6:
        return _format_exponent(sign, digits, exponent)
    return format(Decimal(repr(value)).normalize(), "f")


def _from_json_number(text: str) -> tuple[str, _Style]:
    """How go-yaml v2 prints the JSON number ``text`` after reading it back."""
    integer = go_parse_int_base0(text)
    if integer is not None:
        return str(integer), _Style.PLAIN
    number = go_parse_float(text) if YAML_STYLE_FLOAT.fullmatch(text) else None
    if number is None:
        # Out of float64 range: go-yaml keeps the text as a string.
        return text, _string_style(text)
    return _go_format_float_g(number), _Style.PLAIN


def _scalar(value: Any) -> tuple[str, _Style]:
    if value is None:
        return "null", _Style.PLAIN
    if isinstance(value, bool):
        return ("true" if value else "false"), _Style.PLAIN
    if isinstance(value, int):
        if INT64_MIN <= value <= UINT64_MAX:
            return str(value), _Style.PLAIN
        return _from_json_number(str(value))
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise _Unwritable(
                f"{value!r} cannot be written: kustomize's JSON stage has no NaN or infinity",
                hint='quote the value (for example ".inf") if a string was meant',
            )
        return _from_json_number(_go_json_float(value))
    if isinstance(value, str):
        text = _valid_utf8(value)
        return text, _string_style(text)
    raise _Unwritable(
        f"a {type(value).__name__} cannot be written as YAML; expected a string, number, "
        "boolean, null, mapping or list"
    )


def _where(path: tuple[str | int, ...]) -> str:
    return f"{format_field(path)}: " if path else ""


def _valid_utf8(text: str) -> str:
    # encoding/json replaces what is not UTF-8 (here: lone surrogates) with U+FFFD.
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------
# Key order: go-yaml v2 sorter.go (keyList.Less) for string keys.


def _is_letter(char: str) -> bool:
    return char.isalpha()


def _is_digit(char: str) -> bool:
    return unicodedata.category(char) == "Nd"


def _wrap_int64(value: int) -> int:
    return (value + 2**63) % 2**64 - 2**63


def _key_less(a: str, b: str) -> bool:
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            continue
        a_letter, b_letter = _is_letter(a[i]), _is_letter(b[i])
        if a_letter and b_letter:
            return a[i] < b[i]
        if a_letter or b_letter:
            return b_letter
        a_number = b_number = 0
        if a[i] == "0" or b[i] == "0":
            j = i - 1
            while j >= 0 and _is_digit(a[j]):
                if a[j] != "0":
                    a_number = b_number = 1
                    break
                j -= 1
        a_end = i
        while a_end < len(a) and _is_digit(a[a_end]):
            a_number = _wrap_int64(a_number * 10 + ord(a[a_end]) - ord("0"))
            a_end += 1
        b_end = i
        while b_end < len(b) and _is_digit(b[b_end]):
            b_number = _wrap_int64(b_number * 10 + ord(b[b_end]) - ord("0"))
            b_end += 1
        if a_number != b_number:
            return a_number < b_number
        if a_end != b_end:
            return a_end < b_end
        return a[i] < b[i]
    return len(a) < len(b)


def _key_compare(a: str, b: str) -> int:
    if _key_less(a, b):
        return -1
    return 1 if _key_less(b, a) else 0


_KEY_ORDER: Callable[[str], Any] = cmp_to_key(_key_compare)


# ---------------------------------------------------------------------------------------
# The emitter: libyaml's rules (emitterc.go) for block collections and scalars.


_BREAK_CHARS = "\r\n\x85\u2028\u2029"
# Character classes (regular expression text). libyaml writes the printable characters as
# they are and escapes the others. Scalars are examined with these patterns rather than a
# character at a time: a manifest may hold megabytes of text in one value, and writing it
# must stay fast.
_BREAKS = r"\r\n\x85\u2028\u2029"
_PRINTABLE = r"\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd"

_NOT_PRINTABLE = re.compile(rf"[^{_PRINTABLE}]")
_BREAK = re.compile(rf"[{_BREAKS}]")
_BREAK_SPACE = re.compile(rf"[{_BREAKS}] ")
_SPACE_BREAK = re.compile(rf" [{_BREAKS}]")
_INNER_INDICATORS = (": ", ":\t", " #", "\t#", "\0#", *(f"{b}#" for b in _BREAK_CHARS))
_NEEDS_ESCAPE = re.compile(rf'[^{_PRINTABLE}]|[{_BREAKS}"\\]')
_ASTRAL = re.compile(r"[\U00010000-\U0010ffff]+")
# Where plain and single-quoted text folds: a space alone; double-quoted: a run's first.
_SINGLE_SPACE = re.compile(r"(?<! ) (?! )")
_DOUBLE_FOLD = re.compile(r"(?<! ) ")
# Runs a writer handles alike: spaces, one line break, or other characters.
_PLAIN_RUNS = re.compile(r" +|[^ ]+")
_QUOTED_RUNS = re.compile(rf" +|[{_BREAKS}]|[^ {_BREAKS}]+")
_BREAK_SPLIT = re.compile(rf"([{_BREAKS}])")


def _is_break(char: str) -> bool:
    return char in _BREAK_CHARS


def _is_space_at(text: str, index: int) -> bool:
    return index < len(text) and text[index] == " "


def _has_block_indicator(text: str) -> bool:
    """Whether ``text`` holds an indicator that forbids the plain style in block context."""
    if text.startswith(("---", "...")):
        return True
    first = text[0]
    if first in "#,[]{}&*!|>'\"%@`":
        return True
    if first in "?:-" and (len(text) == 1 or text[1] in " \t"):
        return True
    # After the first character: ": " (or ":" at the end), and "#" after whitespace.
    return text.endswith(":") or any(pair in text for pair in _INNER_INDICATORS)


class _Analysis:
    """libyaml ``yaml_emitter_analyze_scalar``: which styles can carry ``text``."""

    def __init__(self, text: str) -> None:
        self.multiline = False
        self.block_plain_allowed = True
        self.single_quoted_allowed = True
        self.block_allowed = text != ""
        if text:
            self._analyze(text)

    def _analyze(self, text: str) -> None:
        block_indicators = _has_block_indicator(text)
        line_breaks = _BREAK.search(text) is not None
        special = _NOT_PRINTABLE.search(text) is not None
        leading_space, trailing_space = text[0] == " ", text[-1] == " "
        leading_break, trailing_break = _is_break(text[0]), _is_break(text[-1])
        break_space = line_breaks and _BREAK_SPACE.search(text) is not None
        space_break = line_breaks and _SPACE_BREAK.search(text) is not None

        self.multiline = line_breaks
        if leading_space or leading_break or trailing_space or trailing_break:
            self.block_plain_allowed = False
        if trailing_space:
            self.block_allowed = False
        if break_space:
            self.block_plain_allowed = self.single_quoted_allowed = False
        if space_break or special:
            self.block_plain_allowed = self.single_quoted_allowed = False
            self.block_allowed = False
        if line_breaks or block_indicators:
            self.block_plain_allowed = False


class _Emitter:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.column = 0
        self.indent = -1
        self.whitespace = True
        self.indention = True

    # Primitive writes -------------------------------------------------------------------

    def put(self, text: str) -> None:
        self.out.append(text)
        self.column += len(text)

    def put_break(self) -> None:
        self.out.append("\n")
        self.column = 0

    def write_break(self, char: str) -> None:
        if char == "\n":
            self.put_break()
        else:
            self.put(char)
            self.column = 0

    def write_indent(self) -> None:
        indent = max(self.indent, 0)
        if (
            not self.indention
            or self.column > indent
            or (self.column == indent and not self.whitespace)
        ):
            self.put_break()
        if self.column < indent:
            self.put(" " * (indent - self.column))
        self.whitespace = self.indention = True

    def write_indicator(
        self, indicator: str, need_whitespace: bool, is_whitespace: bool, is_indention: bool
    ) -> None:
        if need_whitespace and not self.whitespace:
            self.put(" ")
        self.put(indicator)
        self.whitespace = is_whitespace
        self.indention = self.indention and is_indention

    # Collections ------------------------------------------------------------------------

    def node(self, value: Any, *, mapping: bool) -> None:
        if isinstance(value, str):
            self.value_scalar(_value_plan(value, None))
        elif isinstance(value, dict):
            self.mapping(value)
        elif isinstance(value, list | tuple):
            self.sequence(value, mapping_context=mapping)
        else:
            self.value_scalar(_value_plan(*_scalar(value)))

    def mapping(self, value: dict[Any, Any]) -> None:
        if not value:
            self.write_indicator("{", True, True, False)
            self.write_indicator("}", False, False, False)
            return
        saved = self.indent
        self.indent = 0 if self.indent < 0 else self.indent + _BEST_INDENT
        for key in _sorted_keys(tuple(value)):
            self.write_indent()
            simple = _simple_key(key)
            if simple is not None:
                # A simple key is never folded, so its text does not depend on the column.
                self.out.append(simple)
                self.column += len(simple)
                self.whitespace = self.indention = False
            else:
                text = _valid_utf8(key)
                self.write_indicator("?", True, False, True)
                self.scalar(text, _string_style(text), simple_key=False)
                self.write_indent()
                self.write_indicator(":", True, False, True)
            try:
                self.node(value[key], mapping=True)
            except _Unwritable as e:
                e.path.append(key)
                raise
        self.indent = saved

    def value_scalar(self, plan: _Plan) -> None:
        """A scalar that is not a key, written at once unless it could fold or needs escapes."""
        written, spaced, text, requested = plan
        if written is not None:
            start = self.column if self.whitespace else self.column + 1
            # Folding happens only at a space past the width.
            if not spaced or start + len(written) <= _BEST_WIDTH:
                if not self.whitespace:
                    self.out.append(" ")
                self.out.append(written)
                self.column = start + len(written)
                self.whitespace = self.indention = False
                return
        self.scalar(text, requested, simple_key=False)

    def sequence(self, value: Sequence[Any], *, mapping_context: bool) -> None:
        if not value:
            self.write_indicator("[", True, True, False)
            self.write_indicator("]", False, False, False)
            return
        saved = self.indent
        indentless = mapping_context and not self.indention
        if self.indent < 0:
            self.indent = 0
        elif not indentless:
            self.indent += _BEST_INDENT
        for index, item in enumerate(value):
            self.write_indent()
            self.write_indicator("-", True, False, True)
            try:
                self.node(item, mapping=False)
            except _Unwritable as e:
                e.path.append(index)
                raise
        self.indent = saved

    # Scalars ----------------------------------------------------------------------------

    def scalar(
        self,
        text: str,
        requested: _Style,
        *,
        simple_key: bool,
        analysis: _Analysis | None = None,
    ) -> None:
        analysis = analysis or _Analysis(text)
        style = _select_style(requested, analysis, text, simple_key=simple_key)
        saved = self.indent
        self.indent = _BEST_INDENT if self.indent < 0 else self.indent + _BEST_INDENT
        allow_breaks = not simple_key
        if style is _Style.PLAIN:
            self.write_plain(text, allow_breaks)
        elif style is _Style.SINGLE:
            self.write_single_quoted(text, allow_breaks)
        elif style is _Style.DOUBLE:
            self.write_double_quoted(text, allow_breaks)
        else:
            self.write_literal(text)
        self.indent = saved

    def put_folded(self, text: str, fold: re.Pattern[str], lo: int, hi: int) -> None:
        """``text`` with each space that ``fold`` finds at an index in ``[lo, hi)`` turned into
        a line break once the line is past the width; ``text`` has no breaks or escapes.

        The emitter's rule, applied a run of words at a time: the next fold is the first
        such space whose column would be past the width.
        """
        start = 0
        while True:
            earliest = max(start + _BEST_WIDTH + 1 - self.column, start, lo)
            # No end position: the pattern must see the character after the space.
            found = fold.search(text, earliest) if earliest < hi else None
            if found is None or found.start() >= hi:
                self.put(text[start:])
                return
            self.put(text[start : found.start()])
            # A word stands before every fold point, so the line holds more than indentation.
            self.indention = False
            self.write_indent()
            start = found.start() + 1
            if fold is _DOUBLE_FOLD and start < len(text) and text[start] == " ":
                # An escaped line break keeps the spaces that follow the fold.
                self.put("\\")

    def write_plain(self, text: str, allow_breaks: bool) -> None:
        # Plain style is never chosen for text with line breaks, so only spaces fold: at a
        # single space (not a run of them) once the line is past the width.
        if not self.whitespace:
            self.put(" ")
        if allow_breaks:
            self.put_folded(text, _SINGLE_SPACE, 0, len(text))
        else:
            self.put(text)
        self.whitespace = self.indention = False

    def write_single_quoted(self, text: str, allow_breaks: bool) -> None:
        self.write_indicator("'", True, False, False)
        if _BREAK.search(text) is None:
            # Doubling a quote moves the columns that follow, so fold the written text.
            written = text.replace("'", "''")
            if allow_breaks:
                self.put_folded(written, _SINGLE_SPACE, 1, len(written) - 1)
            else:
                self.put(written)
        else:
            self._single_quoted_runs(text, allow_breaks)
        self.write_indicator("'", False, False, False)
        self.whitespace = self.indention = False

    def _single_quoted_runs(self, text: str, allow_breaks: bool) -> None:
        spaces = breaks = False
        last = len(text) - 1
        for match in _QUOTED_RUNS.finditer(text):
            run, i = match.group(), match.start()
            if run[0] == " ":
                if (
                    allow_breaks
                    and not spaces
                    and len(run) == 1
                    and self.column > _BEST_WIDTH
                    and 0 < i < last
                ):
                    self.write_indent()
                else:
                    self.put(run)
                spaces = True
            elif _is_break(run):
                if not breaks and run == "\n":
                    self.put_break()
                self.write_break(run)
                self.indention = breaks = True
            else:
                if breaks:
                    self.write_indent()
                self.put(run.replace("'", "''"))
                self.indention = spaces = breaks = False

    def write_double_quoted(self, text: str, allow_breaks: bool) -> None:
        self.write_indicator('"', True, False, False)
        if text.startswith("\ufeff"):
            # libyaml escapes every character of a text that starts with a byte order mark.
            self.put("".join(map(_escape, text)))
        else:
            # Escapes hold no spaces, so folding the written text folds where libyaml does.
            written = text.translate(_escape_table())
            if _ASTRAL.search(written):
                written = _ASTRAL.sub(_escape_match, written)
            if allow_breaks:
                self.put_folded(written, _DOUBLE_FOLD, 1, len(written) - 1)
            else:
                self.put(written)
        self.write_indicator('"', False, False, False)
        self.whitespace = self.indention = False

    def write_literal(self, text: str) -> None:
        self.write_indicator("|", True, False, False)
        if text[0] == " " or _is_break(text[0]):
            self.write_indicator(str(_BEST_INDENT), False, False, False)
        chomp = _chomp_indicator(text)
        if chomp:
            self.write_indicator(chomp, False, False, False)
        self.put_break()
        self.indention = self.whitespace = True
        # Every line but an empty one is the indentation and its text; the breaks between
        # lines are written as they are.
        parts = _BREAK_SPLIT.split(text)
        pad = " " * self.indent
        self.out.append(
            "".join(
                part if index % 2 or not part else pad + part for index, part in enumerate(parts)
            )
        )
        self.column = len(pad) + len(parts[-1]) if parts[-1] else 0
        self.indention = not parts[-1]


@lru_cache(maxsize=1)
def _escape_table() -> dict[int, str]:
    """``str.translate``'s table of what a double-quoted scalar escapes, below U+10000 (all
    characters above are escaped too: see ``_ASTRAL``)."""
    return {
        code: _escape(chr(code))
        for code in range(0x10000)
        if _NEEDS_ESCAPE.match(chr(code)) is not None
    }


def _escape_match(match: re.Match[str]) -> str:
    return "".join(map(_escape, match.group()))


# The text of a value scalar when it cannot fold (None when it has breaks or escapes, which
# the emitter writes character by character), whether it holds a space, its text, and the
# style go-yaml asks for.
_Plan = tuple[str | None, bool, str, _Style]


@lru_cache(maxsize=32768)
def _value_plan(value: str, requested: _Style | None) -> _Plan:
    """How a value scalar is written; ``requested`` None means a string, styled by its text.

    Objects repeat the same strings (labels, names, images), so the analysis is kept.
    """
    text = value
    if requested is None:
        text = _valid_utf8(value)
        requested = _string_style(text)
    analysis = _Analysis(text)
    style = _select_style(requested, analysis, text, simple_key=False)
    written: str | None = None
    if analysis.multiline:
        pass
    elif style is _Style.PLAIN:
        written = text
    elif style is _Style.SINGLE:
        written = "'" + text.replace("'", "''") + "'"
    elif style is _Style.DOUBLE and not _needs_escape(text):
        written = '"' + text + '"'
    return written, " " in text, text, requested


def _needs_escape(text: str) -> bool:
    return text.startswith("\ufeff") or _NEEDS_ESCAPE.search(text) is not None


@lru_cache(maxsize=8192)
def _simple_key(key: str) -> str | None:
    """A key with its ``:`` as written in a block mapping, or None for an explicit ``? key``."""
    text = _valid_utf8(key)
    analysis = _Analysis(text)
    if analysis.multiline or len(text.encode()) > _MAX_SIMPLE_KEY_BYTES:
        return None
    scratch = _Emitter()
    scratch.scalar(text, _string_style(text), simple_key=True, analysis=analysis)
    scratch.write_indicator(":", False, False, False)
    return "".join(scratch.out)


@lru_cache(maxsize=4096)
def _sorted_keys(keys: tuple[Any, ...]) -> tuple[str, ...]:
    """The keys of a mapping in go-yaml's order; mappings of one kind share their key set."""
    for key in keys:
        if not isinstance(key, str):
            raise _Unwritable(
                f"mapping key {key!r} is a {type(key).__name__}; kustomize's JSON stage needs "
                "string keys",
                key=str(key),
                hint="quote the key",
            )
    return tuple(sorted(keys, key=_KEY_ORDER))


def _select_style(requested: _Style, analysis: _Analysis, text: str, *, simple_key: bool) -> _Style:
    """libyaml ``yaml_emitter_select_scalar_style`` for untagged block-context scalars."""
    style = requested
    if simple_key and analysis.multiline:
        style = _Style.DOUBLE
    if style is _Style.PLAIN and (not analysis.block_plain_allowed or (text == "" and simple_key)):
        style = _Style.SINGLE
    if style is _Style.SINGLE and not analysis.single_quoted_allowed:
        style = _Style.DOUBLE
    if style is _Style.LITERAL and (not analysis.block_allowed or simple_key):
        style = _Style.DOUBLE
    return style


def _chomp_indicator(text: str) -> str:
    if not _is_break(text[-1]):
        return "-"
    if len(text) == 1 or _is_break(text[-2]):
        return "+"
    return ""


_ESCAPES = {
    "\0": "0",
    "\a": "a",
    "\b": "b",
    "\t": "t",
    "\n": "n",
    "\v": "v",
    "\f": "f",
    "\r": "r",
    "\x1b": "e",
    '"': '"',
    "\\": "\\",
    "\x85": "N",
    "\xa0": "_",
    "\u2028": "L",
    "\u2029": "P",
}


@lru_cache(maxsize=1024)
def _escape(char: str) -> str:
    if char in _ESCAPES:
        return "\\" + _ESCAPES[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}"
