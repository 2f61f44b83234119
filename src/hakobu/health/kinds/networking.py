"""Services and Ingresses: an address must be published where one is expected."""

from __future__ import annotations

from hakobu.health.fields import Payload, mappings, text
from hakobu.health.status import Health, HealthStatus


def service(obj: Payload) -> Health:
    if text(obj, "spec", "type") != "LoadBalancer":
        return Health(HealthStatus.HEALTHY)
    return _load_balanced(obj, "Waiting for the load balancer to publish an address")


def ingress(obj: Payload) -> Health:
    return _load_balanced(obj, "Waiting for the ingress controller to publish an address")


def _load_balanced(obj: Payload, waiting: str) -> Health:
    addresses = [
        text(entry, "ip") or text(entry, "hostname")
        for entry in mappings(obj, "status", "loadBalancer", "ingress")
    ]
    published = [address for address in addresses if address]
    if not published:
        return Health(HealthStatus.PROGRESSING, waiting)
    return Health(HealthStatus.HEALTHY, f"published at {', '.join(published)}")
