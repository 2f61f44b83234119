"""The order apps are synced in: what each waits for, read from the committed objects.

Render stamps an app's ``dependsOn`` on each of its objects (``model.dependencies``), so
the graph is read from the desired state itself, and checked again here: the files under
``generated/`` may have been edited by hand. An app git no longer holds is pruned after the
removed apps that depended on it, as its live objects' annotation tells: dependents go
first, the reverse of the order they came in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hakobu.errors import InvalidInput
from hakobu.model.dependencies import (
    ANNOTATION,
    Graph,
    annotation_of,
    annotation_text,
    find_cycle,
    parse_annotation,
)
from hakobu.model.objects import Object
from hakobu.sync.manifests import DesiredState


def desired_graph(desired: DesiredState) -> dict[str, tuple[str, ...]]:
    """app → the apps it depends on, for every app of ``desired``; ``InvalidInput`` when an
    app's objects disagree, a dependency is not an app of the environment, or there is a
    cycle."""
    graph: dict[str, tuple[str, ...]] = {}
    for app in desired.apps:
        if not app.manifests:
            graph[app.name] = ()
            continue
        first, *rest = app.manifests
        # Render writes the same text on each object: compared as written, parsed once.
        text = annotation_text(first.obj)
        for manifest in rest:
            if annotation_text(manifest.obj) != text:
                raise InvalidInput(
                    f"{manifest.source}: its {ANNOTATION} annotation differs from that of "
                    f"{first.source}; every object of app {app.name!r} says the same",
                    hint="render again: render writes the app's dependsOn on each object",
                )
        names = parse_annotation(text)
        graph[app.name] = names
    for dependent, names in sorted(graph.items()):
        for name in names:
            if name not in graph:
                raise InvalidInput(
                    f"app {dependent!r} depends on {name!r}, which environment {desired.env!r} "
                    f"does not hold at {desired.revision}",
                    hint=f"the apps are: {', '.join(sorted(graph))}; fix dependsOn and "
                    "render again",
                )
    cycle = find_cycle(graph)
    if cycle is not None:
        raise InvalidInput(
            f"environment {desired.env!r} at {desired.revision}: dependency cycle: "
            f"{' → '.join(cycle)}",
            hint="remove one of these dependencies and render again",
        )
    return graph


def removed_graph(removed: Mapping[str, Iterable[Object]]) -> dict[str, tuple[str, ...]]:
    """For apps git no longer holds (app → their live objects): app → the removed apps
    whose prune it waits for, those that depended on it."""
    waits: dict[str, set[str]] = {app: set() for app in removed}
    for app, objects in removed.items():
        for obj in objects:
            for name in annotation_of(obj):
                if name in waits and name != app:
                    waits[name].add(app)
    graph = {app: tuple(sorted(names)) for app, names in waits.items()}
    # Live annotations are not checked as git is: a cycle among them (objects edited in
    # the cluster) orders nothing rather than stopping the prune.
    if find_cycle(graph) is not None:
        return {app: () for app in graph}
    return graph


def prerequisites(
    graph: Graph, apps: Iterable[str]
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """For the apps of a run: what each waits for among them, and who waits for each."""
    names = set(apps)
    waits = {app: {n for n in graph.get(app, ()) if n in names} for app in names}
    waited: dict[str, set[str]] = {app: set() for app in names}
    for app, before in waits.items():
        for name in before:
            waited[name].add(app)
    return waits, waited
