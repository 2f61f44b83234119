"""Render one instance of a fleet (``hakobu.model.fleet``) for one environment.

The fleet's template is a template app: ``template/`` for the first tier, and for a later
tier the copy it was promoted to (``tiers/<tier>/``, see ``hakobu.model.tierrollout``). An
instance renders it with the environment's values, overlaid by the fleet's defaults and then
by the instance's own values (in maintenance, then by the fleet's maintenance values),
and with ``app`` (``<fleet>-<instance>``), ``fleet``,
``instance`` and ``tier`` besides. Everything is read through ``inputs``, so an instance's
cached render goes stale exactly when its own file, the fleet file or its template changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from hakobu.errors import OperationFailed
from hakobu.model.fleet import (
    FLEET_FILE,
    INSTANCE_SUFFIXES,
    INSTANCES_DIR,
    SUSPEND_ANNOTATION,
    TEMPLATE_DIR,
    app_name,
    instance_name,
    load_fleet,
    load_instance,
)
from hakobu.model.objects import Object
from hakobu.model.project import Environment, Project
from hakobu.model.source import SourceError
from hakobu.model.tierrollout import TIERS_DIR, pinned_template
from hakobu.render.inputs import Inputs
from hakobu.render.templates import deep_merge, render_template_dir


def is_fleet(path: Path, inputs: Inputs) -> bool:
    return inputs.is_file(path / FLEET_FILE)


def fleet_source(project: Project, fleet_dir: Path, inputs: Inputs) -> Path:
    """Where ``fleet_dir``'s fleet file and template are: in the directory itself, else (in
    a system repository, ``hakobu.model.sourcepin``) at the same path of the pinned tree."""
    if project.source is None or is_fleet(fleet_dir, inputs):
        return fleet_dir
    if project.source_tree is None:
        raise OperationFailed(
            f"{project.file}: the application repository {project.source.repository} "
            "is not fetched",
            hint="render with `hakobu render`, which fetches the pinned commit",
        )
    return project.source_tree / fleet_dir.relative_to(project.root)


def instance_files(fleet_dir: Path, inputs: Inputs) -> dict[str, Path]:
    """Instance name → its file; two files naming one instance are refused."""
    directory = fleet_dir / INSTANCES_DIR
    found: dict[str, Path] = {}
    if not inputs.is_dir(directory):
        return found
    for entry in inputs.list_dir(directory):
        if entry.startswith(".") or not entry.endswith(INSTANCE_SUFFIXES):
            continue
        path = directory / entry
        name = instance_name(fleet_dir.name, path)
        if name in found:
            raise SourceError(
                path,
                f"instance {name!r} of fleet {fleet_dir.name!r} is defined twice "
                f"({found[name].name} and {entry})",
                hint="keep one of the two files",
            )
        found[name] = path
    return found


def render_instance(
    fleet_dir: Path,
    instance_file: Path,
    env: Environment,
    inputs: Inputs,
    images: Mapping[str, str],
    *,
    deadline: float | None = None,
) -> list[Object]:
    fleet_file = fleet_dir / FLEET_FILE
    fleet = load_fleet(fleet_file, inputs.read_text(fleet_file))
    instance = load_instance(fleet, instance_file, inputs.read_text(instance_file))
    template = _template_of(fleet_dir, fleet.tiers, instance.tier, inputs)
    if not inputs.is_dir(template):
        raise SourceError(
            fleet_file,
            f"fleet {fleet.name!r} has no template",
            hint=f"put the template's files in {template}/",
        )
    for name in ("values.yaml", f"values-{env.name}.yaml"):
        if inputs.is_file(template / name):
            # It would be merged over the instance's own values.
            raise SourceError(
                template / name,
                "a fleet's template has no values file",
                hint=f"declare the values and their defaults under values: in {fleet_file}",
            )
    values = deep_merge(deep_merge(env.values, fleet.values), instance.values)
    if instance.maintenance and fleet.maintenance is not None:
        values = deep_merge(values, fleet.maintenance)
    objects = render_template_dir(
        template,
        app=app_name(fleet.name, instance.name),
        environment=env.name,
        namespace=env.namespace,
        values=values,
        inputs=inputs,
        images=images,
        deadline=deadline,
        context={"fleet": fleet.name, "instance": instance.name, "tier": instance.tier},
    )
    if instance.suspend:
        for obj in objects:
            obj.setdefault("metadata", {}).setdefault("annotations", {})[SUSPEND_ANNOTATION] = (
                "true"
            )
    return objects


def _template_of(fleet_dir: Path, tiers: tuple[str, ...], tier: str, inputs: Inputs) -> Path:
    """The template ``tier`` renders: its promoted copy if it has one, else ``template/``."""
    pinned_dir = fleet_dir / TIERS_DIR
    later = tiers[1:]
    if tier not in later:
        # The first tier reads nothing of tiers/: giving later tiers their copies, or
        # promoting one, leaves its instances' cached renders valid.
        return fleet_dir / TEMPLATE_DIR
    if inputs.is_dir(pinned_dir):
        for entry in inputs.list_dir(pinned_dir):
            if entry in later or entry.startswith("."):
                continue
            why = (
                f"the first tier renders {TEMPLATE_DIR}/"
                if entry == tiers[0]
                else f"fleet {fleet_dir.name!r} has no tier {entry!r}"
            )
            raise SourceError(
                pinned_dir / entry,
                f"{TIERS_DIR}/ holds the template each later tier was promoted to; {why}",
                hint=f"remove {pinned_dir / entry}; the later tiers are: "
                + (", ".join(later) or "none"),
            )
    pinned = pinned_template(fleet_dir, tier)
    return pinned if inputs.is_dir(pinned) else fleet_dir / TEMPLATE_DIR
