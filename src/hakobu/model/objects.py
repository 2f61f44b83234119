"""Kubernetes objects as plain data, and their identity."""

from __future__ import annotations

from typing import Any, NamedTuple

# A Kubernetes object exactly as YAML/JSON decodes it. Objects are open-ended (any kind,
# any field), so they stay plain dicts; typed views are made where a kind is interpreted.
Object = dict[str, Any]


class ObjectId(NamedTuple):
    """What makes an object unique in a cluster: group, kind, namespace, name.

    The version is not part of the identity: apps/v1 and apps/v1beta1 Deployments of the
    same name are the same object. A tuple, not a dataclass: a sync of thousands of objects
    makes, hashes and compares hundreds of thousands of them, and a tuple's are done in C.
    """

    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        return f"{kind}/{self.namespace}/{self.name}" if self.namespace else f"{kind}/{self.name}"


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def object_id(obj: Object) -> ObjectId:
    meta = obj.get("metadata") or {}
    return ObjectId(
        group_of(str(obj.get("apiVersion", ""))),
        str(obj.get("kind", "")),
        str(meta.get("namespace") or ""),
        str(meta.get("name", "")),
    )


def object_ref(obj: Object) -> str:
    """``Kind/namespace/name`` (or ``Kind/name`` for cluster-scoped objects), for messages."""
    meta: dict[str, Any] = obj.get("metadata") or {}
    namespace, name = meta.get("namespace"), meta.get("name", "?")
    kind = obj.get("kind", "?")
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"
