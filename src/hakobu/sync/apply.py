"""Server-side apply of one wave: foundations first, then everything else concurrently.

Namespaces and CustomResourceDefinitions of a wave are applied before the rest, and the
definitions waited on until Established, so a custom object in the same wave finds its
kind (the definition's own Established condition, which turns True within moments of its
creation, is what counts: its health reads Degraded until then). A field-manager conflict
names the managers that own the fields; ``force`` takes them over, as
``kubectl apply --server-side --force-conflicts`` does.

A change the server refuses as Invalid, to an object it would accept if it were new, is a
change of a field set only at creation (a Job's template, a Deployment's selector, a
Service's clusterIP): ``recreate_refused`` deletes and creates such an object again when it
opts in (``hakobu.dev/recreate``), and otherwise says how to opt in. Unlike
``kubectl apply --force`` and Flux, which recreate on any Invalid answer, the create dry run
keeps a manifest that is simply wrong from costing the live object.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Collection, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import ApiError, Conflict, Invalid, NotFound
from hakobu.model.objects import Object, ObjectId, object_id, object_ref
from hakobu.sync.ownership import FIELD_MANAGER
from hakobu.sync.policy import RECREATE_ANNOTATION
from hakobu.sync.waiting import wait_gone

FOUNDATION_KINDS = frozenset({"Namespace", "CustomResourceDefinition"})
_MANAGER = re.compile(r'conflict with "([^"]+)"')


@dataclass(frozen=True)
class Applied:
    ref: str
    live: Object | None
    error: str | None = None
    # The object's namespace or kind does not exist yet: a dry run cannot check it.
    unverifiable: bool = False
    # The server refused it as Invalid (422).
    invalid: bool = False
    # Deleted and created again, since the server refused its change as immutable (in a
    # dry run: checked as the creation it would be).
    recreated: bool = False


def apply_objects(
    kube: KubeApi,
    objects: Sequence[Object],
    *,
    deadline: float,
    pool: Executor,
    force: bool = False,
    forced: Collection[ObjectId] = frozenset(),
    dry_run: bool = False,
) -> list[Applied]:
    """One result per object, in the order given; requests run on ``pool``. The objects
    in ``forced`` take over conflicting fields even without ``force``."""
    first = [i for i, o in enumerate(objects) if o["kind"] in FOUNDATION_KINDS]
    rest = [i for i, o in enumerate(objects) if o["kind"] not in FOUNDATION_KINDS]
    results = dict(
        zip(
            first,
            _concurrently(
                kube, pool, [objects[i] for i in first], force=force, forced=forced, dry_run=dry_run
            ),
            strict=True,
        )
    )
    definitions = [
        i
        for i in first
        if results[i].live is not None and objects[i]["kind"] == "CustomResourceDefinition"
    ]
    if definitions and not dry_run:
        for i in definitions:
            problem = wait_established(kube, objects[i], deadline)
            if problem:
                results[i] = Applied(results[i].ref, None, problem)
        kube.refresh_discovery()
    results.update(
        zip(
            rest,
            _concurrently(
                kube, pool, [objects[i] for i in rest], force=force, forced=forced, dry_run=dry_run
            ),
            strict=True,
        )
    )
    return [results[i] for i in range(len(objects))]


def wait_established(kube: KubeApi, crd: Object, deadline: float) -> str | None:
    """None once the definition is Established; else why not."""
    ref = object_ref(crd)
    while True:
        live = kube.get(crd["apiVersion"], crd["kind"], crd["metadata"]["name"])
        conditions = {c.get("type"): c for c in (live.get("status") or {}).get("conditions") or []}
        names = conditions.get("NamesAccepted") or {}
        if names.get("status") == "False":
            return f"{ref}: its names were not accepted: {names.get('message', '')}"
        if (conditions.get("Established") or {}).get("status") == "True":
            return None
        if time.monotonic() >= deadline:
            return f"{ref} did not become Established in time"
        time.sleep(0.1)


def _concurrently(
    kube: KubeApi,
    pool: Executor,
    objects: Sequence[Object],
    *,
    force: bool,
    forced: Collection[ObjectId],
    dry_run: bool,
) -> list[Applied]:
    def one(obj: Object) -> Applied:
        return apply_one(kube, obj, force=force or object_id(obj) in forced, dry_run=dry_run)

    return list(pool.map(one, objects))


def apply_one(kube: KubeApi, obj: Object, *, force: bool, dry_run: bool) -> Applied:
    ref = object_ref(obj)
    try:
        resource = kube.resource(obj["apiVersion"], obj["kind"])
        if not resource.namespaced and obj["metadata"].get("namespace"):
            obj = {
                **obj,
                "metadata": {k: v for k, v in obj["metadata"].items() if k != "namespace"},
            }
        live = kube.apply(obj, field_manager=FIELD_MANAGER, force=force, dry_run=dry_run)
    except Conflict as e:
        return Applied(ref, None, conflict_message(ref, e))
    except NotFound as e:
        return Applied(ref, None, f"{ref}: {e.message}", unverifiable=dry_run)
    except Invalid as e:
        return Applied(
            ref, None, f"{ref}: the server rejected it: {invalid_message(e)}", invalid=True
        )
    except ApiError as e:
        return Applied(ref, None, f"{ref}: the server rejected it: {e.message}")
    return Applied(ref, live)


# Longer than this, a refused value (a Job's whole pod template) hides the reason after it.
_READABLE_VALUE = 100


def invalid_message(error: Invalid) -> str:
    """The server's message, each refused field with its reason, leaving out values too
    long to read."""
    causes = (error.status.get("details") or {}).get("causes") or []
    head, said, _ = error.message.partition(" is invalid: ")
    if not causes or not said:
        return error.message
    parts = []
    for cause in causes:
        message = str(cause.get("message", ""))
        if message.startswith("Invalid value: ") and len(message) > _READABLE_VALUE:
            message = f"Invalid value: …: {message.rpartition(': ')[2]}"
        parts.append(f"{cause['field']}: {message}" if cause.get("field") else message)
    return f"{head} is invalid: {'; '.join(parts)}"


def recreate_refused(
    kube: KubeApi,
    obj: Object,
    refused: Applied,
    *,
    allowed: bool,
    deadline: float,
    dry_run: bool,
) -> Applied:
    """What becomes of an existing object whose update the server ``refused`` as Invalid.

    When the server would accept the same manifest as a new object, the refusal is of a
    change it allows only at creation: with ``allowed`` the object is deleted (its
    dependents first: a Job's Pods, a Deployment's ReplicaSets) and created again once it
    is gone; without, it fails with the server's message and the annotation that would
    allow it. Anything else the server refused stays refused as it was."""
    ref = refused.ref
    fresh = dry_run_recreate(kube, obj)
    if fresh.error:
        return refused
    if not allowed:
        return dataclasses.replace(
            refused,
            error=f"{refused.error} — the server takes this change only by deleting and "
            f'creating {ref} again: annotate it {RECREATE_ANNOTATION}: "true" (or put that '
            "in its app spec's annotations) to let a sync do so",
        )
    if dry_run:
        return Applied(ref, fresh.live, recreated=True)
    meta = obj["metadata"]
    try:
        kube.delete(
            obj["apiVersion"],
            obj["kind"],
            meta["name"],
            meta.get("namespace"),
            propagation="Foreground",
        )
    except NotFound:
        pass
    except ApiError as e:
        return Applied(ref, None, f"{ref}: cannot delete it to create it again: {e.message}")
    if not wait_gone(kube, obj, deadline):
        return Applied(
            ref,
            None,
            f"{ref}: deleted to be created again, but still being deleted when the sync "
            "timed out (a finalizer, or dependents that do not go)",
        )
    created = apply_one(kube, obj, force=False, dry_run=False)
    return dataclasses.replace(created, recreated=created.live is not None)


def conflict_message(ref: str, error: Conflict) -> str:
    causes = (error.status.get("details") or {}).get("causes") or []
    managers = sorted(
        {m for cause in causes for m in _MANAGER.findall(str(cause.get("message", "")))}
        or set(_MANAGER.findall(error.message))
    )
    fields = sorted({str(cause["field"]) for cause in causes if cause.get("field")})
    owners = ", ".join(f'"{m}"' for m in managers) or "another field manager"
    where = f" ({', '.join(fields)})" if fields else ""
    return (
        f"{ref}: fields{where} are managed by {owners}, which changed them after hakobu; "
        "sync with --force-conflicts to take them over, or change git to match"
    )


def dry_run_recreate(kube: KubeApi, obj: Object) -> Applied:
    """The server's check of creating ``obj`` anew while its previous copy still exists
    (a hook a sync deletes and creates again): a create dry run under a generated name, so
    the previous copy answers neither AlreadyExists nor "field is immutable"."""
    ref = object_ref(obj)
    meta = {k: v for k, v in obj["metadata"].items() if k != "name"}
    meta["generateName"] = f"{obj['metadata']['name']}-"
    try:
        live = kube.create({**obj, "metadata": meta}, field_manager=FIELD_MANAGER, dry_run=True)
    except NotFound as e:
        return Applied(ref, None, f"{ref}: {e.message}", unverifiable=True)
    except ApiError as e:
        return Applied(ref, None, f"{ref}: the server rejected it: {e.message}")
    return Applied(ref, live)
