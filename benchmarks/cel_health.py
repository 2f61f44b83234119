"""Benchmark: the CEL libraries that could evaluate health rules, on hakobu's shipped rules.

The candidates are the two maintained CEL implementations for Python:
``common-expression-language`` (Rust's ``cel`` crate behind bindings, imported as ``cel``)
and ``cel-python`` (pure Python, imported as ``celpy``). For each installed candidate, in
one run:

- importing it, in a new process (best of a few): every command that meets a rule pays it;
- compiling every shipped rule's expressions (what loading a project with rules costs);
- evaluating the rules over N realistic custom resources (the fixtures of the shipped rules'
  tests, repeated, each with a typical ``managedFields`` block): every expression of the
  rule for the object, in Flux's order, the object converted as the library needs it
  (``managedFields`` left out, as hakobu leaves it out).

Both must give the same answer for every expression and object; the benchmark fails
otherwise. Last, ``hakobu.health.assess`` itself over the same objects, with the library
hakobu uses. ``cel-python`` is not one of hakobu's dependencies: install it into the
environment that runs this (``pip install cel-python``) to compare; without it, only the
chosen library is timed and the output says so.

    .venv/bin/python benchmarks/cel_health.py [--objects 2000]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from hakobu.health import HealthRules, assess
from hakobu.health.shipped import RULES, ShippedRule

FIXTURES = Path(__file__).parents[1] / "tests" / "unit" / "health" / "fixtures" / "custom"
# (candidate, module)
CANDIDATES = (("common-expression-language", "cel"), ("cel-python", "celpy"))
MANAGED_FIELDS = [
    {
        "manager": manager,
        "operation": "Update",
        "apiVersion": "v1",
        "time": "2026-12-03T10:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:status": {"f:conditions": {f'k:{{"type":"{i}"}}': {} for i in "ab"}}},
    }
    for manager in ("hakobu", "controller", "kubectl-edit")
]

Compiled = Callable[[dict[str, Any]], object]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=2000)
    args = parser.parse_args()
    objects = _objects(args.objects)
    pairs = [(obj, _rule_for(obj)) for obj in objects]
    print(f"{len(objects)} objects, {len(RULES)} shipped rules; load average {os.getloadavg()}")
    answers: dict[str, list[object]] = {}
    for candidate, module in CANDIDATES:
        if importlib.util.find_spec(module) is None:
            print(f"{candidate}: not installed here (pip install {candidate} to compare)")
            continue
        imported = _import_seconds(module)
        compile_one = _compiler(module)
        started = time.perf_counter()
        programs = {
            id(rule): [(name, compile_one(source)) for name, source in _expressions(rule)]
            for rule in RULES
        }
        compiled = time.perf_counter() - started
        started = time.perf_counter()
        results: list[object] = []
        for obj, rule in pairs:
            if rule is None:
                continue
            # What hakobu passes: managedFields left out, the usual fields always bound.
            metadata = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
            variables = {"spec": {}, "status": {}, **obj, "metadata": metadata}
            for _, program in programs[id(rule)]:
                results.append(program(variables))
        evaluated = time.perf_counter() - started
        answers[candidate] = results
        print(
            f"{candidate}: import {imported * 1e3:.0f} ms, compile all rules "
            f"{compiled * 1e3:.1f} ms, evaluate {len(results)} expressions "
            f"{evaluated * 1e3:.0f} ms ({evaluated / len(objects) * 1e6:.0f} µs an object)"
        )
    if len(answers) == 2 and len({tuple(map(bool, a)) for a in answers.values()}) != 1:
        print("the candidates disagree", file=sys.stderr)
        return 1
    started = time.perf_counter()
    for obj in objects:
        assess(obj, HealthRules())
    assessed = time.perf_counter() - started
    print(
        f"hakobu.health.assess: {assessed * 1e3:.0f} ms for {len(objects)} objects "
        f"({assessed / len(objects) * 1e6:.0f} µs an object)"
    )
    return 0


def _objects(count: int) -> list[dict[str, Any]]:
    fixtures = [
        obj
        for path in sorted(FIXTURES.glob("*.yaml"))
        for obj in yaml.safe_load_all(path.read_text())
    ]
    objects = []
    for i in range(count):
        obj = dict(fixtures[i % len(fixtures)])
        obj["metadata"] = {**obj["metadata"], "name": f"o{i}", "managedFields": MANAGED_FIELDS}
        objects.append(obj)
    return objects


def _rule_for(obj: dict[str, Any]) -> ShippedRule | None:
    """The shipped rule hakobu would use for ``obj``, as a rule's own text."""
    group = obj["apiVersion"].rpartition("/")[0]
    from hakobu.health.shipped import shipped_rules  # noqa: PLC0415 — compiled with cel

    for shipped, compiled in zip(RULES, shipped_rules(), strict=True):
        if compiled.applies_to(group, obj["kind"], obj):
            return shipped
    return None


def _expressions(rule: ShippedRule) -> list[tuple[str, str]]:
    listed = [
        ("suspended", rule.suspended),
        ("inProgress", rule.in_progress),
        ("failed", rule.failed),
        ("current", rule.current),
    ]
    return [(name, source) for name, source in listed if source is not None]


def _compiler(module: str) -> Callable[[str], Compiled]:
    if module == "cel":
        import cel  # noqa: PLC0415

        def compile_cel(source: str) -> Compiled:
            return cel.compile(source).execute

        return compile_cel
    import celpy  # noqa: PLC0415

    environment = celpy.Environment()

    def compile_celpy(source: str) -> Compiled:
        program = environment.program(environment.compile(source))
        return lambda variables: program.evaluate(celpy.json_to_cel(variables))

    return compile_celpy


def _import_seconds(module: str, runs: int = 3) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return min(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout)
        for _ in range(runs)
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
