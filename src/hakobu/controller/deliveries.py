"""Deliveries as a person (or a webhook) handles them: create, list, suspend, ask for a pass.

The controller watches Deliveries, so every request here is a plain write to the API
server, never a call to a controller replica: whichever replica owns a Delivery sees the
change and acts on it. Paths are built from the group, version and plural rather than found
through discovery, so a webhook annotating a Delivery costs one request.

A missing Delivery surfaces as ``hakobu.cluster.errors.NotFound``, as the API server says
it; ``missing`` turns that into what a person should be told (the Delivery is not there, or
the CustomResourceDefinition is not installed at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import NotFound
from hakobu.controller.delivery import (
    API_VERSION,
    FINALIZER,
    GROUP,
    KIND,
    PLURAL,
    RECONCILE_REQUESTED_AT,
    VERSION,
    DeliveryRef,
    parse,
)
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.identity import identity_problem
from hakobu.model.objects import Object

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
FIELD_MANAGER = "hakobu"
INSTALL_HINT = "install the Delivery CRD and the controller with `hakobu install`"


class NotInstalled(OperationFailed):
    """The API server does not serve Deliveries: the CRD is not installed."""


class DeliveryNotFound(OperationFailed):
    """No Delivery of that name in that namespace."""


def collection_path(namespace: str | None) -> str:
    """The REST path of the Deliveries of ``namespace``, or of every namespace for None."""
    prefix = f"/apis/{GROUP}/{VERSION}"
    return f"{prefix}/namespaces/{namespace}/{PLURAL}" if namespace else f"{prefix}/{PLURAL}"


def delivery_path(ref: DeliveryRef) -> str:
    """The REST path of ``ref``; a name or namespace the API server could not hold (a ``/``
    that would lead the request elsewhere) is refused first."""
    stub = {"apiVersion": API_VERSION, "kind": KIND, "metadata": _metadata(ref)}
    problem = identity_problem(stub)
    if problem is not None:
        field, why = problem
        raise InvalidInput(f"Delivery {field}: {why}")
    return f"{collection_path(ref.namespace)}/{ref.name}"


def _metadata(ref: DeliveryRef) -> dict[str, str]:
    return {"name": ref.name, "namespace": ref.namespace}


def timestamp(at: datetime | None = None) -> str:
    """RFC 3339 in UTC with microseconds: two requests within one second must still differ,
    as only a changed annotation value reaches the controller's watch."""
    moment = datetime.now(UTC) if at is None else at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def request_reconcile(kube: KubeApi, ref: DeliveryRef, at: datetime | None = None) -> None:
    """Ask for a pass of ``ref`` now by setting its reconcile-requested-at annotation.

    A merge patch, not a read-modify-write: it cannot conflict with the controller's status
    writes, and the API server refuses it with NotFound when the Delivery is gone (a merge
    patch never creates)."""
    body = {"metadata": {"annotations": {RECONCILE_REQUESTED_AT: timestamp(at)}}}
    kube.request("PATCH", delivery_path(ref), body=body, content_type=MERGE_PATCH)


def set_suspended(kube: KubeApi, ref: DeliveryRef, suspended: bool) -> Object:
    """Set ``spec.suspend``; the controller stops (or resumes) syncing ``ref``. Returns the
    Delivery as stored."""
    result: Object = kube.request(
        "PATCH",
        delivery_path(ref),
        body={"spec": {"suspend": suspended}},
        content_type=MERGE_PATCH,
    )
    return result


def set_finalizer(kube: KubeApi, obj: Object, present: bool) -> Object:
    """Add (or remove) hakobu's finalizer on the Delivery ``obj``. A JSON patch that first
    tests the resourceVersion it read: a finalizer someone else changed meanwhile is never
    dropped (the patch is refused with Invalid or Conflict, and the caller reads the
    Delivery again). Returns the Delivery as stored."""
    metadata = obj["metadata"]
    ref = DeliveryRef(metadata.get("namespace", ""), metadata["name"])
    finalizers: list[str] = list(metadata.get("finalizers") or [])
    wanted = [f for f in finalizers if f != FINALIZER] + ([FINALIZER] if present else [])
    if wanted == finalizers:
        return obj
    body = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": metadata["resourceVersion"]},
        {"op": "add", "path": "/metadata/finalizers", "value": wanted},
    ]
    result: Object = kube.request("PATCH", delivery_path(ref), body=body, content_type=JSON_PATCH)
    return result


def list_deliveries(kube: KubeApi, namespace: str | None) -> list[Object]:
    """The Deliveries of ``namespace`` (None: every namespace), by namespace then name."""
    try:
        data = kube.request("GET", collection_path(namespace))
    except NotFound as e:
        # A LIST of a served resource never answers 404, whatever the namespace.
        raise _not_installed() from e
    items: list[Object] = data.get("items") or []
    for item in items:
        item.setdefault("apiVersion", API_VERSION)
        item.setdefault("kind", KIND)
    return sorted(items, key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"]))


def delivery_object(
    ref: DeliveryRef,
    *,
    url: str,
    environment: str,
    branch: str | None = None,
    path: str | None = None,
    interval: str | None = None,
    prune: bool = False,
    secret: str | None = None,
    auto_rollback: str | None = None,
) -> Object:
    """The Delivery these arguments declare, checked by the same reading the controller
    applies (``delivery.parse``); InvalidDelivery names the field at fault. Only what was
    given is written, so the CRD's defaults stay the defaults."""
    repository: dict[str, Any] = {"url": url}
    if branch is not None:
        repository["branch"] = branch
    if path is not None:
        repository["path"] = path
    spec: dict[str, Any] = {"repository": repository, "environment": environment}
    if interval is not None:
        spec["interval"] = interval
    if prune:
        spec["prune"] = True
    if secret is not None:
        spec["secretRef"] = {"name": secret}
    if auto_rollback is not None:
        spec["autoRollback"] = {"window": auto_rollback}
    obj: Object = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": _metadata(ref),
        "spec": spec,
    }
    delivery_path(ref)
    parse(obj)
    return obj


def create_delivery(kube: KubeApi, obj: Object, *, dry_run: bool = False) -> Object:
    """Create the Delivery ``obj`` (from ``delivery_object``); AlreadyExists if it does.
    ``dry_run`` has the API server check it (schema, admission) and store nothing."""
    meta = obj["metadata"]
    ref = DeliveryRef(meta["namespace"], meta["name"])
    params = {"fieldManager": FIELD_MANAGER} | ({"dryRun": "All"} if dry_run else {})
    try:
        result: Object = kube.request(
            "POST", collection_path(ref.namespace), params=params, body=obj
        )
    except NotFound as e:
        # Also the answer for a namespace that does not exist, which the API server names.
        if not installed(kube):
            raise _not_installed() from e
        raise
    return result


def installed(kube: KubeApi) -> bool:
    """Whether the API server serves Deliveries (fresh discovery, not a cached answer)."""
    return (API_VERSION, KIND) in kube.refresh_discovery()


def missing(kube: KubeApi, ref: DeliveryRef) -> OperationFailed:
    """What to tell a person whose request about ``ref`` was answered NotFound: the CRD is
    not installed, the namespace does not exist, or the Delivery is not there."""
    if not installed(kube):
        return _not_installed()
    return DeliveryNotFound(
        f'Delivery "{ref.name}" not found in namespace "{ref.namespace}"',
        hint=f"`hakobu delivery list -n {ref.namespace}` lists its Deliveries; -n picks the "
        "namespace",
    )


def _not_installed() -> NotInstalled:
    return NotInstalled(
        f"the API server does not serve {PLURAL}.{GROUP}: the Delivery CRD is not installed",
        hint=INSTALL_HINT,
    )


@dataclass(frozen=True)
class Summary:
    """One Delivery as ``hakobu delivery list`` shows it; absent status fields are ""."""

    namespace: str
    name: str
    environment: str
    revision: str
    sync: str
    health: str
    suspended: bool
    # The Ready condition's status (True, False, Unknown), "" before the controller wrote one.
    ready: str
    # Why it is stuck: the Stalled condition's message while it holds, else why it is not
    # Ready.
    message: str
    created: str


def summary(obj: Object) -> Summary:
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or [] if isinstance(c, dict)}
    ready = conditions.get("Ready") or {}
    stalled = conditions.get("Stalled") or {}
    if stalled.get("status") == "True":
        message = str(stalled.get("message", ""))
    elif ready.get("status") == "False":
        message = str(ready.get("message", ""))
    else:
        message = ""
    return Summary(
        namespace=str(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        environment=str(spec.get("environment", "")),
        revision=str(status.get("revision", "")),
        sync=str(status.get("sync", "")),
        health=str(status.get("health", "")),
        suspended=spec.get("suspend") is True,
        ready=str(ready.get("status", "")),
        message=message,
        created=str(metadata.get("creationTimestamp", "")),
    )
