"""The Jinja environment template apps run in: sandboxed, bounded, reading only the app.

A template is code from whoever wrote the pull request, and ``render --check`` runs it in CI,
so it gets no door out of the template language and a bound on everything it can spend:

- **No door out.** Jinja's ``ImmutableSandboxedEnvironment`` refuses underscore and
  interpreter-internal attributes (``__globals__``, ``__class__``, ``mro``, ``gi_frame``) and
  every method that mutates a value; ``str.format``/``format_map`` go through its sandboxed
  formatter. On top of that a method may be called only if it is listed here (``str``,
  ``dict``, ``list`` and ``tuple`` methods that only read, plus imported macros and the loop
  object), so ``int.to_bytes(10**9)`` or ``str.expandtabs`` are not reachable; ``lipsum``,
  ``cycler`` and ``namespace`` are not offered (random text; mutable objects whose size could
  change after it was measured).
- **Only the app's files.** ``include``, ``import``, ``from … import`` and ``extends`` name
  files by their path relative to the app directory and read them through ``Inputs`` (so the
  render cache sees them); absolute paths, ``..`` and anything that resolves outside the app
  directory are refused.
- **Bounded.** Every hook below draws on a ``Budget``: the operators that can grow a value
  (``*``, ``+``, ``%``, ``**``) and ``~`` have their result's size worked out from their
  operands before they run; list, tuple and dict literals, call results and filter results
  are measured (in constant time per element, see ``budget``); every ``{% for %}`` walks its
  iterable through the budget (one step per item, the clock read every 1024), and so does
  ``loop(…)`` of a recursive loop; calls, filters, tests, operators and attribute lookups
  count steps too, so a template cannot spin without spending them; calls nest at most
  ``Limits.depth`` deep; everything written, to the output or to a macro's buffer, is
  counted. Jinja's constant folding is turned off (``optimized=False`` and a ``finalize``
  that needs the environment), since it would run filters at compile time, outside every
  hook.

These are checks inside one Python process: a single C-level operation on a value within the
bounds (sorting a list of half a million strings, one ``wordwrap`` of a megabyte) cannot be
interrupted, only kept small by the value bound; the deadline is looked at between steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, cast

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import TemplateModule
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Joiner

from hakobu.render.budget import Budget
from hakobu.render.inputs import Inputs
from hakobu.render.templatefilters import (
    bounded_dumps,
    bounded_filters,
    bounded_range,
    bounded_tests,
)
from hakobu.render.textsize import format_chars, printf_chars, replace_chars

# Methods a template may call, by the type that owns them: only those that read.
_METHODS: tuple[tuple[type, frozenset[str]], ...] = (
    (
        str,
        frozenset(
            {
                *("capitalize", "casefold", "center", "count", "endswith", "find", "index"),
                *("isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "islower"),
                *("isnumeric", "isspace", "istitle", "isupper", "join", "ljust", "lower"),
                *("lstrip", "partition", "removeprefix", "removesuffix", "replace", "rfind"),
                *("rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines"),
                *("startswith", "strip", "swapcase", "title", "upper", "zfill"),
            }
        ),
    ),
    (dict, frozenset({"get", "items", "keys", "values"})),
    (list, frozenset({"count", "index"})),
    (tuple, frozenset({"count", "index"})),
)
# String methods whose result can be far longer than the string: sized before they run.
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})


class IncludeRefused(SecurityError):
    """A template named a file outside its app directory."""


class AppLoader(jinja2.BaseLoader):
    """Templates of one app directory, by their path relative to it, read through ``inputs``."""

    def __init__(self, root: Path, inputs: Inputs) -> None:
        self.root = root
        self.inputs = inputs
        # The file names templates were compiled under: how a traceback's frame is known
        # to be a template's.
        self.files: set[str] = set()

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        parts = PurePosixPath(template).parts
        if not parts or template.startswith("/") or "\\" in template or ".." in parts:
            raise IncludeRefused(
                f"{template!r} is not a path inside the app directory: templates name the "
                "app's own files by a relative path"
            )
        path = self.root.joinpath(*parts)
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise IncludeRefused(f"{template!r} leads outside the app directory")
        if not self.inputs.is_file(path):
            raise jinja2.TemplateNotFound(template)
        text = self.inputs.read_text(path)
        self.files.add(str(path))
        return text, str(path), lambda: True


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with the budget's hooks written around loops, ``~``,
    literals and output."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("bounded_iter"),
            [node.iter],
            [],
            None,
            None,
            lineno=node.iter.lineno,
        )
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for value in node.nodes:
            self.visit(value, frame)
            self.write(", ")
        self.write("))")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self.write("environment.bounded_value(")
        super().visit_List(node, frame)
        self.write(")")

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self.write("environment.bounded_value(")
        super().visit_Dict(node, frame)
        self.write(")")

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx != "load":
            super().visit_Tuple(node, frame)
            return
        self.write("environment.bounded_value(")
        super().visit_Tuple(node, frame)
        self.write(")")

    def _output_const_repr(self, group: Any) -> str:
        return f"environment.bounded_write({super()._output_const_repr(group)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write("environment.bounded_write(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        super()._output_child_post(node, frame, finalize)
        self.write(")")


class _CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once per process. A bucket is found by the template's name and
    file and holds code only for the source it was compiled from (Jinja compares the
    source's digest), so a changed file is compiled again. A platform base's templates are
    the same file for every app on its version: without this, each app compiled them anew.
    Bounded: past ``_MAX`` templates it starts over."""

    _MAX = 1024

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if len(self._code) >= self._MAX:
            self._code.clear()
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """Jinja for one render of one template app: sandboxed, bounded by ``budget``."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(
        self, loader: AppLoader, budget: Budget, functions: Mapping[str, Callable[..., Any]]
    ) -> None:
        super().__init__(
            loader=loader,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,  # the output is YAML, not HTML
            optimized=False,
            finalize=_finalize,
            auto_reload=False,
            bytecode_cache=_COMPILED,
        )
        self.budget = budget
        self.filters = bounded_filters(budget)
        self.tests = bounded_tests(budget)
        self.globals = {
            "range": bounded_range(budget),
            "dict": dict,
            "joiner": Joiner,
            **functions,
        }
        self.policies["json.dumps_function"] = bounded_dumps(budget)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if not callable(value) or isinstance(obj, LoopContext | TemplateModule):
            return True
        return any(isinstance(obj, kind) and attr in names for kind, names in _METHODS)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.budget.tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.budget.tick()
        return super().getitem(obj, argument)

    def call(
        # Jinja's names: no keyword argument of the call can clash with them.
        __self,
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        budget = __self.budget
        budget.tick()
        if isinstance(__obj, LoopContext) and args:
            # ``loop(children)`` of a recursive loop walks a new iterable.
            args = (budget.iterate(args[0]), *args[1:])
        args = __self._sized_method_call(__obj, args)
        budget.enter()
        try:
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.leave()
        return budget.checked(result, f"calling {getattr(__obj, '__name__', 'a function')}")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = self.budget
        budget.tick()
        size = budget.size
        what = f"the operator {operator}"
        if operator == "*":
            for value, times in ((left, right), (right, left)):
                if isinstance(value, str | list | tuple) and isinstance(times, int):
                    budget.need(size(value) * max(times, 0), what)
            if isinstance(left, int) and isinstance(right, int):
                budget.need_bits(left.bit_length() + right.bit_length(), what)
        elif operator == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                budget.need(size(left) + size(right), what)
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
                budget.need_bits(left.bit_length() * right, what)
        elif isinstance(left, str):
            budget.need(printf_chars(size, left, right), what)
        return budget.checked(self.binop_table[operator](left, right), what)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        formatter = super().wrap_str_format(value)
        if formatter is None:
            return None
        text: str = value.__self__
        budget = self.budget
        mapping = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            operands = args[0] if mapping and args else (args, kwargs)
            budget.need(format_chars(budget.size, text, budget.size(operands)), "str.format")
            return cast(str, budget.checked(formatter(*args, **kwargs), "str.format"))

        return bounded

    # Called from the code ``_BoundedCodeGenerator`` writes.

    def bounded_iter(self, iterable: Any) -> Any:
        return self.budget.iterate(iterable)

    def bounded_concat(self, values: tuple[Any, ...]) -> str:
        budget = self.budget
        budget.tick()
        budget.need(sum(budget.size(value) for value in values), "the operator ~")
        return cast(str, budget.checked("".join(map(str, values)), "the operator ~"))

    def bounded_value(self, value: Any) -> Any:
        self.budget.tick()
        return self.budget.checked(value, "a literal")

    def bounded_write(self, text: str) -> str:
        return self.budget.write(text)

    def _sized_method_call(self, method: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """``args`` for calling ``method``, once a string method's result is known to fit."""
        owner = getattr(method, "__self__", None)
        name = getattr(method, "__name__", "")
        if not isinstance(owner, str):
            return args
        budget = self.budget
        what = f"str.{name}"
        if name in _WIDTH_METHODS and args and isinstance(args[0], int):
            budget.need(max(len(owner), args[0]), what)
        elif name == "replace" and len(args) >= 2:
            count = args[2] if len(args) > 2 else None
            budget.need(replace_chars(owner, str(args[0]), str(args[1]), count), what)
        elif name == "join" and args:
            items = budget.collect(args[0], what)
            budget.need(sum(budget.size(i) for i in items) + len(owner) * len(items), what)
            return (items, *args[1:])
        return args


@jinja2.pass_environment
def _finalize(environment: jinja2.Environment, value: Any) -> Any:
    return cast(TemplateSandbox, environment).budget.checked(value, "an output value")
