"""What one render of a template app may spend: steps, time, depth and the size of values.

A template is a program written by whoever wrote the pull request, so every way it can spend
time or memory is counted against a ``Budget`` and ends in ``LimitExceeded`` — raised inside
the template's own frame, so the error can name its file and line.

Sizes are counted in characters of the value's text (``str`` of a string, ``repr``-like for
containers), because that is what reaches the output, and they are counted *before* a value
is built wherever building it is the danger (``"x" * 10**9`` must not be allocated to be
measured). Containers are measured once and remembered by identity: a template cannot change
a value once built (the sandbox is immutable), so ``[a, a]`` costs twice ``a`` in constant
time, and a chain of such doublings is refused when its text would pass the bound rather
than when its ``repr`` exhausts memory.

Steps make the refusal of a runaway loop the same on every machine; the deadline is the
backstop for the work a single step can do (one filter over a value at the size bound).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


class LimitExceeded(Exception):
    """A template went past one of the bounds of its render."""


@dataclass(frozen=True)
class Limits:
    """The bounds of one template app's render; see ``DEFAULT_LIMITS`` for the reasons."""

    value_chars: int
    output_chars: int
    written_chars: int
    steps: int
    depth: int
    int_bits: int
    seconds: float


DEFAULT_LIMITS = Limits(
    # The API server refuses objects above about 1.5 MiB, so no single value of a manifest
    # needs more; a chain of doublings reaches it in a handful of steps and stops there.
    value_chars=1 << 20,
    # Per template file. Its output is parsed as YAML next, at about 2 s per MiB of dense
    # keys, so this bound is what keeps the parse inside the time a render may take.
    output_chars=1 << 20,
    # Everything a template writes, into its output or into macro and block buffers that
    # may be thrown away: buffered text is memory even when it never reaches the output.
    written_chars=16 << 20,
    # Loop iterations, calls, filters, operators and lookups. Honest templates use a few
    # thousand; a quarter of a million take about 0.2 s of loop or 1 s of macro calls.
    steps=250_000,
    # Nested macro calls (and recursive loops): far past any honest template, and well
    # inside Python's own recursion limit so the refusal is ours, not a RecursionError.
    depth=64,
    # Integers printable as text (Python prints at most 4300 digits), so multiplying or
    # raising them to a power stays microseconds.
    int_bits=1 << 16,
    seconds=2.0,
)

# Iterations and the like between two looks at the clock: cheap, and a few milliseconds apart.
_CLOCK_EVERY = 1024
# The text of an object that is neither a string, a number nor a container (a macro, a loop).
_OTHER_CHARS = 64


class Budget:
    """The steps, time and sizes one render has left; every template hook draws on it."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS, *, deadline: float | None = None) -> None:
        self.limits = limits
        self.restart(deadline)

    def restart(self, deadline: float | None = None) -> None:
        """A whole budget again, for the next render of the templates drawing on this one
        (a platform base's, compiled once and rendered for every app on it)."""
        own = time.monotonic() + self.limits.seconds
        # A deadline shared by several apps bounds them together; each keeps its own too.
        self.deadline = own if deadline is None else min(own, deadline)
        self.steps = 0
        self.written = 0
        self.depth = 0
        # id → (the value, kept alive so the id stays its own, its size)
        self._sizes: dict[int, tuple[object, int]] = {}

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.limits.steps:
            raise LimitExceeded(
                f"the template took more than {self.limits.steps:,} steps "
                "(loop iterations, calls, filters, operators)"
            )
        if self.steps % _CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise LimitExceeded(
                f"the render took too long (more than {self.limits.seconds:g} s for one app, "
                "or the environment's templates together past their deadline)"
            )

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.limits.depth:
            self.depth -= 1
            raise LimitExceeded(f"calls nested deeper than {self.limits.depth}")

    def leave(self) -> None:
        self.depth -= 1

    def need(self, chars: int, what: str) -> None:
        """Refuse to build a value of ``chars`` characters if that is past the bound."""
        if chars > self.limits.value_chars:
            raise LimitExceeded(
                f"{what} would make a value of about {chars:,} characters "
                f"(at most {self.limits.value_chars:,})"
            )

    def need_bits(self, bits: int, what: str) -> None:
        if bits > self.limits.int_bits:
            raise LimitExceeded(
                f"{what} would make an integer of about {bits:,} bits "
                f"(at most {self.limits.int_bits:,})"
            )

    def checked(self, value: Any, what: str) -> Any:
        """``value`` itself, once its size is known to be within the bound."""
        self.need(self.size(value), what)
        return value

    def write(self, text: str) -> str:
        """Count text a template writes, to its output or to a buffer."""
        self.tick()
        self.written += len(text)
        if self.written > self.limits.written_chars:
            raise LimitExceeded(
                f"the template wrote more than {self.limits.written_chars:,} characters "
                "(output, macro and block text together)"
            )
        return text

    def iterate(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.tick()
            yield item

    def collect(self, items: Iterable[Any], what: str) -> list[Any]:
        """A list of ``items``, refused as soon as its text passes the bound."""
        result: list[Any] = []
        chars = 2
        for item in items:
            self.tick()
            chars += self.size(item) + 2
            self.need(chars, what)
            result.append(item)
        return result

    def size(self, value: Any) -> int:
        """About how many characters ``value`` prints as; containers counted with repeats."""
        if not isinstance(value, list | tuple | dict):
            return _scalar_size(value)
        known = self._sizes.get(id(value))
        if known is not None:
            return known[1]
        chars = 2
        children = (c for pair in value.items() for c in pair) if isinstance(value, dict) else value
        for child in children:
            chars += self.size(child) + 2
            # Stop walking as soon as the answer is known: a value from a values file may
            # be far past the bound.
            if chars > self.limits.value_chars:
                return chars
        self._sizes[id(value)] = (value, chars)
        return chars


def _scalar_size(value: object) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 2
    if isinstance(value, float):
        return 24
    return _OTHER_CHARS
