"""Traffic routers a canary steers, named as Argo Rollouts names them (``trafficRouting``).

::

    rollout:
      canary:
        stableService: web            # the Service the route sends to (default: the app's name)
        trafficRouting:
          plugins:
            argoproj-labs/gatewayAPI:
              httpRoute: web          # a Gateway API HTTPRoute the app renders
        # or
        trafficRouting:
          nginx:
            stableIngress: web        # an Ingress the app renders, served by ingress-nginx
        dynamicStableScale: false     # true: the stable side shrinks as traffic leaves it

With a router the canary's share of traffic is the route's weight, not its share of the
replicas: the canary runs ``ceil(replicas * weight / 100)`` and the stable version keeps
every replica unless ``dynamicStableScale`` is set (Argo's rule for routed canaries).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from hakobu.model.objects import Object
from hakobu.model.schemacheck import SchemaViolation, shown, suggest
from hakobu.model.source import FieldPath

GATEWAY_API_PLUGIN = "argoproj-labs/gatewayAPI"
# The canary weight a rollout last set, on the objects of git it changed to route traffic:
# the stable Service (its selector) and the HTTPRoute (its rules).
ROUTE_ANNOTATION = "hakobu.dev/canary-route"
_ROUTING_FIELDS = {
    ("v1", "Service"): "selector",
    ("gateway.networking.k8s.io", "HTTPRoute"): "rules",
}


@dataclass(frozen=True)
class GatewayAPI:
    """The rules of HTTPRoute ``http_route`` that send to the stable Service get the
    canary Service beside it, with the weights of each step."""

    http_route: str


@dataclass(frozen=True)
class Nginx:
    """A copy of Ingress ``stable_ingress`` sending to the canary Service, marked as
    ingress-nginx's canary with the weight of each step."""

    stable_ingress: str


Router = GatewayAPI | Nginx


@dataclass(frozen=True)
class TrafficRouting:
    router: Router
    # None: the Service named as the Deployment, which is what an app spec renders.
    stable_service: str | None = None
    dynamic_stable_scale: bool = False


def parse_traffic_routing(
    data: Any, path: FieldPath, stable_service: Any, dynamic_stable_scale: Any
) -> TrafficRouting:
    """The router declared by ``data`` (the mapping under ``trafficRouting`` at ``path``),
    with the canary's ``stableService`` and ``dynamicStableScale`` (its siblings)."""
    canary_path = path[:-1]
    if stable_service is not None and not _name(stable_service):
        raise SchemaViolation(
            (*canary_path, "stableService"), f"expected a Service name, got {shown(stable_service)}"
        )
    if not isinstance(dynamic_stable_scale, bool):
        raise SchemaViolation(
            (*canary_path, "dynamicStableScale"),
            f"expected true or false, got {shown(dynamic_stable_scale)}",
        )
    _mapping(data, path)
    _known(data, path, ("plugins", "nginx"))
    if len(data) != 1:
        raise SchemaViolation(
            path,
            "expected exactly one router: plugins (argoproj-labs/gatewayAPI) or nginx",
        )
    router: Router
    if "nginx" in data:
        where = (*path, "nginx")
        _mapping(data["nginx"], where)
        _known(data["nginx"], where, ("stableIngress",))
        router = Nginx(_required_name(data["nginx"], where, "stableIngress", "an Ingress"))
    else:
        where = (*path, "plugins")
        _mapping(data["plugins"], where)
        _known(data["plugins"], where, (GATEWAY_API_PLUGIN,))
        if GATEWAY_API_PLUGIN not in data["plugins"]:
            raise SchemaViolation(where, f"expected the {GATEWAY_API_PLUGIN} plugin")
        where = (*where, GATEWAY_API_PLUGIN)
        plugin = data["plugins"][GATEWAY_API_PLUGIN]
        _mapping(plugin, where)
        # Argo's plugin also takes a namespace; hakobu's route lives beside the app.
        _known(plugin, where, ("httpRoute",))
        router = GatewayAPI(_required_name(plugin, where, "httpRoute", "an HTTPRoute"))
    return TrafficRouting(router, stable_service, dynamic_stable_scale)


def routed(live: Object | None) -> bool:
    """Whether a canary's router has changed ``live`` (a sync takes its fields back)."""
    return ROUTE_ANNOTATION in (((live or {}).get("metadata") or {}).get("annotations") or {})


def holding_route(desired: Object, live: Object | None) -> Object:
    """What a sync applies for ``desired`` when a canary's router changed ``live``: while
    the canary takes traffic, the routing field (a Service's selector, an HTTPRoute's
    rules) as the rollout set it; once its weight is back to 0, ``desired`` as it is."""
    annotations = ((live or {}).get("metadata") or {}).get("annotations") or {}
    weight = annotations.get(ROUTE_ANNOTATION)
    api_version = str(desired.get("apiVersion", ""))
    group = api_version.rpartition("/")[0] or api_version
    key = _ROUTING_FIELDS.get((group, str(desired.get("kind"))))
    if live is None or weight in (None, "0") or key is None:
        return desired
    copied: Object = copy.deepcopy(desired)
    copied.setdefault("spec", {})[key] = copy.deepcopy((live.get("spec") or {}).get(key))
    return copied


def _required_name(data: dict[str, Any], path: FieldPath, key: str, what: str) -> str:
    value = data.get(key)
    if not _name(value):
        raise SchemaViolation((*path, key), f"expected the name of {what}, got {shown(value)}")
    return str(value)


def _name(value: Any) -> bool:
    # A DNS-1123 name, as every object the router names must have.
    return (
        isinstance(value, str)
        and 0 < len(value) <= 253
        and all(c.isdigit() or ("a" <= c <= "z") or c in "-." for c in value)
        and value[0].isalnum()
        and value[-1].isalnum()
    )


def _mapping(value: Any, path: FieldPath) -> None:
    if not isinstance(value, dict):
        raise SchemaViolation(path, f"expected a mapping, got {shown(value)}")


def _known(value: dict[str, Any], path: FieldPath, accepted: tuple[str, ...]) -> None:
    for key in value:
        if key not in accepted:
            raise SchemaViolation(
                (*path, key), f"unknown field {shown(key)}", suggest(str(key), [*accepted])
            )
