"""CEL expressions over live objects: the one door to the CEL library.

The library (``common-expression-language``, Rust's ``cel`` crate behind Python bindings)
was chosen by ``benchmarks/cel_health.py``. It is imported on first use, not with this
module: importing it costs about a quarter of a second (it brings its own command line's
dependencies), which commands that never meet a rule should not pay.

An expression sees the object's top-level fields as variables, as Flux's health check
expressions do: ``status.conditions``, ``metadata.generation``, ``spec.replicas``.
``metadata``, ``spec`` and ``status`` are always bound — empty when the object has none —
so that ``has(status.conditions)`` is false on an object no controller has touched yet,
where an unbound variable would make it an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cel import Program

# A rule is a line or a few in a project file; a bound keeps a hostile one cheap to compile.
MAX_EXPRESSION_LENGTH = 4096
_ALWAYS_BOUND = ("metadata", "spec", "status")
# The library's functions (its macros — has, all, exists, exists_one, map, filter — and
# operators are not calls). Extension libraries (strings, math, lists) are not included.
FUNCTIONS = frozenset(
    {
        "size", "contains", "startsWith", "endsWith", "matches", "int", "uint", "double",
        "string", "bytes", "timestamp", "duration", "type", "dyn", "getFullYear", "getMonth",
        "getDate", "getDayOfMonth", "getDayOfWeek", "getDayOfYear", "getHours", "getMinutes",
        "getSeconds", "getMilliseconds",
    }
)  # fmt: skip


class ExpressionError(Exception):
    """An expression does not compile, or failed while being evaluated."""


@dataclass(frozen=True)
class Expression:
    source: str
    program: Program = field(repr=False, compare=False)


def compile_expression(source: str) -> Expression:
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"is {len(source)} characters long, more than {MAX_EXPRESSION_LENGTH}"
        )
    import cel  # noqa: PLC0415 — see the module docstring

    try:
        program = cel.compile(source)
    except ValueError as e:
        raise ExpressionError(_first_error(str(e))) from None
    # The library resolves functions only when it calls them: an unknown one (a typo, or
    # an extension such as lowerAscii) would compile and fail on every object. cel-go
    # refuses it when compiling, and so do we.
    unknown = sorted(
        name for name in program.functions() if name[0].isalpha() and name not in FUNCTIONS
    )
    if unknown:
        raise ExpressionError(
            f"calls {', '.join(unknown)}, which CEL here does not have; it has: "
            f"{', '.join(sorted(FUNCTIONS))}"
        )
    return Expression(source, program)


def evaluate(expression: Expression, obj: Mapping[str, Any]) -> object:
    """The value of ``expression`` for ``obj``; ExpressionError when evaluation fails."""
    variables: dict[str, Any] = {name: {} for name in _ALWAYS_BOUND}
    variables.update(obj)
    metadata = variables.get("metadata")
    if isinstance(metadata, Mapping) and "managedFields" in metadata:
        # Often most of an object's bytes, read by no rule, and converted on every call.
        variables["metadata"] = {k: v for k, v in metadata.items() if k != "managedFields"}
    try:
        return expression.program.execute(variables)
    except Exception as e:  # noqa: BLE001 — the library raises built-in types of every kind
        raise ExpressionError(_evaluation_error(e)) from None


def _first_error(message: str) -> str:
    """The library's parse error without the echo of the expression and the caret line."""
    for line in message.splitlines():
        if "ERROR: <input>:" in line:
            return line.split("ERROR: <input>:", 1)[1].strip()
    return message.splitlines()[0] if message else "does not compile"


def _evaluation_error(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no such field {error.args[0]!r}" if error.args else "no such field"
    return str(error) or type(error).__name__
