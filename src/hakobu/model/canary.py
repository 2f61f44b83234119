"""Progressive delivery as an app declares it: a canary's steps.

::

    rollout:
      canary:
        steps:
          - setWeight: 20
          - pause: {duration: 1m}
          - analysis:
              address: http://prometheus.monitoring:9090
              query: sum(rate(requests_total{code!~"5.."}[1m])) / sum(rate(requests_total[1m]))
              successCondition: result[0] >= 0.95
              interval: 30s
              count: 4
          - setWeight: 50
          - pause: {}          # until promoted

The same mapping, as JSON, is what a Deployment rendered from kustomize or templates
carries in its ``hakobu.dev/rollout`` annotation. ``parse_canary`` checks what a schema
cannot: weights that rise, a list that ends (at least one step that sends traffic to the
canary), step kinds it knows, conditions that parse, durations. Each problem is a
``SchemaViolation`` at the field's path, so the caller can name file, line and field.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hakobu.model.condition import Condition, ConditionSyntaxError, parse_condition
from hakobu.model.duration import parse_duration
from hakobu.model.objects import Object
from hakobu.model.schemacheck import SchemaViolation, shown, suggest
from hakobu.model.source import FieldPath
from hakobu.model.traffic import TrafficRouting, parse_traffic_routing
from hakobu.model.webcheck import WebRequest, parse_web

ROLLOUT_ANNOTATION = "hakobu.dev/rollout"
# On the canary's pods (and so in the selectors of its Deployment and Service).
CANARY_LABEL = "hakobu.dev/canary"

# Kinds whose replicas hakobu can split into a stable and a canary workload.
CANARY_KINDS = frozenset({("apps", "Deployment")})

_STEP_KINDS = ("setWeight", "pause", "analysis")
_ANALYSIS_FIELDS = (
    "address",
    "query",
    "successCondition",
    "failureCondition",
    "interval",
    "count",
    "failureLimit",
    "inconclusiveLimit",
    "consecutiveErrorLimit",
    "web",
)
_CANARY_FIELDS = (
    "steps",
    "trafficRouting",
    "stableService",
    "dynamicStableScale",
    "analysis",
    "maxSurge",
    "maxUnavailable",
)


@dataclass(frozen=True)
class SetWeight:
    """Send ``weight`` percent of the app's replicas (and so of its traffic) to the canary."""

    weight: int


@dataclass(frozen=True)
class Pause:
    """Wait ``seconds``, or until promoted when None."""

    seconds: float | None


@dataclass(frozen=True)
class Analysis:
    """Measure a Prometheus query ``count`` times, ``interval_seconds`` apart.

    A measurement fails when ``failure`` holds, or when only ``success`` is given and it
    does not; it succeeds when ``success`` holds (or only ``failure`` is given and does not);
    with both given and neither holding, or with an empty result, it is inconclusive. The
    analysis fails once failures exceed ``failure_limit`` or consecutive errors exceed
    ``consecutive_error_limit``, and stops inconclusive (the rollout pauses) once
    inconclusive measurements exceed ``inconclusive_limit``.
    """

    address: str
    query: str
    success: Condition | None
    failure: Condition | None
    interval_seconds: float = 30.0
    count: int = 1
    failure_limit: int = 0
    inconclusive_limit: int = 0
    consecutive_error_limit: int = 4
    # An HTTP check instead of a query (address and query are then empty).
    web: WebRequest | None = None


@dataclass(frozen=True)
class BackgroundAnalysis:
    """Analyses measured every interval from step ``starting_step`` (0-based) while the
    steps proceed; a failure aborts the rollout at whatever step it is. An analysis whose
    ``count`` is 0 measures until the rollout ends."""

    analyses: tuple[Analysis, ...]
    starting_step: int = 0


Step = SetWeight | Pause | Analysis


@dataclass(frozen=True)
class Canary:
    """The steps, and how far each pass may go above (``max_surge``) or below
    (``max_unavailable``) the app's replicas: a count, or a percentage such as ``"25%"``.
    The defaults keep every replica up: the canary starts beside the stable version, which
    gives up replicas once the canary's are available."""

    steps: tuple[Step, ...]
    traffic: TrafficRouting | None = None
    background: BackgroundAnalysis | None = None
    max_surge: int | str = "100%"
    max_unavailable: int | str = 0
    # The mapping as written, which rendered objects carry as ROLLOUT_ANNOTATION.
    declared: Mapping[str, Any] = field(default_factory=dict, compare=False)


def parse_canary(data: Any, path: FieldPath) -> Canary:
    """The canary declared by ``data`` (the mapping under ``rollout``); ``path`` is where
    that mapping is, for the fields named in errors."""
    _mapping(data, path)
    _known(data, path, ("canary",))
    if "canary" not in data:
        raise SchemaViolation(path, "expected canary: the only strategy hakobu runs")
    canary_path = (*path, "canary")
    canary = data["canary"]
    _mapping(canary, canary_path)
    _known(canary, canary_path, _CANARY_FIELDS)
    steps_path = (*canary_path, "steps")
    steps = canary.get("steps")
    if not isinstance(steps, list):
        raise SchemaViolation(steps_path, "expected a list of steps")
    parsed = tuple(_step(step, (*steps_path, index)) for index, step in enumerate(steps))
    _check_weights(parsed, steps_path)
    traffic = None
    if "trafficRouting" in canary:
        traffic = parse_traffic_routing(
            canary["trafficRouting"],
            (*canary_path, "trafficRouting"),
            canary.get("stableService"),
            canary.get("dynamicStableScale", False),
        )
    else:
        for key in ("stableService", "dynamicStableScale"):
            if key in canary:
                raise SchemaViolation(
                    (*canary_path, key), "only means something with trafficRouting"
                )
    background = None
    if "analysis" in canary:
        background = _background(canary["analysis"], (*canary_path, "analysis"), len(parsed))
    surge = _limit(canary, canary_path, "maxSurge", "100%")
    unavailable = _limit(canary, canary_path, "maxUnavailable", 0)
    if surge in (0, "0%") and unavailable in (0, "0%"):
        raise SchemaViolation(
            (*canary_path, "maxUnavailable"),
            "maxSurge and maxUnavailable are both zero, so no replica could ever move",
            "allow one of them, e.g. maxSurge: 1",
        )
    return Canary(
        parsed,
        traffic=traffic,
        background=background,
        max_surge=surge,
        max_unavailable=unavailable,
        declared=copy.deepcopy(data),
    )


def _background(data: Any, path: FieldPath, steps: int) -> BackgroundAnalysis:
    _mapping(data, path)
    _known(data, path, ("templates", "startingStep"))
    templates = data.get("templates")
    if not isinstance(templates, list) or not templates:
        raise SchemaViolation(
            (*path, "templates"), "expected a list of analyses (the fields of an analysis step)"
        )
    analyses = []
    for index, template in enumerate(templates):
        where = (*path, "templates", index)
        analysis = _analysis(template, where)
        # Argo's background analysis runs until the rollout ends unless it has a count.
        analyses.append(analysis if "count" in template else replace(analysis, count=0))
    starting = _count(data, path, "startingStep", 0)
    if starting >= steps:
        raise SchemaViolation(
            (*path, "startingStep"),
            f"step {starting} is past the last step ({steps - 1}, counting from 0)",
        )
    return BackgroundAnalysis(tuple(analyses), starting)


def _limit(data: dict[str, Any], path: FieldPath, key: str, default: int | str) -> int | str:
    value = data.get(key, default)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10_000:
        return value
    digits = value[:-1] if isinstance(value, str) and value.endswith("%") else ""
    if digits.isdigit() and int(digits) <= 100:
        return f"{int(digits)}%"
    raise SchemaViolation(
        (*path, key),
        f"expected a number of replicas or a percentage from 0% to 100%, got {shown(value)}",
        "for example 1 or 25%",
    )


def weights(canary: Canary) -> tuple[int, ...]:
    """The weight each step leaves the canary at: the last setWeight at or before it."""
    current, found = 0, []
    for step in canary.steps:
        if isinstance(step, SetWeight):
            current = step.weight
        found.append(current)
    return tuple(found)


def _check_weights(steps: tuple[Step, ...], path: FieldPath) -> None:
    previous = 0
    for index, step in enumerate(steps):
        if not isinstance(step, SetWeight):
            continue
        if step.weight <= previous:
            raise SchemaViolation(
                (*path, index, "setWeight"),
                f"weight {step.weight} does not rise above the previous weight {previous}",
                "list weights in rising order: a rollout only moves traffic toward the canary",
            )
        previous = step.weight
    if previous == 0:
        raise SchemaViolation(
            path,
            "the steps never send traffic to the canary, so the rollout has no end to reach",
            "add a step such as setWeight: 20 before any pause or analysis",
        )


def _step(data: Any, path: FieldPath) -> Step:
    if not isinstance(data, dict) or len(data) != 1:
        raise SchemaViolation(
            path, "expected a step with exactly one of setWeight, pause or analysis"
        )
    [(kind, value)] = data.items()
    where = (*path, kind)
    if kind == "setWeight":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
            raise SchemaViolation(where, f"expected a percentage from 1 to 100, got {shown(value)}")
        return SetWeight(value)
    if kind == "pause":
        _mapping(value, where)
        _known(value, where, ("duration",))
        duration = value.get("duration")
        return Pause(None if duration is None else _seconds(duration, (*where, "duration")))
    if kind == "analysis":
        return _analysis(value, where)
    raise SchemaViolation(path, f"unknown step kind {shown(kind)}", suggest(kind, [*_STEP_KINDS]))


def _analysis(data: Any, path: FieldPath) -> Analysis:
    _mapping(data, path)
    _known(data, path, _ANALYSIS_FIELDS)
    if "web" in data:
        return _web_analysis(data, path)
    for required in ("address", "query"):
        if not isinstance(data.get(required), str) or not data[required]:
            raise SchemaViolation((*path, required), "expected a non-empty string")
    address: str = data["address"]
    if not address.startswith(("http://", "https://")):
        raise SchemaViolation(
            (*path, "address"), f"expected an http:// or https:// URL, got {shown(address)}"
        )
    success = _condition(data, path, "successCondition")
    failure = _condition(data, path, "failureCondition")
    if success is None and failure is None:
        raise SchemaViolation(
            path,
            "an analysis needs successCondition, failureCondition or both",
            "for example successCondition: result[0] >= 0.95",
        )
    return Analysis(
        address=address.rstrip("/"),
        query=data["query"],
        success=success,
        failure=failure,
        interval_seconds=_seconds(data.get("interval", "30s"), (*path, "interval")),
        count=_count(data, path, "count", 1, minimum=1),
        failure_limit=_count(data, path, "failureLimit", 0),
        inconclusive_limit=_count(data, path, "inconclusiveLimit", 0),
        consecutive_error_limit=_count(data, path, "consecutiveErrorLimit", 4),
    )


def _web_analysis(data: dict[str, Any], path: FieldPath) -> Analysis:
    for other in ("address", "query"):
        if other in data:
            raise SchemaViolation(
                (*path, other), "an analysis measures either a web request or a Prometheus query"
            )
    return Analysis(
        address="",
        query="",
        success=_condition(data, path, "successCondition"),
        failure=_condition(data, path, "failureCondition"),
        interval_seconds=_seconds(data.get("interval", "30s"), (*path, "interval")),
        count=_count(data, path, "count", 1, minimum=1),
        failure_limit=_count(data, path, "failureLimit", 0),
        inconclusive_limit=_count(data, path, "inconclusiveLimit", 0),
        consecutive_error_limit=_count(data, path, "consecutiveErrorLimit", 4),
        web=parse_web(data["web"], (*path, "web")),
    )


def _condition(data: dict[str, Any], path: FieldPath, key: str) -> Condition | None:
    if key not in data:
        return None
    text = data[key]
    if not isinstance(text, str):
        raise SchemaViolation((*path, key), f"expected a condition as a string, got {shown(text)}")
    try:
        return parse_condition(text)
    except ConditionSyntaxError as e:
        raise SchemaViolation(
            (*path, key),
            f"{shown(text)} does not parse: {e}",
            "write comparisons such as result[0] >= 0.95, joined by and, or, not",
        ) from None


def _seconds(value: Any, path: FieldPath) -> float:
    if not isinstance(value, str):
        raise SchemaViolation(path, f"expected a duration such as 30s or 5m, got {shown(value)}")
    try:
        seconds = parse_duration(value)
    except ValueError as e:
        raise SchemaViolation(path, str(e)) from None
    if seconds <= 0:
        raise SchemaViolation(path, f"expected a duration above zero, got {shown(value)}")
    return seconds


def _count(data: dict[str, Any], path: FieldPath, key: str, default: int, minimum: int = 0) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 10_000:
        raise SchemaViolation(
            (*path, key), f"expected a whole number from {minimum} to 10000, got {shown(value)}"
        )
    return value


def _mapping(value: Any, path: FieldPath) -> None:
    if not isinstance(value, dict):
        raise SchemaViolation(path, f"expected a mapping, got {shown(value)}")


def _known(value: dict[str, Any], path: FieldPath, accepted: tuple[str, ...]) -> None:
    for key in value:
        if key not in accepted:
            raise SchemaViolation(
                (*path, key), f"unknown field {shown(key)}", suggest(str(key), [*accepted])
            )


# ---------------------------------------------------------------------------------------
# Holding the stable version while a canary runs
# ---------------------------------------------------------------------------------------

# The digest of the pod template the Deployment runs, and the new version a sync left for
# the rollout to bring in: {"hash", "replicas", "template"}, canonical JSON.
TEMPLATE_HASH_ANNOTATION = "hakobu.dev/template-hash"
PENDING_ANNOTATION = "hakobu.dev/canary-pending"


def template_hash(template: Any) -> str:
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def holding_stable(desired: Object, live: Object | None) -> Object:
    """What a sync applies for ``desired`` when ``live`` is what runs.

    A Deployment that declares a canary and already runs another pod template keeps its
    template and replicas (the stable version); the new template and replicas are left in
    ``PENDING_ANNOTATION`` for the rollout, which brings them in step by step. Everything
    else, and a Deployment created for the first time, is applied as written, marked with
    the digest of its template.
    """
    annotations = (desired.get("metadata") or {}).get("annotations") or {}
    if ROLLOUT_ANNOTATION not in annotations or desired.get("kind") != "Deployment":
        return desired
    copied: Object = copy.deepcopy(desired)
    spec = copied.setdefault("spec", {})
    digest = template_hash(spec.get("template"))
    marks = copied["metadata"]["annotations"]
    marks[TEMPLATE_HASH_ANNOTATION] = digest
    if live is None:
        return copied
    running = ((live.get("metadata") or {}).get("annotations") or {}).get(TEMPLATE_HASH_ANNOTATION)
    if running == digest:
        return copied
    pending = {"hash": digest, "replicas": spec.get("replicas", 1), "template": spec["template"]}
    marks[PENDING_ANNOTATION] = json.dumps(pending, sort_keys=True, separators=(",", ":"))
    marks[TEMPLATE_HASH_ANNOTATION] = running or ""
    live_spec = live.get("spec") or {}
    spec["template"] = copy.deepcopy(live_spec.get("template"))
    spec["replicas"] = live_spec.get("replicas", 1)
    return copied


STATE_ANNOTATION = "hakobu.dev/rollout-state"


def rollout_in_progress(live: Object) -> tuple[str, str] | None:
    """The phase of the rollout a live Deployment is in, and a line saying where it stands;
    None when none is (no new version pending, or one the rollout has not started)."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    try:
        pending = json.loads(annotations.get(PENDING_ANNOTATION) or "null")
        state = json.loads(annotations.get(STATE_ANNOTATION) or "null")
        declared = json.loads(annotations.get(ROLLOUT_ANNOTATION) or "null")
    except json.JSONDecodeError:
        return None
    if not (isinstance(pending, dict) and isinstance(state, dict)):
        return None
    current = pending.get("hash")
    if current != state.get("hash") or current == annotations.get(TEMPLATE_HASH_ANNOTATION):
        return None
    phase = str(state.get("phase", ""))
    steps = ((declared or {}).get("canary") or {}).get("steps") or []
    step = min(int(state.get("step", 0)) + 1, len(steps))
    message = f": {state['message']}" if state.get("message") else ""
    return phase, f"canary step {step}/{len(steps)} {phase}{message}"
