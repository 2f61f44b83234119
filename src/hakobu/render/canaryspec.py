"""Rollout declarations on rendered objects: written by app specs, checked for every app.

An app spec's ``rollout:`` becomes the ``hakobu.dev/rollout`` annotation of its Deployment
(canonical JSON, so the committed file is byte-stable); a kustomize or template app declares
a canary or a blue-green rollout by writing the same annotation (JSON) on a Deployment
itself. Either way the annotation is checked here at render time, so a bad step, a condition
that does not parse, a rollout on a kind hakobu cannot roll, or a blue-green rollout whose
active or preview Service the app does not render is an error before anything is committed,
naming the app, the object and the field.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from hakobu.errors import InvalidInput
from hakobu.model.bluegreen import BlueGreen
from hakobu.model.canary import CANARY_KINDS, ROLLOUT_ANNOTATION, Canary
from hakobu.model.objects import Object, object_ref
from hakobu.model.rollout import Strategy, parse_rollout
from hakobu.model.schemacheck import SchemaViolation
from hakobu.model.source import format_field
from hakobu.render.trafficspec import check_router

_ANNOTATION_PATH = ("metadata", "annotations", ROLLOUT_ANNOTATION)


def rollout_annotation(strategy: Strategy) -> str:
    """The annotation's value for ``strategy``: its declaration as canonical JSON."""
    return json.dumps(strategy.declared, sort_keys=True, separators=(",", ":"))


def declared_canary(obj: Object) -> Strategy | None:
    """The rollout ``obj``'s annotation declares, None without one; ``InvalidInput`` naming
    the object and field when the declaration is invalid or the kind cannot have one."""
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(ROLLOUT_ANNOTATION)
    if text is None:
        return None
    where = f"{object_ref(obj)}: {format_field(_ANNOTATION_PATH)}"
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    if (group, obj.get("kind")) not in CANARY_KINDS:
        raise InvalidInput(
            f"{where}: a {obj.get('kind')} cannot have a rollout: hakobu runs canary and "
            "blue-green rollouts of a Deployment",
            hint="move the annotation to a Deployment, or remove it",
        )
    try:
        data = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError as e:
        raise InvalidInput(
            f"{where}: not JSON: {e}",
            hint='write e.g. {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}}',
        ) from None
    try:
        return parse_rollout(data, ())
    except SchemaViolation as e:
        inner = f".{format_field(e.path)}" if e.path else ""
        raise InvalidInput(f"{where}{inner}: {e.message}", hint=e.hint) from None


def check_canaries(app: str, objects: Sequence[Object], source: str | None = None) -> None:
    """Every rollout declared among ``app``'s rendered objects is valid and on a
    Deployment, a canary's traffic router names objects the app renders, and so do a
    blue-green one's Services. ``source``, the app's file or directory, is named in errors:
    a rendered object has no line to point at."""
    named = f"app {app} ({source})" if source else f"app {app}"
    for obj in objects:
        try:
            declared = declared_canary(obj)
            if isinstance(declared, Canary):
                where = f"{object_ref(obj)}: {format_field(_ANNOTATION_PATH)}"
                check_router(where, obj, declared, objects)
            elif isinstance(declared, BlueGreen):
                _check_services(obj, declared, objects)
        except InvalidInput as e:
            raise InvalidInput(f"{named}: {e.message}", hint=e.hint) from None


def _check_services(obj: Object, blue_green: BlueGreen, objects: Sequence[Object]) -> None:
    meta = obj.get("metadata") or {}
    namespace, name = meta.get("namespace"), str(meta.get("name", ""))
    services = {
        (o.get("metadata") or {}).get("name")
        for o in objects
        if o.get("kind") == "Service" and (o.get("metadata") or {}).get("namespace") == namespace
    }
    if blue_green.active(name) == blue_green.preview(name):
        raise InvalidInput(
            f"{object_ref(obj)}: {format_field(_ANNOTATION_PATH)}.blueGreen.previewService: "
            f"the preview Service must differ from the active Service {blue_green.active(name)!r}",
            hint="name another Service, or leave previewService out for <active>-preview",
        )
    for key, wanted in (
        ("activeService", blue_green.active(name)),
        ("previewService", blue_green.preview(name)),
    ):
        if wanted not in services:
            raise InvalidInput(
                f"{object_ref(obj)}: {format_field(_ANNOTATION_PATH)}.blueGreen.{key}: the "
                f"app renders no Service {wanted!r} in the Deployment's namespace",
                hint=f"render a Service {wanted!r} selecting the Deployment's pods, or name "
                f"an existing one in {key}",
            )
