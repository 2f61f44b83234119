"""The filters, tests and functions a template may use, each drawing on the render's budget.

Jinja's own filters are kept except those that cannot be bounded cheaply or have no place in
a manifest: ``random`` (the same inputs must render the same output), ``pprint`` (a
recursive pretty-printer in Python, slow on a value at the size bound), and the HTML helpers
``striptags``, ``urlize`` and ``xmlattr`` (regular expressions quadratic in their input).

Every filter counts a step, takes lazy inputs as bounded lists, returns lists rather than
generators (so that what it produced is measured where it is produced) and has its result
measured. Filters that take a width or a count have their result's size worked out from the
operands first, because they would allocate it before anything could measure it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

from jinja2.filters import FILTERS
from jinja2.tests import TESTS

from hakobu.render.budget import Budget, LimitExceeded
from hakobu.render.textsize import printf_chars, replace_chars

_LEFT_OUT = frozenset({"random", "pprint", "striptags", "urlize", "xmlattr"})
# Jinja's MAX_RANGE: a range is a list a loop or a filter may walk in full.
MAX_RANGE = 100_000
# JSON indentation is repeated on every line at every depth.
_MAX_JSON_INDENT = 8

Filter = Callable[..., Any]
Precheck = Callable[..., None]


def bounded_filters(budget: Budget) -> dict[str, Any]:
    prechecks = _prechecks(budget)
    return {
        name: _bounded(budget, name, function, prechecks.get(name))
        for name, function in FILTERS.items()
        if name not in _LEFT_OUT
    }


def bounded_tests(budget: Budget) -> dict[str, Any]:
    def counted(test: Filter) -> Filter:
        @functools.wraps(test)
        def run(*args: Any, **kwargs: Any) -> Any:
            budget.tick()
            return test(*args, **kwargs)

        return run

    tests = cast(Mapping[str, Filter], TESTS)
    return {name: counted(test) for name, test in tests.items()}


def bounded_range(budget: Budget) -> Callable[..., range]:
    def range_(*args: int) -> range:
        budget.tick()
        numbers = range(*args)
        if len(numbers) > MAX_RANGE:
            raise LimitExceeded(f"range of {len(numbers):,} numbers (at most {MAX_RANGE:,})")
        return numbers

    return range_


def bounded_dumps(budget: Budget) -> Callable[..., str]:
    """``json.dumps`` for ``tojson``, its text measured as it is produced."""

    def dumps(value: Any, **options: Any) -> str:
        indent = options.get("indent")
        if isinstance(indent, int) and indent > _MAX_JSON_INDENT:
            raise LimitExceeded(f"tojson indent of {indent} (at most {_MAX_JSON_INDENT})")
        chunks = []
        chars = 0
        for chunk in json.JSONEncoder(**options).iterencode(value):
            chars += len(chunk)
            budget.need(chars, "tojson")
            chunks.append(chunk)
        return "".join(chunks)

    return dumps


def _bounded(budget: Budget, name: str, function: Filter, precheck: Precheck | None) -> Filter:
    # Filters marked to receive the context or the environment take it first.
    passed = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0
    what = f"the filter {name}"

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        budget.tick()
        args = tuple(budget.collect(a, what) if isinstance(a, Iterator) else a for a in args)
        if precheck is not None:
            precheck(*args[passed:], **kwargs)
        result = function(*args, **kwargs)
        if isinstance(result, Iterator):
            result = budget.collect(result, what)
        return budget.checked(result, what)

    return run


def _prechecks(budget: Budget) -> dict[str, Precheck]:
    size = budget.size

    def center(value: Any, width: Any = 80) -> None:
        budget.need(size(value) + _count(width), "the filter center")

    def indent(value: Any, width: Any = 4, *_: Any, **__: Any) -> None:
        per_line = len(width) if isinstance(width, str) else _count(width)
        lines = str(value).count("\n") + 1
        budget.need(size(value) + lines * per_line, "the filter indent")

    def format_(value: Any, *args: Any, **kwargs: Any) -> None:
        budget.need(printf_chars(size, str(value), kwargs or args), "the filter format")

    def join(value: Any, d: Any = "", *_: Any, **__: Any) -> None:
        items = value if isinstance(value, list | tuple) else list(value)
        chars = sum(size(item) for item in items) + size(d) * len(items)
        budget.need(chars, "the filter join")

    def replace(value: Any, old: Any, new: Any, count: Any = None) -> None:
        chars = replace_chars(str(value), str(old), str(new), count)
        budget.need(chars, "the filter replace")

    def wordwrap(value: Any, width: Any = 79, *args: Any, **kwargs: Any) -> None:
        wrapstring = kwargs.get("wrapstring", args[1] if len(args) > 1 else None)
        budget.need(size(value) * (1 + size(wrapstring or "\n")), "the filter wordwrap")

    def sum_(value: Any, attribute: Any = None, start: Any = 0) -> None:
        items = value if isinstance(value, list | tuple) else list(value)
        budget.need(size(start) + sum(size(item) for item in items), "the filter sum")

    def batch(value: Any, linecount: Any, fill_with: Any = None) -> None:
        filler = 0 if fill_with is None else _count(linecount) * (size(fill_with) + 2)
        budget.need(size(value) * 2 + filler, "the filter batch")

    def slice_(value: Any, slices: Any, fill_with: Any = None) -> None:
        each = 4 + (0 if fill_with is None else size(fill_with) + 2)
        budget.need(size(value) * 2 + _count(slices) * each, "the filter slice")

    return {
        "center": center,
        "indent": indent,
        "format": format_,
        "join": join,
        "replace": replace,
        "wordwrap": wordwrap,
        "sum": sum_,
        "batch": batch,
        "slice": slice_,
    }


def _count(number: Any) -> int:
    return max(int(number), 0) if isinstance(number, int | float) else 0
