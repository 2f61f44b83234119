"""A canary rollout, advanced one step at a time, with its state kept in the cluster.

A sync that brings a new pod template to a Deployment declaring a canary keeps the stable
version running and leaves the new one in ``hakobu.dev/canary-pending``
(``hakobu.model.canary.holding_stable``). ``advance`` then moves the rollout on:

    setWeight   scale ``<name>-canary`` (the new template, the same pod labels, so the
                app's Service sends it its share) to the split (``replicas.split``), and
                the stable Deployment down to its side once those are ready; then next
    pause       wait the duration, or until ``promote``
    analysis    one measurement per interval; Successful: next; Failed: abort;
                Inconclusive: paused until ``promote`` (go on) or ``retry``
    (the end)   the stable Deployment takes the new template and every replica; the
                canary Deployment is deleted

An abort scales the canary away and gives the stable version every replica; the rollout
stays Degraded, with the failing measurement, until ``retry`` or a new version. The state
(step, phase, when the step started, measurements, a promotion asked for) is the
``hakobu.dev/rollout-state`` annotation of the stable Deployment, written after every
change, so a process killed in a pause or an analysis resumes at the same step with the
same measurements.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import NotFound
from hakobu.errors import InvalidInput
from hakobu.model.canary import (
    CANARY_LABEL,
    PENDING_ANNOTATION,
    ROLLOUT_ANNOTATION,
    STATE_ANNOTATION,
    TEMPLATE_HASH_ANNOTATION,
    Analysis,
    Canary,
    Pause,
    SetWeight,
    parse_canary,
    weights,
)
from hakobu.model.objects import Object
from hakobu.releases.canary import background, handover, traffic
from hakobu.releases.canary.analysis import Measurement, Outcome, Verdict, outcome
from hakobu.releases.canary.replicas import split
from hakobu.releases.canary.surge import Side, at_split, next_split
from hakobu.sync.ownership import APP_LABEL, ENVIRONMENT_LABEL, PROJECT_LABEL

FIELD_MANAGER = "hakobu-rollout"
# A person's promote, abort or retry is written by a manager of its own, so a controller
# watching the Deployment tells it from the rollout's own writes.
REQUEST_MANAGER = f"{FIELD_MANAGER}-request"
# Measurements kept per analysis step: enough for any limit a person reads at a glance.
_KEPT_MEASUREMENTS = 20

Phase = Literal["Progressing", "Paused", "Inconclusive", "Degraded", "Healthy"]
Measure = Callable[[Analysis], Measurement]


@dataclass(frozen=True)
class RolloutState:
    """Where a rollout of the template ``hash`` stands."""

    hash: str
    step: int = 0
    phase: Phase = "Progressing"
    step_started: float | None = None
    promote: bool = False
    message: str = ""
    measurements: tuple[Measurement, ...] = field(default=())

    def to_json(self) -> str:
        data = asdict(self)
        data["measurements"] = [
            {**asdict(m), "verdict": m.verdict.value} for m in self.measurements
        ]
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> RolloutState:
        data: dict[str, Any] = json.loads(text)
        measurements = tuple(
            Measurement(Verdict(m["verdict"]), tuple(m["values"]), m["message"], m["at"])
            for m in data.pop("measurements", [])
        )
        return RolloutState(**data, measurements=measurements)


@dataclass(frozen=True)
class Rollout:
    """What ``status`` shows: the declared canary, the state, and the replicas of each side."""

    name: str
    canary: Canary
    state: RolloutState | None
    weight: int
    stable_replicas: int
    canary_replicas: int
    canary_ready: int
    # The latest measurement of each background analysis.
    background: tuple[Measurement, ...] = ()


def canary_name(name: str) -> str:
    return f"{name}-canary"


def status(kube: KubeApi, namespace: str, name: str) -> Rollout:
    stable = _stable(kube, namespace, name)
    canary = _declared(stable)
    state = _state(stable)
    live_canary = _get(kube, namespace, canary_name(name))
    current = _weight(canary, state) if state and state.phase != "Healthy" else 0
    analyses = len(canary.background.analyses) if canary.background else 0
    taken = background.measurements(stable, state.hash, analyses) if state else []
    return Rollout(
        name,
        canary,
        state,
        current,
        (stable.get("spec") or {}).get("replicas", 0),
        (live_canary or {}).get("spec", {}).get("replicas", 0),
        (live_canary or {}).get("status", {}).get("readyReplicas", 0),
        tuple(run[-1] for run in taken if run),
    )


def request(kube: KubeApi, namespace: str, name: str, action: str) -> RolloutState:
    """Record a person's ``promote``, ``abort`` or ``retry``; ``advance`` acts on it."""
    stable, state = in_progress(kube, namespace, name)
    if action == "promote":
        if state.phase == "Inconclusive" and background.finding(
            stable, _declared(stable), state.hash
        ):
            # Going on past it: the background analyses start measuring afresh.
            background.reset(kube, stable)
        state = replace(state, promote=True)
    elif action == "abort":
        state = replace(state, phase="Degraded", message="aborted by request")
        # At once: an abort must not wait for the next pass to take the canary away.
        pending = _pending(stable)
        traffic.route(kube, stable, _declared(stable), 0)
        if pending is not None:
            _scale(kube, stable, pending["replicas"])
        _delete_canary(kube, namespace, name)
    else:
        state = RolloutState(state.hash)
        background.reset(kube, stable)
    _save(kube, stable, state, REQUEST_MANAGER)
    return state


def advance(kube: KubeApi, namespace: str, name: str, now: float, measure: Measure) -> Rollout:
    """Move the rollout of Deployment ``namespace/name`` on as far as it can go now."""
    stable = _stable(kube, namespace, name)
    canary = _declared(stable)
    flight = in_flight(stable, now)
    if flight is None:
        if _get(kube, namespace, canary_name(name)) is not None:
            _delete_canary(kube, namespace, name)
        return status(kube, namespace, name)
    pending, state = flight.pending, flight.state
    total: int = pending["replicas"]
    if state.phase == "Degraded":
        traffic.route(kube, stable, canary, 0)
        _scale(kube, stable, total)
        _delete_canary(kube, namespace, name)
    else:
        stopped = _background(
            kube, stable, canary, total=total, state=state, now=now, measure=measure
        )
        state = stopped or _steps(
            kube, stable, canary=canary, pending=pending, state=state, now=now, measure=measure
        )
    _save(kube, _stable(kube, namespace, name), state)
    return status(kube, namespace, name)


@dataclass(frozen=True)
class InFlight:
    """A new version a rollout brings in: what the sync left (``{hash, replicas,
    template}``), and where the rollout of it stands."""

    pending: dict[str, Any]
    state: RolloutState


def in_flight(stable: Object, now: float) -> InFlight | None:
    """The version a rollout of Deployment ``stable`` brings in, with its state (a new one
    from the first step at ``now`` when the version is not the one the state is of); None
    when the Deployment runs the newest version the sync left."""
    pending = _pending(stable)
    running = (stable["metadata"].get("annotations") or {}).get(TEMPLATE_HASH_ANNOTATION)
    if pending is None or pending["hash"] == running:
        return None
    state = _state(stable)
    if state is None or state.hash != pending["hash"]:
        state = RolloutState(pending["hash"], step_started=now)
    return InFlight(pending, state)


def in_progress(kube: KubeApi, namespace: str, name: str) -> tuple[Object, RolloutState]:
    """Deployment ``namespace/name`` and the state of the rollout a person's request acts
    on; an error when no rollout is in progress."""
    stable = _stable(kube, namespace, name)
    state = _state(stable)
    if state is None or state.phase == "Healthy":
        raise InvalidInput(
            f"Deployment {namespace}/{name} has no rollout in progress",
            hint="a rollout starts when a sync brings a new version",
        )
    return stable, state


def _steps(
    kube: KubeApi,
    stable: Object,
    *,
    canary: Canary,
    pending: dict[str, Any],
    state: RolloutState,
    now: float,
    measure: Measure,
) -> RolloutState:
    total: int = pending["replicas"]
    while state.step < len(canary.steps):
        step = canary.steps[state.step]
        weight = _weight(canary, state)
        move = _by_replicas if canary.traffic is None else _by_router
        reached = move(kube, stable, canary, pending, weight)
        if isinstance(step, SetWeight):
            if not reached:
                return replace(state, phase="Progressing", message="")
        elif isinstance(step, Pause):
            if not state.promote:
                waited = now - (state.step_started or now)
                if step.seconds is None or waited < step.seconds:
                    return replace(state, phase="Paused")
        else:
            state = _analyse(step, state, now, measure)
            result = outcome(step, state.measurements)
            if result is Outcome.FAILED:
                return _abort(kube, stable, canary, total, state)
            if result is Outcome.INCONCLUSIVE and not state.promote:
                return replace(state, phase="Inconclusive", message=state.measurements[-1].message)
            if result is Outcome.RUNNING:
                return state
        state = RolloutState(state.hash, state.step + 1, "Progressing", now)
    _finish(kube, stable, canary, pending)
    return replace(state, phase="Healthy", message="promoted")


def _background(
    kube: KubeApi,
    stable: Object,
    canary: Canary,
    *,
    total: int,
    state: RolloutState,
    now: float,
    measure: Measure,
) -> RolloutState | None:
    """The state a background analysis leaves the rollout in when it stops it, else None."""
    finding = background.check(
        kube, stable, canary, template_hash=state.hash, step=state.step, now=now, measure=measure
    )
    if finding is not None and finding.outcome is Outcome.FAILED:
        return _abort(kube, stable, canary, total, state, message=finding.message)
    if finding is not None and not state.promote:
        return replace(state, phase="Inconclusive", message=finding.message)
    return None


def _analyse(step: Analysis, state: RolloutState, now: float, measure: Measure) -> RolloutState:
    last = state.measurements[-1].at if state.measurements else None
    if last is not None and now - last < step.interval_seconds:
        return state
    measurements = (*state.measurements, measure(step))[-_KEPT_MEASUREMENTS:]
    return replace(state, measurements=measurements, phase="Progressing")


def _abort(
    kube: KubeApi,
    stable: Object,
    canary: Canary,
    total: int,
    state: RolloutState,
    *,
    message: str | None = None,
) -> RolloutState:
    if message is None:
        failing = [m for m in state.measurements if m.verdict in (Verdict.FAILED, Verdict.ERROR)]
        message = failing[-1].message if failing else "the analysis failed"
    traffic.route(kube, stable, canary, 0)
    _scale(kube, stable, total)
    _delete_canary(kube, stable["metadata"]["namespace"], stable["metadata"]["name"])
    return replace(state, phase="Degraded", message=f"aborted: {message}")


def _finish(kube: KubeApi, stable: Object, canary: Canary, pending: dict[str, Any]) -> None:
    handover.promote(kube, stable, pending, marked=True)
    # Every request back to the stable Service, which now runs the new version.
    traffic.route(kube, stable, canary, 0)
    meta = stable["metadata"]
    _delete_canary(kube, meta["namespace"], meta["name"])


def _ensure_canary(kube: KubeApi, stable: Object, template: Object, replicas: int) -> Object:
    labels = {**((template.get("metadata") or {}).get("labels") or {}), CANARY_LABEL: "true"}
    pod_template = {**template, "metadata": {**(template.get("metadata") or {}), "labels": labels}}
    name = canary_name(stable["metadata"]["name"])
    marks = {CANARY_LABEL: "true"}
    return apply_beside(kube, stable, name, marks, template=pod_template, replicas=replicas)


def apply_beside(
    kube: KubeApi,
    stable: Object,
    name: str,
    marks: dict[str, str],
    *,
    template: Object,
    replicas: int,
) -> Object:
    """Deployment ``name`` beside ``stable`` (a canary, a preview): ``replicas`` of
    ``template``, selected by ``stable``'s selector plus the labels ``marks``."""
    meta = stable["metadata"]
    selector = dict((stable.get("spec") or {}).get("selector", {}).get("matchLabels") or {})
    return kube.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name,
                "namespace": meta["namespace"],
                "labels": marks,
                # Deleting the app deletes it; sync's prune never sees it.
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": meta["name"],
                        "uid": meta["uid"],
                    }
                ],
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {**selector, **marks}},
                "template": template,
            },
        },
        field_manager=FIELD_MANAGER,
        force=True,
    )


def _by_router(
    kube: KubeApi, stable: Object, canary: Canary, pending: dict[str, Any], weight: int
) -> bool:
    """The canary at its share of ``weight``, and the router sending it that share once its
    replicas are ready (capacity never dips while its pods start); whether they are. The
    stable side takes replicas back at once (a new version restarting the steps at a lower
    weight)."""
    sides = traffic.sides(canary, pending["replicas"], weight)
    live_canary = _ensure_canary(kube, stable, pending["template"], sides.canary)
    below = (stable.get("spec") or {}).get("replicas", 0) < sides.stable
    if _ready(live_canary) < sides.canary:
        if below:
            _scale(kube, stable, sides.stable)
        return False
    traffic.route(kube, stable, canary, weight)
    _scale(kube, stable, sides.stable)
    return True


def _by_replicas(
    kube: KubeApi, stable: Object, canary: Canary, pending: dict[str, Any], weight: int
) -> bool:
    """One pass of the sides toward the split at ``weight``, as far as maxSurge and
    maxUnavailable let it (``surge.next_split``); whether both ran their share before it.
    The canary's available replicas are those of its newest template, so a new version
    replacing it counts from none, and the stable side, below its share when the steps
    restart, is scaled up first."""
    total: int = pending["replicas"]
    namespace, name = stable["metadata"]["namespace"], stable["metadata"]["name"]
    stable_side = _side(_get(kube, namespace, name))
    canary_side = _side(_get(kube, namespace, canary_name(name)), newest_only=True)
    sides = next_split(
        total,
        weight,
        canary.max_surge,
        canary.max_unavailable,
        stable=stable_side,
        canary=canary_side,
    )
    _ensure_canary(kube, stable, pending["template"], sides.canary)
    if sides.stable != stable_side.replicas:
        _scale(kube, stable, sides.stable)
    return at_split(split(total, weight), stable_side, canary_side)


def _side(deployment: Object | None, *, newest_only: bool = False) -> Side:
    """A Deployment's replicas and available replicas (``newest_only``: of its newest
    template only, see ``_current``)."""
    if deployment is None:
        return Side(0, 0)
    spec, status_ = deployment.get("spec") or {}, deployment.get("status") or {}
    if newest_only:
        return Side(spec.get("replicas", 1), _current(deployment, "availableReplicas"))
    return Side(spec.get("replicas", 1), status_.get("availableReplicas", 0))


def rollout_writes(manager: str) -> bool:
    """Whether field manager ``manager`` is one of a rollout's own writers (``hakobu-rollout``
    and its ``-scale``, ``-promote``, ``-state``, ``-background``, ``-traffic``…), not a
    person's request."""
    return manager.startswith(FIELD_MANAGER) and manager != REQUEST_MANAGER


def _ready(canary: Object) -> int:
    """The canary's ready replicas of its current template (see ``_current``)."""
    return _current(canary, "readyReplicas")


def _current(deployment: Object, counted: str) -> int:
    """The ``counted`` replicas (ready or available) of a Deployment's current template:
    none while its Deployment controller has not seen the newest template (a new version
    replacing the canary)."""
    status = deployment.get("status") or {}
    generation = (deployment.get("metadata") or {}).get("generation")
    if status.get("observedGeneration") != generation:
        return 0
    current: int = min(status.get(counted, 0), status.get("updatedReplicas", 0))
    return current


def _scale(kube: KubeApi, stable: Object, replicas: int) -> None:
    # Always applied: ``stable`` may have been read before this pass scaled it.
    meta = stable["metadata"]
    kube.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
            "spec": {"replicas": replicas},
        },
        # Its own manager, applying replicas only: applying fewer fields than a manager
        # owns would remove the others.
        field_manager=f"{FIELD_MANAGER}-scale",
        force=True,
    )


def _delete_canary(kube: KubeApi, namespace: str, name: str) -> None:
    try:
        kube.delete("apps/v1", "Deployment", canary_name(name), namespace, propagation="Background")
    except NotFound:
        return


def _save(
    kube: KubeApi, stable: Object, state: RolloutState, manager: str = f"{FIELD_MANAGER}-state"
) -> None:
    meta = stable["metadata"]
    kube.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "annotations": {STATE_ANNOTATION: state.to_json()},
            },
        },
        field_manager=manager,
        force=True,
    )


def _weight(canary: Canary, state: RolloutState) -> int:
    if state.phase == "Degraded":
        return 0
    steps = weights(canary)
    return steps[min(state.step, len(steps) - 1)]


def _stable(kube: KubeApi, namespace: str, name: str) -> Object:
    live = _get(kube, namespace, name)
    if live is None:
        raise InvalidInput(f"no Deployment {namespace}/{name}", hint="sync the app first")
    return live


def _get(kube: KubeApi, namespace: str, name: str) -> Object | None:
    try:
        return kube.get("apps/v1", "Deployment", name, namespace)
    except NotFound:
        return None


def _declared(stable: Object) -> Canary:
    text = (stable["metadata"].get("annotations") or {}).get(ROLLOUT_ANNOTATION)
    if text is None:
        meta = stable["metadata"]
        raise InvalidInput(
            f"Deployment {meta['namespace']}/{meta['name']} declares no canary rollout",
            hint="add rollout: to the app spec, render and sync",
        )
    return parse_canary(json.loads(text), ())


def _state(stable: Object) -> RolloutState | None:
    text = (stable["metadata"].get("annotations") or {}).get(STATE_ANNOTATION)
    if not text:
        return None
    try:
        return RolloutState.from_json(text)
    except (ValueError, TypeError, KeyError):
        # Not what hakobu wrote (edited by hand): the rollout starts again from its first
        # step rather than guess where it was.
        return None


def _pending(stable: Object) -> dict[str, Any] | None:
    """The new version a sync left: ``{hash, replicas, template}``; None without one."""
    text = (stable["metadata"].get("annotations") or {}).get(PENDING_ANNOTATION)
    try:
        pending = json.loads(text) if text else None
    except ValueError:
        pending = None
    valid = (
        isinstance(pending, dict)
        and isinstance(pending.get("hash"), str)
        and isinstance(pending.get("replicas"), int)
        and isinstance(pending.get("template"), dict)
    )
    return pending if valid else None


def find(kube: KubeApi, project: str, environment: str, app: str) -> tuple[str, str]:
    """The namespace and name of the Deployment of ``app`` in ``environment`` that declares
    a canary (sync labels every object with its project, environment and app)."""
    selector = f"{PROJECT_LABEL}={project},{APP_LABEL}={app},{ENVIRONMENT_LABEL}={environment}"
    found = [
        d
        for d in kube.list("apps/v1", "Deployment", label_selector=selector).items
        if ROLLOUT_ANNOTATION in (d["metadata"].get("annotations") or {})
    ]
    if len(found) != 1:
        what = "no Deployment" if not found else f"{len(found)} Deployments"
        raise InvalidInput(
            f"app {app!r} in environment {environment!r} has {what} declaring a canary rollout",
            hint="declare rollout: in the app spec (or the hakobu.dev/rollout annotation on one "
            "Deployment), render and sync",
        )
    meta = found[0]["metadata"]
    return meta["namespace"], meta["name"]
