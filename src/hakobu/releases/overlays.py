"""Promotion of a kustomize app: the target's overlay takes the source's ``images:``.

Rendering decides, not the lists: the app needs promotion when a container of a workload
(matched by kind and name, containers by name; namespaces differ between environments)
runs another image in the target than in the source. The target's kustomization then gets
the source's image entries (``hakobu.releases.kustomizeimages``) and every environment is
rendered again: the target's containers must now run exactly the source's images, and no
other environment may change (an overlay can build on the target's, or share its
kustomization). Anything else is refused, since the source's images then come from
somewhere an ``images:`` entry does not reach, such as a patch of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hakobu.errors import OperationFailed
from hakobu.model.objects import Object
from hakobu.model.project import Environment, Project
from hakobu.releases.appspec import AppPromotion
from hakobu.releases.kustomizeimages import promote_images
from hakobu.render.apps import App, kustomize_root, render_app
from hakobu.render.inputs import Inputs
from hakobu.render.kustomize.kustomization import find_file
from hakobu.render.remotepins import RemoteGit
from hakobu.repo.remotetree import RemoteRepositories

# Where each workload kind holds its pod spec.
_POD_SPECS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}

# (kind, name) → container name → image
Images = dict[tuple[str, str], dict[str, str]]


@dataclass(frozen=True)
class _Mismatch:
    workload: str  # Kind/name
    container: str
    source: str  # the image the source runs
    target: str  # the image the target would run


def promote_overlay(
    project: Project, app: App, source: Environment, target: Environment
) -> tuple[Path, AppPromotion] | None:
    """Edit ``target``'s kustomization of ``app`` (a kustomize app of ``project``, whose
    files this writes) so that it runs ``source``'s images; returns the file and what
    changed, or None when it runs them already."""
    # One listing of each remote base's refs for every render of the promotion.
    git = RemoteRepositories()
    before = {env.name: _render(project, app, env, git) for env in project.environments}
    wanted = _images(before[source.name])
    mismatches = _mismatches(wanted, _images(before[target.name]))
    if not mismatches:
        return None
    from_file = _kustomization(project, app, source)
    to_file = _kustomization(project, app, target)
    shown = to_file.relative_to(project.root)
    # Read as a render reads: bounded, and never through a link that leads out of the
    # project, since the edit is written back to the same path.
    inputs = Inputs().within(project.root)
    promotion = promote_images(
        app.name,
        (from_file.relative_to(project.root), inputs.read_text(from_file)),
        (shown, inputs.read_text(to_file)),
    )
    if promotion is not None:
        to_file.write_text(promotion.text)
        for env in project.environments:
            if env.name != target.name and _render(project, app, env, git) != before[env.name]:
                raise OperationFailed(
                    f"cannot promote {app.name}: taking {source.name}'s images: into {shown} "
                    f"would change {env.name} too",
                    hint=f"give {target.name} an overlay of its own, or edit {shown} by hand",
                )
        mismatches = _mismatches(wanted, _images(_render(project, app, target, git)))
    if promotion is None or mismatches:
        first = mismatches[0]
        raise OperationFailed(
            f"cannot promote {app.name}: with {source.name}'s images: list, {target.name}'s "
            f"{first.workload} container {first.container} would run {first.target}, "
            f"{source.name}'s runs {first.source}",
            hint=f"{source.name}'s image comes from more than its images: list (a patch, "
            f"say); edit {shown} by hand so that {target.name} runs {first.source}",
        )
    return to_file, promotion


def _render(project: Project, app: App, env: Environment, git: RemoteGit) -> list[Object]:
    # Images built in the repository are for app specs and templates: kustomize takes none.
    return render_app(app, env, project, Inputs(), images={}, remote_git=git).objects


def _kustomization(project: Project, app: App, env: Environment) -> Path:
    """The kustomization file ``env`` builds, as the render found it."""
    inputs = Inputs().within(project.root)
    return find_file(kustomize_root(app, env, inputs), inputs)


def _images(objects: list[Object]) -> Images:
    images: Images = {}
    for obj in objects:
        kind = str(obj.get("kind", ""))
        path = _POD_SPECS.get(kind)
        if path is None:
            continue
        spec: Any = obj
        for key in path:
            spec = spec.get(key) if isinstance(spec, dict) else None
        if not isinstance(spec, dict):
            continue
        containers = [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
        name = str((obj.get("metadata") or {}).get("name", ""))
        images[kind, name] = {str(c.get("name")): str(c.get("image")) for c in containers}
    return images


def _mismatches(source: Images, target: Images) -> list[_Mismatch]:
    """Containers of workloads both have whose images differ: those only one environment
    runs are its own, not a release to carry."""
    return [
        _Mismatch(f"{kind}/{name}", container, image, target[kind, name][container])
        for (kind, name), containers in sorted(source.items())
        if (kind, name) in target
        for container, image in sorted(containers.items())
        if container in target[kind, name] and target[kind, name][container] != image
    ]
