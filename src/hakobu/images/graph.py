"""The order in-repository images build in: every base before the images built on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hakobu.errors import InvalidInput


@dataclass(frozen=True)
class Dependency:
    """Image ``base`` is used by the Dockerfile ``file`` at ``line``."""

    base: str
    file: str
    line: int


def build_order(dependencies: Mapping[str, Sequence[Dependency]]) -> tuple[str, ...]:
    """Every image of ``dependencies`` after its bases; ties broken by name.

    A cycle (``a`` built from ``b`` built from ``a``) is an error naming it, since no order
    could build it and no tag could name it.
    """
    order: list[str] = []
    done: set[str] = set()
    path: list[tuple[str, Dependency | None]] = []

    def visit(name: str, via: Dependency | None) -> None:
        if name in done:
            return
        names = [n for n, _ in path]
        if name in names:
            raise _cycle_error([*path[names.index(name) :], (name, via)])
        path.append((name, via))
        for dependency in sorted(dependencies.get(name, ()), key=lambda d: d.base):
            visit(dependency.base, dependency)
        path.pop()
        done.add(name)
        order.append(name)

    for name in sorted(dependencies):
        visit(name, None)
    return tuple(order)


def _cycle_error(cycle: list[tuple[str, Dependency | None]]) -> InvalidInput:
    chain = " → ".join(name for name, _ in cycle)
    steps = [
        f"{cycle[i][0]} builds FROM {name} ({via.file}:{via.line})"
        for i, (name, via) in enumerate(cycle[1:])
        if via is not None
    ]
    return InvalidInput(
        f"images build FROM each other in a cycle: {chain}\n  " + "\n  ".join(steps),
        hint="an image cannot be built from itself, even through others: change one of "
        "these FROM lines",
    )
