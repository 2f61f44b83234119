"""Map apiVersion + kind to the REST resource that serves it, from aggregated discovery.

Aggregated discovery (apidiscovery.k8s.io/v2, GA since Kubernetes 1.30) returns every group,
version and resource in two requests (``/api`` and ``/apis``) instead of one per group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AGGREGATED_DISCOVERY_ACCEPT = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
)


@dataclass(frozen=True)
class ApiResource:
    """One REST resource: where a kind lives and whether it is namespaced."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def collection_path(self, namespace: str | None) -> str:
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{prefix}/namespaces/{namespace}/{self.plural}"
        return f"{prefix}/{self.plural}"

    def object_path(self, name: str, namespace: str | None) -> str:
        return f"{self.collection_path(namespace)}/{name}"


def parse_aggregated(document: dict[str, Any]) -> dict[tuple[str, str], ApiResource]:
    """Index an ``APIGroupDiscoveryList`` by (apiVersion, kind)."""
    index: dict[tuple[str, str], ApiResource] = {}
    for group_entry in document.get("items") or []:
        group = (group_entry.get("metadata") or {}).get("name", "")
        for version_entry in group_entry.get("versions") or []:
            version = version_entry["version"]
            for resource in version_entry.get("resources") or []:
                kind = (resource.get("responseKind") or {}).get("kind")
                if not kind:
                    continue
                entry = ApiResource(
                    group=group,
                    version=version,
                    kind=kind,
                    plural=resource["resource"],
                    namespaced=resource.get("scope") == "Namespaced",
                )
                index[(entry.api_version, kind)] = entry
    return index
