"""A canary's traffic router checked against what its app renders.

The router names objects the app must render beside its Deployment: the stable Service,
and the HTTPRoute with a rule sending to it, or the Ingress with a backend sending to it.
A name that misses is an error at render time, naming the field, rather than a rollout
that finds nothing to weigh once it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hakobu.errors import InvalidInput
from hakobu.model.canary import Canary
from hakobu.model.objects import Object
from hakobu.model.traffic import GATEWAY_API_PLUGIN, GatewayAPI

_GATEWAY_GROUP = "gateway.networking.k8s.io"


def check_router(where: str, deployment: Object, canary: Canary, objects: Sequence[Object]) -> None:
    """``InvalidInput`` prefixed with ``where`` (the declaration's object and field) when
    the router names a Service, HTTPRoute or Ingress the app does not render as needed."""
    routing = canary.traffic
    if routing is None:
        return
    meta = deployment.get("metadata") or {}
    namespace = meta.get("namespace")
    service = routing.stable_service or str(meta.get("name"))
    service_field = "canary.stableService" if routing.stable_service else "canary"
    if _find(objects, "", "Service", service, namespace) is None:
        raise InvalidInput(
            f"{where}.{service_field}: the app renders no Service {service!r} for the route "
            "to send the stable version's traffic to",
            hint="render that Service, or name the app's Service in stableService",
        )
    if isinstance(routing.router, GatewayAPI):
        name = routing.router.http_route
        field = f"canary.trafficRouting.plugins.{GATEWAY_API_PLUGIN}.httpRoute"
        route = _find(objects, _GATEWAY_GROUP, "HTTPRoute", name, namespace)
        sends = route is not None and any(
            _is_service_ref(ref, service)
            for rule in (route.get("spec") or {}).get("rules") or []
            for ref in rule.get("backendRefs") or []
        )
        what = "HTTPRoute"
    else:
        name = routing.router.stable_ingress
        field = "canary.trafficRouting.nginx.stableIngress"
        route = _find(objects, "networking.k8s.io", "Ingress", name, namespace)
        sends = route is not None and service in _ingress_services(route)
        what = "Ingress"
    if route is None:
        raise InvalidInput(
            f"{where}.{field}: the app renders no {what} {name!r}",
            hint=f"render the {what} with the app, or correct the name",
        )
    if not sends:
        raise InvalidInput(
            f"{where}.{field}: {what} {name!r} sends no traffic to Service {service!r}, so "
            "the canary's weight would have nowhere to go",
            hint=f"send the {what} to {service!r}, or name its Service in stableService",
        )


def _find(
    objects: Sequence[Object], group: str, kind: str, name: str, namespace: Any
) -> Object | None:
    for obj in objects:
        meta = obj.get("metadata") or {}
        if (
            str(obj.get("apiVersion", "")).rpartition("/")[0] == group
            and obj.get("kind") == kind
            and meta.get("name") == name
            and meta.get("namespace") in (None, namespace)
        ):
            return obj
    return None


def _is_service_ref(ref: Any, service: str) -> bool:
    return (
        isinstance(ref, dict)
        and ref.get("name") == service
        and ref.get("group", "") in ("", "core")
        and ref.get("kind", "Service") == "Service"
    )


def _ingress_services(ingress: Object) -> set[str]:
    spec = ingress.get("spec") or {}
    backends = [spec.get("defaultBackend") or {}]
    for rule in spec.get("rules") or []:
        backends += [p.get("backend") or {} for p in (rule.get("http") or {}).get("paths") or []]
    return {str((b.get("service") or {}).get("name")) for b in backends if b.get("service")}
