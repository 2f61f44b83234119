"""Dependencies between apps: ``dependsOn``, the graph it makes, and its checks (pure).

An app spec says ``dependsOn: [db]``; apps of other kinds (kustomize trees, templates)
say it in ``hakobu.yaml``'s ``dependsOn:`` mapping. Render stamps the list on every object
of the app as the annotation ``hakobu.dev/depends-on`` (sorted, comma-separated), because
sync reads nothing but the committed objects: the list travels with them through the work
tree, ``--rev``, tier branches and the agent's clone, and the cluster's copy of each object
says the same.

A dependency must be another app of the environment, and the graph may hold no cycle;
both are refused with the file, line and field of the declaration at fault.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hakobu.model.objects import Object
from hakobu.model.source import Document, FieldPath, SourceError

ANNOTATION = "hakobu.dev/depends-on"

# app → the apps it depends on.
Graph = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Declared:
    """One app's ``dependsOn`` list, and where it was written (for errors)."""

    app: str
    names: tuple[str, ...]
    file: Path
    field: FieldPath
    lines: tuple[int | None, ...]

    def error(self, index: int, message: str, hint: str | None = None) -> SourceError:
        return SourceError(
            self.file,
            message,
            line=self.lines[index],
            field=(*self.field, index),
            hint=hint,
        )


def parse_declared(document: Document, path: FieldPath, app: str, value: Any) -> Declared:
    """A ``dependsOn`` list at ``path`` of ``document``: app names, each once, not ``app``."""
    if not isinstance(value, list):
        raise document.error(path, f"expected a list of app names, found {type(value).__name__}")
    names: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            raise document.error((*path, index), f"expected an app name, found {item!r}")
        if item in names:
            raise document.error((*path, index), f"{item} is listed twice")
        names.append(item)
    declared = Declared(
        app,
        tuple(names),
        document.file,
        path,
        tuple(document.line_of((*path, i)) for i in range(len(names))),
    )
    for index, name in enumerate(names):
        if name == app:
            raise declared.error(index, f"app {app!r} cannot depend on itself")
    return declared


def check_graph(
    graph: Graph, declared: Callable[[str], Declared], *, where: str = "the project"
) -> None:
    """Every dependency an app of ``graph``, and no cycle; ``declared(app)`` locates an
    app's list when it is at fault."""
    for app in sorted(graph):
        for name in graph[app]:
            if name not in graph:
                found = declared(app)
                raise found.error(
                    found.names.index(name),
                    f"app {app!r} depends on {name!r}, which is not an app of {where}",
                    hint=f"the apps are: {', '.join(sorted(graph))}",
                )
    cycle = find_cycle(graph)
    if cycle is not None:
        found = declared(cycle[0])
        raise found.error(
            found.names.index(cycle[1]),
            f"dependency cycle: {' → '.join(cycle)}",
            hint="an app can only be synced after the apps it depends on; remove one of "
            "these dependencies",
        )


def find_cycle(graph: Graph) -> list[str] | None:
    """A cycle of ``graph`` as its apps in order, the first repeated at the end
    (``[api, db, api]``), or None; dependencies outside the graph are ignored."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        # Depth first, with the path kept: a name met again on the path closes a cycle.
        path: list[str] = [start]
        on_path = {start}
        pending = [iter(sorted(graph[start]))]
        while pending:
            following = next((n for n in pending[-1] if n in graph and n not in done), None)
            if following is None:
                finished = path.pop()
                done.add(finished)
                on_path.discard(finished)
                pending.pop()
            elif following in on_path:
                return [*path[path.index(following) :], following]
            else:
                path.append(following)
                on_path.add(following)
                pending.append(iter(sorted(graph[following])))
    return None


def annotated(objects: Iterable[Object], names: tuple[str, ...]) -> list[Object]:
    """Copies of ``objects`` carrying ``names`` as the annotation (the objects when empty)."""
    if not names:
        return list(objects)
    value = ",".join(sorted(names))
    stamped = []
    for obj in objects:
        metadata = obj.get("metadata") or {}
        annotations = {**(metadata.get("annotations") or {}), ANNOTATION: value}
        stamped.append({**obj, "metadata": {**metadata, "annotations": annotations}})
    return stamped


def annotation_of(obj: Object) -> tuple[str, ...]:
    """The dependencies ``obj``'s annotation names (none when it has none)."""
    return parse_annotation(annotation_text(obj))


def annotation_text(obj: Object) -> object:
    """The annotation's value as written (None when absent), to compare without parsing."""
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION)


def parse_annotation(value: object) -> tuple[str, ...]:
    if not isinstance(value, str) or not value.strip():
        return ()
    return tuple(sorted({name.strip() for name in value.split(",") if name.strip()}))
