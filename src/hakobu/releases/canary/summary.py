"""A rollout as JSON, the one shape ``hakobu rollout status``, ``hakobu status`` and the
dashboard give it."""

from __future__ import annotations

from typing import Any

from hakobu.model.bluegreen import stages
from hakobu.releases.canary.analysis import Measurement
from hakobu.releases.canary.bluegreen import BlueGreenRollout
from hakobu.releases.canary.strategy import AnyRollout


def rollout_json(rollout: AnyRollout) -> dict[str, Any]:
    if isinstance(rollout, BlueGreenRollout):
        return _blue_green_json(rollout)
    state = rollout.state
    return {
        "name": rollout.name,
        "phase": state.phase if state else "Healthy",
        "step": state.step if state else None,
        "steps": len(rollout.canary.steps),
        "weight": rollout.weight,
        "stableReplicas": rollout.stable_replicas,
        "canaryReplicas": rollout.canary_replicas,
        "canaryReady": rollout.canary_ready,
        "message": state.message if state else "",
        "measurements": [_measurement_json(m) for m in (state.measurements if state else ())],
        "backgroundMeasurements": [_measurement_json(m) for m in rollout.background],
    }


def _blue_green_json(rollout: BlueGreenRollout) -> dict[str, Any]:
    state = rollout.state
    return {
        "name": rollout.name,
        "strategy": "blueGreen",
        "phase": state.phase if state else "Healthy",
        "step": state.step if state else None,
        "stage": rollout.stage,
        "stages": list(stages(rollout.blue_green)),
        "activeService": rollout.blue_green.active(rollout.name),
        "activeRevision": rollout.active_revision,
        "previewService": rollout.blue_green.preview(rollout.name),
        "previewRevision": rollout.preview_revision,
        "replicas": rollout.replicas,
        "previewReplicas": rollout.preview_replicas,
        "previewReady": rollout.preview_ready,
        "message": state.message if state else "",
        "measurements": [_measurement_json(m) for m in (state.measurements if state else ())],
    }


def _measurement_json(m: Measurement) -> dict[str, Any]:
    return {"verdict": m.verdict.value, "values": list(m.values), "message": m.message, "at": m.at}
