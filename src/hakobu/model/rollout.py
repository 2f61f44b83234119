"""An app's rollout strategy, exactly one of ``canary`` or ``blueGreen``, and what a sync
applies while one runs.

A sync holds the running version of a Deployment that declares a rollout and leaves the
new one for the rollout (``model.canary.holding_stable``). Blue-green adds one thing: the
Services choose between versions by pod label, so every pod template of a blue-green
Deployment carries ``hakobu.dev/revision`` (the digest of the template as rendered), and a
Service whose live selector names a revision keeps it, since the rollout sets it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hakobu.model import canary
from hakobu.model.bluegreen import BlueGreen, parse_blue_green, stages
from hakobu.model.canary import (
    PENDING_ANNOTATION,
    ROLLOUT_ANNOTATION,
    STATE_ANNOTATION,
    TEMPLATE_HASH_ANNOTATION,
    Canary,
    _known,
    _mapping,
    parse_canary,
    template_hash,
)
from hakobu.model.objects import Object
from hakobu.model.schemacheck import SchemaViolation
from hakobu.model.source import FieldPath

Strategy = Canary | BlueGreen

# The pod label by which a blue-green rollout's Services tell the versions apart.
REVISION_LABEL = "hakobu.dev/revision"

_STRATEGIES = ("canary", "blueGreen")


def parse_rollout(data: Any, path: FieldPath) -> Strategy:
    """The strategy declared by ``data`` (the mapping under ``rollout``); ``path`` is where
    that mapping is, for the fields named in errors."""
    _mapping(data, path)
    _known(data, path, _STRATEGIES)
    given = [key for key in _STRATEGIES if key in data]
    if len(given) != 1:
        raise SchemaViolation(
            path,
            "expected exactly one of canary or blueGreen"
            + (", got both" if len(given) > 1 else ""),
            "canary moves a rising share of the replicas; blueGreen runs the new version "
            "beside the old one and switches the Service at once",
        )
    if given == ["blueGreen"]:
        return parse_blue_green(data, path)
    return parse_canary(data, path)


def is_blue_green(obj: Object) -> bool:
    """Whether ``obj`` declares a blue-green rollout in its annotation."""
    declared = _declared(obj)
    return isinstance(declared, dict) and "blueGreen" in declared


def template_digest(deployment: Object) -> str:
    """The digest a sync records for a Deployment's pod template as written
    (``hakobu.dev/template-hash``): of the template it applies, which carries the revision
    label under blue-green."""
    template = (deployment.get("spec") or {}).get("template") or {}
    if not is_blue_green(deployment):
        return template_hash(template)
    return template_hash(_labelled(template))


def _labelled(template: Object) -> Object:
    labelled: Object = copy.deepcopy(template)
    metadata = labelled.setdefault("metadata", {})
    metadata["labels"] = {**(metadata.get("labels") or {}), REVISION_LABEL: template_hash(template)}
    return labelled


def holding_stable(desired: Object, live: Object | None) -> Object:
    """What a sync applies for ``desired`` when ``live`` is what runs (see the module)."""
    kind = desired.get("kind")
    if kind == "Service" and desired.get("apiVersion") == "v1" and live is not None:
        return _keeping_revision(desired, live)
    if kind != "Deployment" or not is_blue_green(desired):
        return canary.holding_stable(desired, live)
    labelled: Object = copy.deepcopy(desired)
    spec = labelled.setdefault("spec", {})
    spec["template"] = _labelled(spec.get("template") or {})
    if live is not None and revision_of(live) is None:
        # Pods without the label cannot be told apart by a Service: the first version
        # under blue-green replaces them as a plain rolling update.
        return canary.holding_stable(labelled, None)
    return canary.holding_stable(labelled, live)


def as_compared(desired: Object, live: Object, manager: str) -> Object:
    """What a live object is compared with to say whether it is synced: what a sync would
    apply (``holding_stable``), less what a rollout sets: the replicas while a canary holds
    a Deployment (blue-green leaves them as they are), and a Service's selector once the
    rollout switched it (which takes the selector from ``manager``, the sync's field
    manager, until the sync applies it again: Kubernetes keeps a Service's selector as one
    value)."""
    applied = holding_stable(desired, live)
    if applied.get("kind") == "Service" and _switched(live, manager):
        spec = {k: v for k, v in (applied.get("spec") or {}).items() if k != "selector"}
        return {**applied, "spec": spec}
    held = PENDING_ANNOTATION in ((applied.get("metadata") or {}).get("annotations") or {})
    if not held or is_blue_green(applied):
        return applied
    spec = {k: v for k, v in (applied.get("spec") or {}).items() if k != "replicas"}
    return {**applied, "spec": spec}


def revision_of(deployment: Object) -> str | None:
    """The revision label of a Deployment's pod template; None without one."""
    template = (deployment.get("spec") or {}).get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    value = labels.get(REVISION_LABEL)
    return value if isinstance(value, str) else None


def rollout_in_progress(live: Object) -> tuple[str, str] | None:
    """The phase of the rollout a live Deployment is in, and a line saying where it stands;
    None when none is."""
    if not is_blue_green(live):
        return canary.rollout_in_progress(live)
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    try:
        pending = json.loads(annotations.get(PENDING_ANNOTATION) or "null")
        state = json.loads(annotations.get(STATE_ANNOTATION) or "null")
        declared = parse_blue_green(_declared(live), ())
    except (json.JSONDecodeError, SchemaViolation):
        return None
    if not (isinstance(pending, dict) and isinstance(state, dict)):
        return None
    current = pending.get("hash")
    if current != state.get("hash") or current == annotations.get(TEMPLATE_HASH_ANNOTATION):
        return None
    phase = str(state.get("phase", ""))
    path = stages(declared)
    step = min(int(state.get("step", 0)), len(path) - 1)
    message = f": {state['message']}" if state.get("message") else ""
    return phase, f"blue-green {path[step]} ({step + 1}/{len(path)}) {phase}{message}"


def _switched(live: Object, manager: str) -> bool:
    """Whether a rollout switched the live Service's selector away from ``manager``."""
    if REVISION_LABEL not in ((live.get("spec") or {}).get("selector") or {}):
        return False
    return not any(
        entry.get("manager") == manager
        and "f:selector" in ((entry.get("fieldsV1") or {}).get("f:spec") or {})
        for entry in (live.get("metadata") or {}).get("managedFields") or []
    )


def _keeping_revision(desired: Object, live: Object) -> Object:
    selector = (desired.get("spec") or {}).get("selector")
    revision = ((live.get("spec") or {}).get("selector") or {}).get(REVISION_LABEL)
    if not isinstance(selector, dict) or revision is None:
        return desired
    copied: Object = copy.deepcopy(desired)
    copied["spec"]["selector"] = {**selector, REVISION_LABEL: revision}
    return copied


def _declared(obj: Object) -> Any:
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(ROLLOUT_ANNOTATION)
    try:
        return json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        return None
