"""Canary declarations on rendered objects: written by app specs, checked for every app.

An app spec's ``rollout:`` becomes the ``hakobu.dev/rollout`` annotation of its Deployment
(canonical JSON, so the committed file is byte-stable); a kustomize or template app declares
a canary by writing the same annotation (JSON) on a Deployment itself. Either
way the annotation is checked here at render time, so a bad step, a condition that does not
parse or a canary on a kind whose replicas cannot be split is an error before anything is
committed, naming the app, the object and the field.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from hakobu.errors import InvalidInput
from hakobu.model.canary import CANARY_KINDS, ROLLOUT_ANNOTATION, Canary, parse_canary
from hakobu.model.objects import Object, object_ref
from hakobu.model.schemacheck import SchemaViolation
from hakobu.model.source import format_field
from hakobu.render.trafficspec import check_router

_ANNOTATION_PATH = ("metadata", "annotations", ROLLOUT_ANNOTATION)


def rollout_annotation(canary: Canary) -> str:
    """The annotation's value for ``canary``: its declaration as canonical JSON."""
    return json.dumps(canary.declared, sort_keys=True, separators=(",", ":"))


def declared_canary(obj: Object) -> Canary | None:
    """The canary ``obj``'s annotation declares, None without one; ``InvalidInput`` naming
    the object and field when the declaration is invalid or the kind cannot have one."""
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(ROLLOUT_ANNOTATION)
    if text is None:
        return None
    where = f"{object_ref(obj)}: {format_field(_ANNOTATION_PATH)}"
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    if (group, obj.get("kind")) not in CANARY_KINDS:
        raise InvalidInput(
            f"{where}: a {obj.get('kind')} cannot have a canary rollout: hakobu splits the "
            "replicas of a Deployment",
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
        return parse_canary(data, ())
    except SchemaViolation as e:
        inner = f".{format_field(e.path)}" if e.path else ""
        raise InvalidInput(f"{where}{inner}: {e.message}", hint=e.hint) from None


def check_canaries(app: str, objects: Sequence[Object], source: str | None = None) -> None:
    """Every canary declared among ``app``'s rendered objects is valid and on a Deployment,
    and its traffic router names objects the app renders. ``source``, the app's file or
    directory, is named in errors: a rendered object has no line to point at."""
    named = f"app {app} ({source})" if source else f"app {app}"
    for obj in objects:
        try:
            canary = declared_canary(obj)
            if canary is not None:
                where = f"{object_ref(obj)}: {format_field(_ANNOTATION_PATH)}"
                check_router(where, obj, canary, objects)
        except InvalidInput as e:
            raise InvalidInput(f"{named}: {e.message}", hint=e.hint) from None
