"""Edit a fleet's instances: add, remove, set values or the tier, list them; and how each
tier's instances stand in a cluster (``tier_statuses``).

Each instance is its own file (``hakobu.model.fleet``), so adding or removing one creates
or deletes exactly that file, and a change to one is a text edit of its file alone
(``overrides.set_path`` and ``delete_path``: comments, order and layout stay as written).
Every edit is checked as render checks it — the name, the fleet's tiers, the values its
template accepts — and the edited file is read back and compared with what was asked
before anything is written: a refused edit writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.health import HealthStatus
from hakobu.model.fleet import (
    FLEET_FILE,
    INSTANCES_DIR,
    Fleet,
    Instance,
    app_name,
    instance_name,
    load_fleet,
    load_instance,
)
from hakobu.model.project import Project
from hakobu.model.source import load_documents
from hakobu.releases.overrides import delete_path, inline, set_path
from hakobu.releases.sourcepin import source_tree
from hakobu.sync.status import AppStatus, SyncState


@dataclass(frozen=True)
class InstanceEdit:
    """What an edit writes: the instance file and its new content (None: deleted)."""

    file: Path
    text: str | None


def parse_assignment(word: str) -> tuple[str, Any]:
    """``key=value`` with the value read as YAML reads a plain scalar (``3`` is a number)."""
    key, sep, text = word.partition("=")
    if not sep or not key:
        raise InvalidInput(f"{word!r} is not key=value", hint="e.g. host=berlin.example.com")
    documents = load_documents(Path(f"<{key}=…>"), text)
    return key, documents[0].data if documents else ""


def fleet_of(project: Project, name: str) -> Fleet:
    directory = project.apps_dir / name
    if project.source is not None and not (directory / FLEET_FILE).is_file():
        # A system repository: the fleet file is the pinned application repository's.
        tree = source_tree(project, project.source)
        directory = tree / directory.relative_to(project.root)
    if not (directory / FLEET_FILE).is_file():
        raise InvalidInput(
            f"no fleet named {name!r}: {directory / FLEET_FILE} does not exist",
            hint=f"a fleet is a directory of {project.apps_dir} holding {FLEET_FILE}",
        )
    file = directory / FLEET_FILE
    return load_fleet(file, file.read_text())


def list_instances(project: Project, fleet: str) -> list[Instance]:
    found = fleet_of(project, fleet)
    directory = project.apps_dir / fleet / INSTANCES_DIR
    if not directory.is_dir():
        return []
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
    return [load_instance(found, path, path.read_text()) for path in files]


def plan_add(
    project: Project, fleet: str, instance: str, tier: str, values: Mapping[str, Any]
) -> InstanceEdit:
    found = fleet_of(project, fleet)
    file = project.apps_dir / fleet / INSTANCES_DIR / f"{instance}.yaml"
    instance_name(fleet, file)
    existing = _file_of(project, fleet, instance)
    if existing is not None:
        raise InvalidInput(
            f"fleet {fleet!r} has an instance {instance!r} already ({existing})",
            hint=f"change it with `hakobu fleet set {fleet} {instance} KEY=VALUE`",
        )
    lines = [f"tier: {inline(tier)}"]
    if values:
        lines.append("values:")
        lines += [f"  {inline(key)}: {inline(value)}" for key, value in values.items()]
    text = "\n".join(lines) + "\n"
    _check(found, file, text, tier, dict(values))
    return InstanceEdit(file, text)


def plan_set(
    project: Project,
    fleet: str,
    instance: str,
    values: Mapping[str, Any],
    *,
    tier: str | None = None,
    unset: Sequence[str] = (),
) -> InstanceEdit:
    found = fleet_of(project, fleet)
    file = _existing(project, fleet, instance)
    text = file.read_text()
    current = load_instance(found, file, text)
    edited = text
    if tier is not None:
        edited = set_path(edited, file, ("tier",), tier)
    expected = dict(current.values)
    for key, value in values.items():
        edited = set_path(edited, file, ("values", key), value)
        expected[key] = value
    for key in unset:
        edited = delete_path(edited, file, ("values", key))
        expected.pop(key, None)
    _check(found, file, edited, tier or current.tier, expected)
    return InstanceEdit(file, edited)


def plan_switch(project: Project, fleet: str, instance: str, switch: str, on: bool) -> InstanceEdit:
    """Turn an instance's ``suspend`` or ``maintenance`` on (``switch: true``) or off (the
    line goes: off is the default); maintenance is refused unless the fleet declares it."""
    found = fleet_of(project, fleet)
    file = _existing(project, fleet, instance)
    return InstanceEdit(file, switched(found, file, file.read_text(), switch, on))


def switched(fleet: Fleet, file: Path, text: str, switch: str, on: bool) -> str:
    """``text``, an instance file of ``fleet``, with ``switch`` on or off (its line gone),
    checked as render reads it; the rest of the file as it was."""
    current = load_instance(fleet, file, text)
    edited = set_path(text, file, (switch,), True) if on else delete_path(text, file, (switch,))
    written = load_instance(fleet, file, edited)
    if getattr(written, switch) is not on or written.values != current.values:
        raise OperationFailed(
            f"{file}: the edit would not read back as asked", hint=f"edit {file} by hand"
        )
    return edited


def plan_remove(project: Project, fleet: str, instance: str) -> InstanceEdit:
    fleet_of(project, fleet)
    return InstanceEdit(_existing(project, fleet, instance), None)


def apply_edit(edit: InstanceEdit) -> None:
    if edit.text is None:
        edit.file.unlink()
    else:
        # The first instance of a fleet makes its instances/ directory.
        edit.file.parent.mkdir(exist_ok=True)
        edit.file.write_text(edit.text)


def _file_of(project: Project, fleet: str, instance: str) -> Path | None:
    directory = project.apps_dir / fleet / INSTANCES_DIR
    for suffix in (".yaml", ".yml"):
        if (directory / f"{instance}{suffix}").is_file():
            return directory / f"{instance}{suffix}"
    return None


def _existing(project: Project, fleet: str, instance: str) -> Path:
    file = _file_of(project, fleet, instance)
    if file is None:
        raise InvalidInput(
            f"fleet {fleet!r} has no instance {instance!r}",
            hint=f"see its instances with `hakobu fleet list {fleet}`",
        )
    return file


def _check(fleet: Fleet, file: Path, text: str, tier: str, values: dict[str, Any]) -> None:
    """``text`` is a valid instance of ``fleet`` holding exactly ``tier`` and ``values``."""
    written = load_instance(fleet, file, text)
    if written.tier != tier or _json(written.values) != _json(values):
        raise OperationFailed(
            f"{file}: the edit would not read back as asked",
            hint=f"edit {file} by hand",
        )


def _json(value: Any) -> str:
    # Not ==: true == 1 in Python, but a template renders them differently.
    return json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class TierStatus:
    """How a tier's instances stand in one environment's cluster."""

    tier: str
    instances: int
    # Synced, and Healthy or Suspended.
    good: int
    health: dict[str, int]
    sync: dict[str, int]
    # Each instance that is not good: "<instance>: <sync>, <health>".
    not_good: tuple[str, ...]


def tier_statuses(project: Project, fleet: str, statuses: Sequence[AppStatus]) -> list[TierStatus]:
    """Per tier of ``fleet`` (in its rollout order), its instances' sync and health from
    ``statuses`` (an environment's apps); an instance the environment's output lacks is
    reported OutOfSync and Missing: it has not been rendered."""
    found = fleet_of(project, fleet)
    by_app = {s.app: s for s in statuses}
    members: dict[str, list[Instance]] = {tier: [] for tier in found.tiers}
    for instance in list_instances(project, fleet):
        members[instance.tier].append(instance)
    result = []
    for tier, instances in members.items():
        health: dict[str, int] = {}
        sync: dict[str, int] = {}
        not_good: list[str] = []
        for instance in instances:
            status = by_app.get(app_name(fleet, instance.name))
            state = str(status.sync) if status else str(SyncState.OUT_OF_SYNC)
            healthy = str(status.health) if status else str(HealthStatus.MISSING)
            health[healthy] = health.get(healthy, 0) + 1
            sync[state] = sync.get(state, 0) + 1
            if status is None or not status.good:
                not_good.append(f"{instance.name}: {state}, {healthy}")
        result.append(
            TierStatus(
                tier,
                len(instances),
                len(instances) - len(not_good),
                dict(sorted(health.items())),
                dict(sorted(sync.items())),
                tuple(not_good),
            )
        )
    return result
