"""A blue-green rollout, advanced one stage at a time, with its state kept in the cluster.

A sync that brings a new pod template to a Deployment declaring ``blueGreen`` keeps the
running version and leaves the new one in ``hakobu.dev/canary-pending``, as for a canary.
Every pod template of such a Deployment carries ``hakobu.dev/revision``
(``hakobu.model.rollout``), and the Services choose a version by that label::

    preview                 ``<name>-preview`` (the new template, previewReplicaCount
                            replicas) runs beside the Deployment; the active Service selects
                            the running revision, the preview Service the new one
    prePromotionAnalysis    measured against the preview; Failed: abort
    promotion               autoPromotionEnabled: after autoPromotionSeconds (at once
                            without); otherwise paused until ``promote``
    switch                  the preview grows to every replica; once ready, the active
                            Service selects the new revision
    postPromotionAnalysis   Failed: the active Service goes back, abort
    scaleDownDelay          the old pods keep running scaleDownDelaySeconds
    finish                  the Deployment takes the new template (its new pods carry the
                            new revision, so the active Service keeps serving the new
                            version); once it has rolled, the preview goes

The Deployment keeps its name and replicas throughout, so a sync never fights the
rollout. An abort leaves (or puts back) both Services on the running revision and deletes
the preview; the rollout stays Degraded, with the failing measurement, until ``retry`` or
a new version. The state is the same ``hakobu.dev/rollout-state`` annotation as a canary's,
its step counting ``stages``, so a process killed at any stage resumes there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import NotFound
from hakobu.errors import InvalidInput
from hakobu.model.bluegreen import (
    FINISH,
    POST_PROMOTION,
    PRE_PROMOTION,
    PREVIEW,
    PROMOTION,
    SCALE_DOWN,
    SWITCH,
    BlueGreen,
    parse_blue_green,
    stages,
)
from hakobu.model.canary import ROLLOUT_ANNOTATION, Analysis
from hakobu.model.objects import Object
from hakobu.model.rollout import REVISION_LABEL, revision_of
from hakobu.releases.canary import handover
from hakobu.releases.canary.analysis import Outcome, Verdict, outcome
from hakobu.releases.canary.engine import (
    FIELD_MANAGER,
    REQUEST_MANAGER,
    Measure,
    RolloutState,
    _analyse,
    _get,
    _save,
    _stable,
    _state,
    apply_beside,
    in_flight,
    in_progress,
)


@dataclass(frozen=True)
class BlueGreenRollout:
    """What ``status`` shows: the declaration, the state, and what each Service selects."""

    name: str
    blue_green: BlueGreen
    state: RolloutState | None
    stage: str | None
    active_revision: str | None
    preview_revision: str | None
    replicas: int
    preview_replicas: int
    preview_ready: int


def preview_name(name: str) -> str:
    return f"{name}-preview"


def status(kube: KubeApi, namespace: str, name: str) -> BlueGreenRollout:
    stable = _stable(kube, namespace, name)
    blue_green = declared(stable)
    state = _state(stable)
    path = stages(blue_green)
    stage = path[min(state.step, len(path) - 1)] if state and state.phase != "Healthy" else None
    preview = _get(kube, namespace, preview_name(name)) or {}
    return BlueGreenRollout(
        name,
        blue_green,
        state,
        stage,
        _selected(kube, namespace, blue_green.active(name)),
        _selected(kube, namespace, blue_green.preview(name)),
        (stable.get("spec") or {}).get("replicas", 0),
        (preview.get("spec") or {}).get("replicas", 0),
        (preview.get("status") or {}).get("readyReplicas", 0),
    )


def request(kube: KubeApi, namespace: str, name: str, action: str) -> RolloutState:
    """Record a person's ``promote``, ``abort`` or ``retry``; ``advance`` acts on it."""
    stable, state = in_progress(kube, namespace, name)
    if action == "promote":
        state = replace(state, promote=True)
    elif action == "abort":
        state = replace(state, phase="Degraded", message="aborted by request")
        # At once: the active Service must not wait for the next pass to go back.
        _back_to_running(kube, stable, declared(stable))
    else:
        state = RolloutState(state.hash)
    _save(kube, stable, state, REQUEST_MANAGER)
    return state


def advance(
    kube: KubeApi, namespace: str, name: str, now: float, measure: Measure
) -> BlueGreenRollout:
    """Move the blue-green rollout of Deployment ``namespace/name`` on as far as it can go."""
    stable = _stable(kube, namespace, name)
    blue_green = declared(stable)
    flight = in_flight(stable, now)
    if flight is None:
        if _get(kube, namespace, preview_name(name)) is not None:
            _delete_preview(kube, namespace, name)
        return status(kube, namespace, name)
    pending, state = flight.pending, flight.state
    if state.phase == "Degraded":
        _back_to_running(kube, stable, blue_green)
    else:
        state = _stages(kube, stable, blue_green, pending, state=state, now=now, measure=measure)
    _save(kube, _stable(kube, namespace, name), state)
    return status(kube, namespace, name)


@dataclass(frozen=True)
class _Pass:
    """What every stage of one pass works with."""

    kube: KubeApi
    stable: Object
    blue_green: BlueGreen
    pending: dict[str, Any]
    now: float
    measure: Measure

    @property
    def namespace(self) -> str:
        namespace: str = self.stable["metadata"]["namespace"]
        return namespace

    @property
    def name(self) -> str:
        name: str = self.stable["metadata"]["name"]
        return name

    def preview(self, replicas: int) -> int:
        """Run the new version's ``replicas`` as the preview; how many are ready."""
        template = self.pending["template"]
        revision = _pending_revision(self.pending)
        return _ready(_ensure_preview(self.kube, self.stable, template, revision, replicas))


def _stages(
    kube: KubeApi,
    stable: Object,
    blue_green: BlueGreen,
    pending: dict[str, Any],
    *,
    state: RolloutState,
    now: float,
    measure: Measure,
) -> RolloutState:
    run = _Pass(kube, stable, blue_green, pending, now, measure)
    path = stages(blue_green)
    while state.step < len(path):
        waiting = _STAGES[path[state.step]](run, state)
        if waiting is not None:
            return waiting
        state = RolloutState(state.hash, state.step + 1, "Progressing", now)
    return replace(state, phase="Healthy", message="promoted")


# Each stage returns the state to rest in, or None once it is done.


def _preview(run: _Pass, state: RolloutState) -> RolloutState | None:
    total: int = run.pending["replicas"]
    count = min(run.blue_green.preview_replica_count or total, total)
    ready = run.preview(count)
    _select(run.kube, run.namespace, run.blue_green.active(run.name), _revision(run.stable))
    _select(
        run.kube, run.namespace, run.blue_green.preview(run.name), _pending_revision(run.pending)
    )
    return replace(state, phase="Progressing", message="") if ready < count else None


def _analysis_stage(
    analysis: Analysis | None, run: _Pass, state: RolloutState
) -> RolloutState | None:
    if analysis is None:
        return None
    state = _analyse(analysis, state, run.now, run.measure)
    result = outcome(analysis, state.measurements)
    if result is Outcome.FAILED:
        return _abort(run.kube, run.stable, run.blue_green, state)
    if result is Outcome.INCONCLUSIVE and not state.promote:
        return replace(state, phase="Inconclusive", message=state.measurements[-1].message)
    return state if result is Outcome.RUNNING else None


def _promotion(run: _Pass, state: RolloutState) -> RolloutState | None:
    if state.promote:
        return None
    if not run.blue_green.auto_promotion_enabled:
        return replace(state, phase="Paused", message="waiting for promotion")
    delay = run.blue_green.auto_promotion_seconds or 0
    if run.now - (state.step_started or run.now) < delay:
        return replace(state, phase="Paused", message=f"promotes automatically after {delay}s")
    return None


def _switch(run: _Pass, state: RolloutState) -> RolloutState | None:
    total: int = run.pending["replicas"]
    if run.preview(total) < total:
        return replace(state, phase="Progressing", message="")
    _select(
        run.kube, run.namespace, run.blue_green.active(run.name), _pending_revision(run.pending)
    )
    return None


def _scale_down_delay(run: _Pass, state: RolloutState) -> RolloutState | None:
    delay = run.blue_green.scale_down_delay_seconds
    if run.now - (state.step_started or run.now) < delay:
        return replace(state, phase="Progressing", message=f"the old version goes after {delay}s")
    return None


def _finishing(run: _Pass, state: RolloutState) -> RolloutState | None:
    if not _rolled(handover.promote(run.kube, run.stable, run.pending, marked=False)):
        return replace(state, phase="Progressing", message="")
    _delete_preview(run.kube, run.namespace, run.name)
    # Marked as running the new version only now: a Deployment marked so has no rollout
    # in flight, and a pass would not come back to delete the preview.
    handover.promote(run.kube, run.stable, run.pending, marked=True)
    return None


_STAGES: dict[str, Callable[[_Pass, RolloutState], RolloutState | None]] = {
    PREVIEW: _preview,
    PRE_PROMOTION: lambda run, state: _analysis_stage(run.blue_green.pre_promotion, run, state),
    PROMOTION: _promotion,
    SWITCH: _switch,
    POST_PROMOTION: lambda run, state: _analysis_stage(run.blue_green.post_promotion, run, state),
    SCALE_DOWN: _scale_down_delay,
    FINISH: _finishing,
}


def _abort(
    kube: KubeApi, stable: Object, blue_green: BlueGreen, state: RolloutState
) -> RolloutState:
    failing = [m for m in state.measurements if m.verdict in (Verdict.FAILED, Verdict.ERROR)]
    message = failing[-1].message if failing else "the analysis failed"
    _back_to_running(kube, stable, blue_green)
    return replace(state, phase="Degraded", message=f"aborted: {message}")


def _back_to_running(kube: KubeApi, stable: Object, blue_green: BlueGreen) -> None:
    """Both Services on the running version, and no preview."""
    meta = stable["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    running = _revision(stable)
    _select(kube, namespace, blue_green.active(name), running)
    _select(kube, namespace, blue_green.preview(name), running)
    _delete_preview(kube, namespace, name)


def _ensure_preview(
    kube: KubeApi, stable: Object, template: Object, revision: str, replicas: int
) -> Object:
    meta = stable["metadata"]
    live = _get(kube, meta["namespace"], preview_name(meta["name"]))
    if live is not None and (live["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision:
        # The preview of a version a newer commit superseded: a Deployment's selector
        # cannot change, so it goes and the new one is created.
        _delete_preview(kube, meta["namespace"], meta["name"])
    name = preview_name(meta["name"])
    marks = {REVISION_LABEL: revision}
    return apply_beside(kube, stable, name, marks, template=template, replicas=replicas)


def _rolled(deployment: Object) -> bool:
    """Whether a Deployment runs its current template on every replica, all ready."""
    spec, status_ = deployment.get("spec") or {}, deployment.get("status") or {}
    wanted = spec.get("replicas", 1)
    return bool(
        status_.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 0)
        and status_.get("updatedReplicas", 0) == wanted
        and status_.get("readyReplicas", 0) == wanted
        and status_.get("replicas", 0) == wanted
    )


def _select(kube: KubeApi, namespace: str, service: str, revision: str) -> None:
    """Point ``service`` at the pods of ``revision``, the rest of its selector kept."""
    try:
        live = kube.get("v1", "Service", service, namespace)
    except NotFound:
        raise InvalidInput(
            f"no Service {namespace}/{service}, which the blue-green rollout switches",
            hint="sync the app first: it renders the active and the preview Service",
        ) from None
    selector = dict((live.get("spec") or {}).get("selector") or {})
    if selector.get(REVISION_LABEL) == revision:
        return
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": service, "namespace": namespace},
            # The whole selector: Kubernetes replaces a Service's selector as one value.
            "spec": {"selector": {**selector, REVISION_LABEL: revision}},
        },
        field_manager=f"{FIELD_MANAGER}-service",
        force=True,
    )


def _selected(kube: KubeApi, namespace: str, service: str) -> str | None:
    try:
        live = kube.get("v1", "Service", service, namespace)
    except NotFound:
        return None
    value = ((live.get("spec") or {}).get("selector") or {}).get(REVISION_LABEL)
    return value if isinstance(value, str) else None


def _delete_preview(kube: KubeApi, namespace: str, name: str) -> None:
    try:
        kube.delete(
            "apps/v1", "Deployment", preview_name(name), namespace, propagation="Background"
        )
    except NotFound:
        return


def _ready(deployment: Object) -> int:
    ready: int = (deployment.get("status") or {}).get("readyReplicas", 0)
    return ready


def _revision(stable: Object) -> str:
    revision = revision_of(stable)
    if revision is None:
        meta = stable["metadata"]
        raise InvalidInput(
            f"Deployment {meta['namespace']}/{meta['name']}: its pods carry no "
            f"{REVISION_LABEL} label, so its Services cannot tell the versions apart",
            hint="sync the app again: the sync labels a blue-green Deployment's pods",
        )
    return revision


def _pending_revision(pending: dict[str, Any]) -> str:
    labels = (pending["template"].get("metadata") or {}).get("labels") or {}
    revision = labels.get(REVISION_LABEL)
    if not isinstance(revision, str):
        raise InvalidInput(
            f"the pending version carries no {REVISION_LABEL} label",
            hint="sync the app again: the sync labels a blue-green Deployment's pods",
        )
    return revision


def declared(stable: Object) -> BlueGreen:
    text = (stable["metadata"].get("annotations") or {}).get(ROLLOUT_ANNOTATION) or "{}"
    data = json.loads(text)
    if not isinstance(data, dict) or "blueGreen" not in data:
        meta = stable["metadata"]
        raise InvalidInput(
            f"Deployment {meta['namespace']}/{meta['name']} declares no blue-green rollout",
            hint="add rollout: {blueGreen: {...}} to the app spec, render and sync",
        )
    return parse_blue_green(data, ())
