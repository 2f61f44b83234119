"""A canary's share of traffic set on a router: a Gateway API HTTPRoute's weights, or an
ingress-nginx canary Ingress.

Both send the canary's share to ``<stableService>-canary``, a Service hakobu creates beside
the stable one: the stable Service's ports, and its selector plus the canary label, so it
selects the canary's pods only. It is owned by the app's Deployment, as the canary
Deployment is. The canary's pods carry the app's labels too, so while the canary takes
traffic the stable Service's selector also names the stable ReplicaSet's
``pod-template-hash`` (as Argo Rollouts pins it with its own hash label): the stable share
reaches the stable pods only. The pin goes when the canary's weight is 0 again.

    Gateway API   every rule of the HTTPRoute that sends to the stable Service gets the
                  canary Service beside it: stable ``100 - weight``, canary ``weight``
    nginx         ``<stableIngress>-canary``, a copy of the stable Ingress whose backends
                  are the canary Service, with ``nginx.ingress.kubernetes.io/canary: "true"``
                  and ``canary-weight``

The weights are applied on every pass of the rollout (an apply that changes nothing is a
no-op), so a sync that put the route back as git has it is corrected on the next pass.
Abort and promotion set the canary's weight to 0; the canary Service and Ingress stay at 0,
as Argo Rollouts leaves them, until the app's Deployment is deleted.

With a router the replicas no longer carry the split (``sides``): the canary runs its
weight's share, rounded up, and the stable side keeps every replica unless
``dynamicStableScale`` asks it to shrink as its traffic goes (Argo Rollouts' rule).
"""

from __future__ import annotations

import copy
from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import NotFound
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.canary import CANARY_LABEL, Canary
from hakobu.model.objects import Object
from hakobu.model.traffic import ROUTE_ANNOTATION, GatewayAPI, TrafficRouting
from hakobu.releases.canary.replicas import Split, split

FIELD_MANAGER = "hakobu-rollout-traffic"
HTTP_ROUTE_API = "gateway.networking.k8s.io/v1"
INGRESS_API = "networking.k8s.io/v1"
# The label the Deployment controller puts on each ReplicaSet's pods.
POD_TEMPLATE_HASH = "pod-template-hash"
_REVISION = "deployment.kubernetes.io/revision"
NGINX_CANARY = "nginx.ingress.kubernetes.io/canary"
NGINX_CANARY_WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"
# The class annotation older ingress-nginx installations select Ingresses by.
_INGRESS_CLASS = "kubernetes.io/ingress.class"


def sides(canary: Canary, replicas: int, weight: int) -> Split:
    """The replicas of each side at ``weight``: by replicas alone without a router."""
    shares = split(replicas, weight)
    if canary.traffic is None or canary.traffic.dynamic_stable_scale:
        return shares
    return Split(shares.canary, replicas)


def canary_service_name(stable_service: str) -> str:
    return f"{stable_service}-canary"


def stable_service_name(routing: TrafficRouting, deployment: str) -> str:
    return routing.stable_service or deployment


def route(kube: KubeApi, stable: Object, canary: Canary, weight: int) -> None:
    """Send ``weight`` percent of the traffic to the canary through the declared router;
    nothing without one."""
    routing = canary.traffic
    if routing is None:
        return
    meta = stable["metadata"]
    namespace = meta["namespace"]
    service = stable_service_name(routing, meta["name"])
    live_service = _get(kube, "v1", "Service", service, namespace)
    _ensure_canary_service(kube, stable, live_service)
    _pin_stable_pods(kube, stable, live_service, weight)
    if isinstance(routing.router, GatewayAPI):
        _weigh_http_route(kube, namespace, routing.router.http_route, service, weight)
    else:
        _weigh_ingress(kube, stable, routing.router.stable_ingress, service, weight)


def _ensure_canary_service(kube: KubeApi, stable: Object, service: Object) -> None:
    spec = service.get("spec") or {}
    ports = [
        {k: v for k, v in port.items() if k in ("name", "port", "targetPort", "protocol")}
        for port in spec.get("ports") or []
    ]
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": canary_service_name(service["metadata"]["name"]),
                "namespace": service["metadata"]["namespace"],
                "labels": {CANARY_LABEL: "true"},
                "ownerReferences": [_owner(stable)],
            },
            "spec": {"selector": {**_unpinned(service), CANARY_LABEL: "true"}, "ports": ports},
        },
        field_manager=FIELD_MANAGER,
        force=True,
    )


def _pin_stable_pods(kube: KubeApi, stable: Object, service: Object, weight: int) -> None:
    selector = _unpinned(service)
    if weight > 0:
        selector[POD_TEMPLATE_HASH] = _stable_pod_template_hash(kube, stable)
    # A Service's selector is an atomic map: applied whole, as git has it plus the pin.
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": service["metadata"]["name"],
                "namespace": service["metadata"]["namespace"],
                # A sync holds the pin while it is set, and takes the selector back after.
                "annotations": {ROUTE_ANNOTATION: str(weight)},
            },
            "spec": {"selector": selector},
        },
        field_manager=f"{FIELD_MANAGER}-pin",
        force=True,
    )


def _unpinned(service: Object) -> dict[str, str]:
    selector = (service.get("spec") or {}).get("selector") or {}
    return {k: v for k, v in selector.items() if k != POD_TEMPLATE_HASH}


def _stable_pod_template_hash(kube: KubeApi, stable: Object) -> str:
    """The hash of the ReplicaSet that runs the stable Deployment's current revision."""
    meta = stable["metadata"]
    revision = (meta.get("annotations") or {}).get(_REVISION)
    labels = (stable.get("spec") or {}).get("selector", {}).get("matchLabels") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    for replica_set in kube.list(
        "apps/v1", "ReplicaSet", meta["namespace"], label_selector=selector
    ).items:
        rs_meta = replica_set["metadata"]
        owned = any(o.get("uid") == meta["uid"] for o in rs_meta.get("ownerReferences") or [])
        current = (rs_meta.get("annotations") or {}).get(_REVISION) == revision
        pod_hash = (rs_meta.get("labels") or {}).get(POD_TEMPLATE_HASH)
        if owned and current and pod_hash:
            return str(pod_hash)
    raise OperationFailed(
        f"Deployment {meta['namespace']}/{meta['name']} has no ReplicaSet for its revision "
        f"{revision} yet, so its Service cannot be pinned to the stable pods",
        hint="the next pass of the rollout tries again",
    )


def _weigh_http_route(kube: KubeApi, namespace: str, name: str, service: str, weight: int) -> None:
    live = _get(kube, HTTP_ROUTE_API, "HTTPRoute", name, namespace)
    rules = copy.deepcopy((live.get("spec") or {}).get("rules") or [])
    canary = canary_service_name(service)
    routed = False
    for rule in rules:
        refs: list[dict[str, Any]] = rule.get("backendRefs") or []
        stable_refs = [ref for ref in refs if _names_service(ref, service)]
        if not stable_refs:
            continue
        routed = True
        kept = [ref for ref in refs if not _names_service(ref, canary)]
        for ref in stable_refs:
            ref["weight"] = 100 - weight
        canary_ref = {"group": "", "kind": "Service", "name": canary, "weight": weight}
        if "port" in stable_refs[0]:
            canary_ref["port"] = stable_refs[0]["port"]
        rule["backendRefs"] = [*kept, canary_ref]
    if not routed:
        raise InvalidInput(
            f"HTTPRoute {namespace}/{name}: no rule has a backendRef to Service {service!r}, "
            "so the canary's weight has nowhere to go",
            hint="send the route to the app's Service, or name it in rollout.canary.stableService",
        )
    # The rules are an atomic list: applied whole, as read with the weights changed.
    kube.apply(
        {
            "apiVersion": HTTP_ROUTE_API,
            "kind": "HTTPRoute",
            "metadata": {
                "name": name,
                "namespace": namespace,
                # A sync holds these weights while the canary has traffic, and takes the
                # rules back as git has them after.
                "annotations": {ROUTE_ANNOTATION: str(weight)},
            },
            "spec": {"rules": rules},
        },
        field_manager=FIELD_MANAGER,
        force=True,
    )


def _weigh_ingress(kube: KubeApi, stable: Object, name: str, service: str, weight: int) -> None:
    namespace = stable["metadata"]["namespace"]
    live = _get(kube, INGRESS_API, "Ingress", name, namespace)
    spec = copy.deepcopy(live.get("spec") or {})
    if not _redirect_backends(spec, service, canary_service_name(service)):
        raise InvalidInput(
            f"Ingress {namespace}/{name}: no backend sends to Service {service!r}, so the "
            "canary's weight has nowhere to go",
            hint="send the Ingress to the app's Service, or name it in "
            "rollout.canary.stableService",
        )
    annotations = {NGINX_CANARY: "true", NGINX_CANARY_WEIGHT: str(weight)}
    live_class = ((live.get("metadata") or {}).get("annotations") or {}).get(_INGRESS_CLASS)
    if live_class is not None:
        annotations[_INGRESS_CLASS] = live_class
    kube.apply(
        {
            "apiVersion": INGRESS_API,
            "kind": "Ingress",
            "metadata": {
                "name": f"{name}-canary",
                "namespace": namespace,
                "labels": {CANARY_LABEL: "true"},
                "annotations": annotations,
                "ownerReferences": [_owner(stable)],
            },
            "spec": spec,
        },
        field_manager=FIELD_MANAGER,
        force=True,
    )


def _redirect_backends(spec: dict[str, Any], service: str, canary: str) -> bool:
    """Point every backend of ``spec`` that names ``service`` at ``canary``; whether any did."""
    backends = [spec.get("defaultBackend") or {}]
    for rule in spec.get("rules") or []:
        backends += [
            path.get("backend") or {} for path in (rule.get("http") or {}).get("paths") or []
        ]
    found = False
    for backend in backends:
        target = backend.get("service") or {}
        if target.get("name") == service:
            target["name"] = canary
            found = True
    return found


def _names_service(ref: dict[str, Any], name: str) -> bool:
    return (
        ref.get("name") == name
        and ref.get("group", "") in ("", "core")
        and ref.get("kind", "Service") == "Service"
    )


def _owner(stable: Object) -> dict[str, Any]:
    meta = stable["metadata"]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"], "uid": meta["uid"]}


def _get(kube: KubeApi, api_version: str, kind: str, name: str, namespace: str) -> Object:
    try:
        return kube.get(api_version, kind, name, namespace)
    except NotFound:
        raise InvalidInput(
            f"the canary's traffic router needs {kind} {namespace}/{name}, which does not exist",
            hint="render and sync the app with it, or correct rollout.canary.trafficRouting",
        ) from None
