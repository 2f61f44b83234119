"""Background analysis (Argo Rollouts' ``canary.analysis``): analyses measured every
interval from ``startingStep`` on, while the steps proceed.

Each pass of the rollout takes the measurements that are due (one per analysis per
interval) and judges each analysis as a step's analysis is judged (``analysis.outcome``):
a Failed one aborts the rollout at whatever step it is, an Inconclusive one pauses it. An
analysis with a ``count`` stops measuring once Successful; one without measures until the
rollout ends. A person who promotes past an Inconclusive background analysis starts its
measurements afresh.

The measurements are the ``hakobu.dev/rollout-background`` annotation of the app's
Deployment (the template hash they judge, and the measurements of each analysis), so a
restarted process goes on with them; a new version or a ``retry`` starts them afresh.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.model.canary import Analysis, BackgroundAnalysis, Canary
from hakobu.model.objects import Object
from hakobu.releases.canary.analysis import Measurement, Outcome, Verdict, outcome

BACKGROUND_ANNOTATION = "hakobu.dev/rollout-background"
FIELD_MANAGER = "hakobu-rollout-background"
# Measurements kept per analysis: enough for any limit a person reads at a glance.
_KEPT = 20

Measure = Callable[[Analysis], Measurement]


@dataclass(frozen=True)
class Finding:
    """A background analysis that stops the rollout, and the measurement saying why."""

    outcome: Outcome
    message: str


def check(
    kube: KubeApi,
    stable: Object,
    canary: Canary,
    *,
    template_hash: str,
    step: int,
    now: float,
    measure: Measure,
) -> Finding | None:
    """Take the background measurements due now; a Failed or Inconclusive analysis's
    finding (Failed first), None while every one is Running or Successful."""
    background = canary.background
    if background is None or step < background.starting_step:
        return None
    taken = measurements(stable, template_hash, len(background.analyses))
    changed = False
    for index, analysis in enumerate(background.analyses):
        runs = taken[index]
        if _judged(analysis, runs) is not Outcome.RUNNING:
            continue
        if runs and now - runs[-1].at < analysis.interval_seconds:
            continue
        taken[index] = (*runs, measure(analysis))[-_KEPT:]
        changed = True
    if changed:
        _write(kube, stable, template_hash, taken)
    return _finding(background, taken)


def finding(stable: Object, canary: Canary, template_hash: str) -> Finding | None:
    """What the measurements taken so far say, without measuring."""
    background = canary.background
    if background is None:
        return None
    return _finding(background, measurements(stable, template_hash, len(background.analyses)))


def _finding(
    background: BackgroundAnalysis, taken: list[tuple[Measurement, ...]]
) -> Finding | None:
    judged = [
        (_judged(analysis, runs), runs)
        for analysis, runs in zip(background.analyses, taken, strict=True)
    ]
    for wanted in (Outcome.FAILED, Outcome.INCONCLUSIVE):
        for result, runs in judged:
            if result is wanted:
                return Finding(result, f"background analysis {result.value}: {_why(runs)}")
    return None


def measurements(stable: Object, template_hash: str, count: int) -> list[tuple[Measurement, ...]]:
    """The background measurements of each analysis of the version ``template_hash``."""
    text = ((stable.get("metadata") or {}).get("annotations") or {}).get(BACKGROUND_ANNOTATION)
    empty: list[tuple[Measurement, ...]] = [() for _ in range(count)]
    try:
        data: Any = json.loads(text) if text else None
        if not isinstance(data, dict) or data.get("hash") != template_hash:
            return empty
        runs = [tuple(_measurement(m) for m in run) for run in data["measurements"]]
    except (ValueError, TypeError, KeyError):
        # Not what hakobu wrote: measuring again is safer than guessing.
        return empty
    return runs if len(runs) == count else empty


def reset(kube: KubeApi, stable: Object) -> None:
    """Forget the measurements (a retry starts the analyses afresh)."""
    _apply(kube, stable, "")


def _judged(analysis: Analysis, runs: Sequence[Measurement]) -> Outcome:
    result = outcome(analysis, runs)
    # Without a count the analysis runs until the rollout ends: never Successful before.
    if analysis.count == 0 and result is Outcome.SUCCESSFUL:
        return Outcome.RUNNING
    return result


def _why(runs: Sequence[Measurement]) -> str:
    telling = [m for m in runs if m.verdict is not Verdict.SUCCESSFUL]
    return (telling or list(runs))[-1].message


def _write(
    kube: KubeApi, stable: Object, template_hash: str, taken: list[tuple[Measurement, ...]]
) -> None:
    runs = [[{**asdict(m), "verdict": m.verdict.value} for m in run] for run in taken]
    text = json.dumps(
        {"hash": template_hash, "measurements": runs}, sort_keys=True, separators=(",", ":")
    )
    _apply(kube, stable, text)


def _apply(kube: KubeApi, stable: Object, text: str) -> None:
    meta = stable["metadata"]
    kube.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "annotations": {BACKGROUND_ANNOTATION: text},
            },
        },
        field_manager=FIELD_MANAGER,
        force=True,
    )


def _measurement(data: dict[str, Any]) -> Measurement:
    return Measurement(
        Verdict(data["verdict"]), tuple(data["values"]), str(data["message"]), float(data["at"])
    )
