"""Roll exactly the workloads whose configuration changed.

Pods read ConfigMaps and Secrets when they start, so a changed value reaches them only when
they are replaced. At render time every workload that references a ConfigMap or Secret
rendered in the same environment (through env, envFrom, volumes or projected volumes) gets
a pod-template annotation with a checksum of what it references: the ConfigMap's data, the
Secret's data, or a SealedSecret's ciphertext (sealing is not deterministic, so a changed
secret always has new ciphertext, and an unchanged one keeps its own). A change rolls
exactly its consumers; a workload whose references did not change keeps its annotation and
is not restarted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from hakobu.model.objects import Object

CHECKSUM_ANNOTATION = "hakobu.dev/config-checksum"

# "ConfigMap/namespace/name" or "Secret/namespace/name": what a pod refers to by name.
ConfigRef = str

_WORKLOAD_TEMPLATE_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "Deployment"): ("spec", "template"),
    ("apps", "StatefulSet"): ("spec", "template"),
    ("apps", "DaemonSet"): ("spec", "template"),
    ("apps", "ReplicaSet"): ("spec", "template"),
    ("batch", "Job"): ("spec", "template"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template"),
}


def config_digest(obj: Object) -> tuple[ConfigRef, str] | None:
    """The reference a pod would use for ``obj`` and a digest of its content, if it is
    configuration (a ConfigMap, a Secret, or a SealedSecret standing for one)."""
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    meta = obj.get("metadata") or {}
    namespace, name = meta.get("namespace", ""), meta.get("name", "")
    if api_version == "v1" and kind == "ConfigMap":
        content: Any = {"data": obj.get("data"), "binaryData": obj.get("binaryData")}
        return f"ConfigMap/{namespace}/{name}", _digest(content)
    if api_version == "v1" and kind == "Secret":
        content = {"data": obj.get("data"), "stringData": obj.get("stringData")}
        return f"Secret/{namespace}/{name}", _digest({**content, "type": obj.get("type")})
    if api_version.startswith("bitnami.com/") and kind == "SealedSecret":
        return f"Secret/{namespace}/{name}", _digest(obj.get("spec"))
    return None


def references(obj: Object) -> tuple[ConfigRef, ...]:
    """The ConfigMaps and Secrets a workload's pods read, sorted; empty for other kinds."""
    template = _template(obj)
    if template is None:
        return ()
    namespace = (obj.get("metadata") or {}).get("namespace", "")
    spec = template.get("spec") or {}
    found = {f"{kind}/{namespace}/{name}" for kind, name in _pod_references(spec) if name}
    return tuple(sorted(found))


def checksum(refs: tuple[ConfigRef, ...], digests: Mapping[ConfigRef, str]) -> str | None:
    """A digest over the referenced objects rendered in the environment; None when the
    workload references none of them (then it gets no annotation)."""
    known = [(ref, digests[ref]) for ref in refs if ref in digests]
    return _digest(known) if known else None


def with_checksum(obj: Object, value: str) -> Object:
    """A copy of the workload with the checksum annotation on its pod template."""
    path = _WORKLOAD_TEMPLATE_PATHS[_group_kind(obj)]
    copied: Object = json.loads(json.dumps(obj))
    node = copied
    for key in path:
        node = node.setdefault(key, {})
    metadata = node.setdefault("metadata", {})
    annotations = metadata.get("annotations") or {}
    metadata["annotations"] = {**annotations, CHECKSUM_ANNOTATION: value}
    return copied


def _template(obj: Object) -> dict[str, Any] | None:
    path = _WORKLOAD_TEMPLATE_PATHS.get(_group_kind(obj))
    if path is None:
        return None
    node: Any = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _group_kind(obj: Object) -> tuple[str, str]:
    return str(obj.get("apiVersion", "")).rpartition("/")[0], str(obj.get("kind", ""))


def _pod_references(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        for env in container.get("env") or []:
            yield from _named(env.get("valueFrom") or {}, _KEY_REFS)
        for env_from in container.get("envFrom") or []:
            yield from _named(env_from, _ENV_FROM_REFS)
    for volume in spec.get("volumes") or []:
        yield from _named(volume, _VOLUME_REFS)
        for source in (volume.get("projected") or {}).get("sources") or []:
            yield from _named(source, _PROJECTED_REFS)


# field holding the reference → (kind referred to, field naming it)
_KEY_REFS = {"configMapKeyRef": ("ConfigMap", "name"), "secretKeyRef": ("Secret", "name")}
_ENV_FROM_REFS = {"configMapRef": ("ConfigMap", "name"), "secretRef": ("Secret", "name")}
_VOLUME_REFS = {"configMap": ("ConfigMap", "name"), "secret": ("Secret", "secretName")}
_PROJECTED_REFS = {"configMap": ("ConfigMap", "name"), "secret": ("Secret", "name")}


def _named(
    holder: dict[str, Any], fields: Mapping[str, tuple[str, str]]
) -> Iterator[tuple[str, str]]:
    for field, (kind, name_field) in fields.items():
        if isinstance(holder.get(field), dict):
            yield kind, str(holder[field].get(name_field, ""))


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
