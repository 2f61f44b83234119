"""Where one environment stands, as the dashboard shows it: per app, sync state, health
and the version it runs (image tags), with the git revision and the one synced last.

It is the same reading as ``hakobu status`` (``observe`` then ``app_status``), kept as
plain JSON-ready data so a page of 1,000 apps is served from memory, not from the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.errors import HakobuError
from hakobu.health import HealthRules
from hakobu.model.objects import Object
from hakobu.model.project import Environment, Project
from hakobu.sync import AppState, app_status, history, observe, read_desired
from hakobu.sync.dependencies import desired_graph
from hakobu.sync.manifests import AppManifests
from hakobu.sync.status import with_dependencies

# Kinds whose pod template names the images an app runs.
_POD_TEMPLATES = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}


@dataclass(frozen=True)
class AppCell:
    sync: str
    health: str
    images: tuple[str, ...]
    differing: tuple[str, ...]
    unhealthy: tuple[str, ...]
    # The apps (dependsOn) a sync of it waits for, each with its state: as `hakobu status`.
    waiting_for: tuple[str, ...] = ()

    def json(self) -> dict[str, Any]:
        return {
            "sync": self.sync,
            "health": self.health,
            "images": list(self.images),
            "differing": list(self.differing),
            "unhealthy": list(self.unhealthy),
            "waiting_for": list(self.waiting_for),
        }


@dataclass(frozen=True)
class EnvSnapshot:
    env: str
    namespace: str
    # The revision git holds for the environment (a commit id, or ``worktree``).
    revision: str
    # The revision of the newest successful sync: what the cluster runs.
    synced_revision: str | None
    apps: dict[str, AppCell] = field(default_factory=dict)
    # Why the environment could not be read (the cluster unreachable, a bad manifest).
    error: str | None = None
    # Each app's observation, which an app's page reads rather than observing again: for
    # an app of thousands of objects, reading and planning them is most of the page's cost.
    states: dict[str, AppState] = field(default_factory=dict, compare=False, repr=False)
    # The project's health rules the snapshot was judged by, for the objects an app's page
    # reads.
    rules: HealthRules = field(default_factory=HealthRules, compare=False, repr=False)

    def json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "namespace": self.namespace,
            "revision": self.revision,
            "synced_revision": self.synced_revision,
            "error": self.error,
            "apps": {name: cell.json() for name, cell in self.apps.items()},
        }


def read_snapshot(kube: KubeApi, project: Project, env: Environment) -> EnvSnapshot:
    """The environment now; a failure to read it becomes the snapshot's ``error``."""
    try:
        desired = read_desired(project, env)
        states = observe(kube, project, env, desired)
        records = history(kube, env.namespace, project.name, env.name)
        graph = desired_graph(desired)
    except HakobuError as e:
        return EnvSnapshot(env.name, env.namespace, "", None, error=str(e))
    succeeded = [r for r in records if r.get("result") == "Succeeded"]
    synced = str(succeeded[-1].get("revision")) if succeeded else None
    statuses = with_dependencies([app_status(state, project.health) for state in states], graph)
    cells = {
        status.app: AppCell(
            str(status.sync),
            str(status.health),
            images_of(desired.app(status.app)),
            status.differing,
            status.unhealthy,
            status.waiting_for,
        )
        for status in statuses
    }
    return EnvSnapshot(
        env.name,
        env.namespace,
        desired.revision,
        synced,
        cells,
        states={state.name: state for state in states},
        rules=project.health,
    )


def images_of(app: AppManifests) -> tuple[str, ...]:
    """The images the app's workloads run, in manifest order, each once."""
    found: dict[str, None] = {}
    for manifest in app.manifests:
        for image in _images(manifest.obj):
            found[image] = None
    return tuple(found)


def _images(obj: Object) -> list[str]:
    path = _POD_TEMPLATES.get(str(obj.get("kind")))
    if path is None:
        return []
    spec: Any = obj
    for key in path:
        spec = spec.get(key) if isinstance(spec, dict) else None
    if not isinstance(spec, dict):
        return []
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    return [str(c["image"]) for c in containers if isinstance(c, dict) and c.get("image")]
