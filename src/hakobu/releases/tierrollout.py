"""One step of a fleet's tiered rollout in one environment: read, decide, record, promote.

The step reads every instance's sync and health from the environment's cluster and the
template version each tier renders, and ``tierdecision.decide`` says what to do. Since when
each tier has been healthy at its version is kept in the cluster, in the ConfigMap
``hakobu-fleet-<fleet>`` of the environment's namespace, so a soak survives any restart of
whoever runs the steps (a person, a CI job, the delivery controller), and so is a halt (the
ConfigMap's annotation ``hakobu.dev/halted``) until a person acts. A promotion is
``tierpromotion.promote_tier``, the commit ``hakobu promote --fleet`` makes: the rollout
and a person move tiers the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import NotFound
from hakobu.errors import InvalidInput
from hakobu.health import HealthStatus
from hakobu.model.fleet import FLEET_FILE, app_name
from hakobu.model.project import Environment, Project
from hakobu.releases.fleet import fleet_of, list_instances
from hakobu.releases.tierdecision import Halt, Healthy, Step, TierState, decide
from hakobu.releases.tierpromotion import TierPromotion, pin_tiers, promote_tier, tier_versions
from hakobu.sync.ownership import ENVIRONMENT_LABEL, PROJECT_LABEL
from hakobu.sync.status import AppStatus

FLEET_LABEL = "hakobu.dev/fleet"
HALTED_ANNOTATION = "hakobu.dev/halted"
FIELD_MANAGER = "hakobu-fleet-rollout"


@dataclass(frozen=True)
class RolloutStep:
    fleet: str
    env: str
    step: Step
    # The commit that moved a tier, when the step promoted one.
    promotion: TierPromotion | None
    # The commit that gave later tiers their own copy of the template, on the first step.
    pinned: str | None = None


def stepped_by(project: Project, env: str) -> list[str]:
    """The fleets whose ``rollout.environment`` is ``env``: the ones its Delivery steps."""
    if not project.apps_dir.is_dir():
        return []
    found = []
    root = project.root.resolve()
    for fleet_file in sorted(project.apps_dir.glob(f"*/{FLEET_FILE}")):
        if not fleet_file.resolve().is_relative_to(root):
            # Render refuses it too; the controller reads no file from outside the project.
            raise InvalidInput(f"{fleet_file} leads out of the project")
        rollout = fleet_of(project, fleet_file.parent.name).rollout
        if rollout is None or rollout.environment is None:
            continue
        if rollout.environment not in {e.name for e in project.environments}:
            raise InvalidInput(
                f"{fleet_file}: rollout.environment: the project has no "
                f"environment {rollout.environment!r}",
                hint="its environments are: " + ", ".join(e.name for e in project.environments),
            )
        if rollout.environment == env:
            found.append(fleet_file.parent.name)
    return found


def record_name(fleet: str) -> str:
    return f"hakobu-fleet-{fleet}"


def rollout_step(
    kube: KubeApi,
    project: Project,
    env: Environment,
    fleet_name: str,
    statuses: Sequence[AppStatus],
    *,
    now: float,
    resume: bool = False,
) -> RolloutStep:
    """Advance ``fleet_name``'s rollout by at most one tier, judging by ``statuses``
    (``env``'s apps as ``environment_status`` reads them from ``kube``); ``resume``: a
    person ends a halt (it halts again at once if an instance is still Degraded)."""
    fleet = fleet_of(project, fleet_name)
    if fleet.rollout is None:
        raise InvalidInput(
            f"fleet {fleet.name!r} declares no rollout",
            hint=f"add `rollout: {{soak: 10m}}` to {project.apps_dir / fleet.name / FLEET_FILE}",
        )
    # Until the later tiers have their own copy, they render template/ as the first does.
    pinned = pin_tiers(project, fleet)
    versions = tier_versions(project, fleet)
    changed = [v.path for v in versions if v.changed]
    if changed:
        raise InvalidInput(
            f"the template of {', '.join(changed)} differs from the current commit: "
            "the cluster runs what is committed",
            hint="commit it (hakobu render --commit) or discard the change first",
        )
    tiers = tier_states(project, fleet.name, {v.tier: v.version for v in versions}, statuses)
    recorded, halted = _read_record(kube, env.namespace, fleet.name)
    step = decide(
        tiers, recorded, now=now, soak=fleet.rollout.soak, halted=None if resume else halted
    )
    if step.healthy != recorded or step.halted != halted:
        _write_record(kube, project, env, fleet.name, step)
    promotion = None
    if step.verdict == "promote" and step.tier is not None and step.target is not None:
        promotion = promote_tier(
            project,
            fleet.name,
            step.tier,
            step.target,
            statuses=statuses,
            reason=f"rollout in {env.name}: {step.reason} (soak {fleet.rollout.soak_text})",
        )
    return RolloutStep(fleet.name, env.name, step, promotion, pinned)


def tier_states(
    project: Project,
    fleet: str,
    versions: Mapping[str, str],
    statuses: Sequence[AppStatus],
) -> list[TierState]:
    """Each tier's version and its instances that are Degraded or not yet settled."""
    by_app = {s.app: s for s in statuses}
    degraded: dict[str, list[tuple[str, str]]] = {tier: [] for tier in versions}
    settling: dict[str, list[tuple[str, str]]] = {tier: [] for tier in versions}
    for instance in list_instances(project, fleet):
        status = by_app.get(app_name(fleet, instance.name))
        if status is None:
            settling[instance.tier].append((instance.name, "not rendered (OutOfSync, Missing)"))
        elif status.health is HealthStatus.DEGRADED:
            why = f": {status.unhealthy[0]}" if status.unhealthy else ""
            degraded[instance.tier].append((instance.name, f"{status.health}{why}"))
        elif not status.good:
            settling[instance.tier].append((instance.name, f"{status.sync}, {status.health}"))
    return [
        TierState(tier, version, tuple(degraded[tier]), tuple(settling[tier]))
        for tier, version in versions.items()
    ]


def _read_record(
    kube: KubeApi, namespace: str, fleet: str
) -> tuple[dict[str, Healthy], Halt | None]:
    try:
        found = kube.get("v1", "ConfigMap", record_name(fleet), namespace)
    except NotFound:
        return {}, None
    data: dict[str, str] = found.get("data") or {}
    annotations: dict[str, str] = found["metadata"].get("annotations") or {}
    halted = None
    if HALTED_ANNOTATION in annotations:
        try:
            halt: Any = json.loads(annotations[HALTED_ANNOTATION])
            halted = Halt(str(halt["tier"]), str(halt["version"]), str(halt["reason"]))
        except (ValueError, KeyError, TypeError):
            # Not what a step wrote: the step sees the cluster afresh, and an instance
            # still Degraded halts it again.
            halted = None
    result = {}
    for tier, text in data.items():
        try:
            entry: Any = json.loads(text)
            since = datetime.fromisoformat(entry["healthySince"]).timestamp()
            result[tier] = Healthy(str(entry["version"]), since)
        except (ValueError, KeyError, TypeError):
            # Not what a step wrote: the tier's soak starts again rather than trusting it.
            continue
    return result, halted


def _write_record(
    kube: KubeApi, project: Project, env: Environment, fleet: str, step: Step
) -> None:
    data = {
        tier: json.dumps(
            {
                "version": record.version,
                "healthySince": datetime.fromtimestamp(record.since, UTC).isoformat(),
            },
            sort_keys=True,
        )
        for tier, record in sorted(step.healthy.items())
    }
    annotations = {}
    if step.halted is not None:
        annotations[HALTED_ANNOTATION] = json.dumps(asdict(step.halted), sort_keys=True)
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": record_name(fleet),
                "namespace": env.namespace,
                "labels": {
                    FLEET_LABEL: fleet,
                    PROJECT_LABEL: project.name,
                    ENVIRONMENT_LABEL: env.name,
                },
                "annotations": annotations,
            },
            "data": data,
        },
        field_manager=FIELD_MANAGER,
        force=True,
    )
