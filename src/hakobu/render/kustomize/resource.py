"""Resources as kustomize sees them: identity with version, and the build's own bookkeeping.

kustomize keeps what it needs to fix references after renames (previous names, namespaces
and kinds, the prefixes and suffixes applied, generator behaviour, whether a generated name
gets a content hash) in ``internal.config.kubernetes.io/*`` annotations on the objects
themselves, and strips them when the build ends. hakobu does the same, so that patches and
generators see exactly the objects kustomize's would, and so generators can mark what they
produce with plain annotations (``GENERATOR_BEHAVIOR``, ``NEEDS_HASH_SUFFIX``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from hakobu.model.objects import Object

_DOMAIN = "internal.config.kubernetes.io"
PREVIOUS_KINDS = f"{_DOMAIN}/previousKinds"
PREVIOUS_NAMES = f"{_DOMAIN}/previousNames"
PREVIOUS_NAMESPACES = f"{_DOMAIN}/previousNamespaces"
PREFIXES = f"{_DOMAIN}/prefixes"
SUFFIXES = f"{_DOMAIN}/suffixes"
ALLOW_NAME_CHANGE = f"{_DOMAIN}/allowNameChange"
ALLOW_KIND_CHANGE = f"{_DOMAIN}/allowKindChange"
REF_BY = f"{_DOMAIN}/refBy"
GENERATOR_BEHAVIOR = f"{_DOMAIN}/generatorBehavior"
NEEDS_HASH_SUFFIX = f"{_DOMAIN}/needsHashSuffix"
ENABLED = "enabled"

# Every annotation the build adds for itself; none of them reaches the output.
BUILD_ANNOTATIONS = (
    PREVIOUS_KINDS,
    PREVIOUS_NAMES,
    PREFIXES,
    SUFFIXES,
    PREVIOUS_NAMESPACES,
    ALLOW_NAME_CHANGE,
    ALLOW_KIND_CHANGE,
    REF_BY,
    GENERATOR_BEHAVIOR,
    NEEDS_HASH_SUFFIX,
    "config.kubernetes.io/path",
    "config.kubernetes.io/index",
    "internal.config.kubernetes.io/seqindent",
    "config.kubernetes.io/id",
    "internal.config.kubernetes.io/annotations-migration-resource-id",
    "internal.config.kubernetes.io/path",
    "internal.config.kubernetes.io/index",
    "internal.config.kubernetes.io/id",
    "kustomize.config.k8s.io/helm-generated",
)
LOCAL_CONFIG = "config.kubernetes.io/local-config"

DEFAULT_NAMESPACE = "default"
# kustomize's stand-in for "the namespace of a cluster-scoped object".
_NO_NAMESPACE = "_non_namespaceable_"

# Kinds the built-in OpenAPI schema of kustomize calls cluster-scoped (apiVersion, kind).
_CLUSTER_SCOPED = frozenset(
    {
        ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
        ("apiregistration.k8s.io/v1", "APIService"),
        ("apiregistration.k8s.io/v1beta1", "APIService"),
        ("certificates.k8s.io/v1", "CertificateSigningRequest"),
        ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
        ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration"),
        ("networking.k8s.io/v1", "IngressClass"),
        ("networking.k8s.io/v1beta1", "IngressClass"),
        ("node.k8s.io/v1", "RuntimeClass"),
        ("node.k8s.io/v1beta1", "RuntimeClass"),
        ("policy/v1beta1", "PodSecurityPolicy"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
        ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
        ("scheduling.k8s.io/v1", "PriorityClass"),
        ("scheduling.k8s.io/v1beta1", "PriorityClass"),
        ("storage.k8s.io/v1", "CSIDriver"),
        ("storage.k8s.io/v1", "CSINode"),
        ("storage.k8s.io/v1", "StorageClass"),
        ("storage.k8s.io/v1", "VolumeAttachment"),
        ("storage.k8s.io/v1beta1", "CSIDriver"),
        ("storage.k8s.io/v1beta1", "CSINode"),
        ("storage.k8s.io/v1beta1", "StorageClass"),
        ("storage.k8s.io/v1beta1", "VolumeAttachment"),
        ("v1", "ComponentStatus"),
        ("v1", "Namespace"),
        ("v1", "Node"),
        ("v1", "NodeProxyOptions"),
        ("v1", "PersistentVolume"),
    }
)


@dataclass(frozen=True)
class Gvk:
    """Group, version, kind; empty strings match anything when used as a selector."""

    group: str = ""
    version: str = ""
    kind: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    # Asked for every id compared or indexed; a Gvk never changes, so the answer is kept.
    @cached_property
    def cluster_scoped(self) -> bool:
        return (self.api_version, self.kind) in _CLUSTER_SCOPED

    def selected_by(self, selector: Gvk) -> bool:
        return (
            (not selector.group or selector.group == self.group)
            and (not selector.version or selector.version == self.version)
            and (not selector.kind or selector.kind == self.kind)
        )

    def __str__(self) -> str:
        return f"{self.kind or '[noKind]'}.{self.version or '[noVer]'}.{self.group or '[noGrp]'}"


def parse_api_version(api_version: str) -> tuple[str, str]:
    group, slash, version = api_version.partition("/")
    return (group, version) if slash else ("", api_version)


@dataclass(frozen=True)
class ResId:
    """kustomize's identity of a resource: unlike ``ObjectId`` it includes the version."""

    gvk: Gvk
    name: str
    namespace: str

    @property
    def effective_namespace(self) -> str:
        if self.gvk.cluster_scoped:
            return _NO_NAMESPACE
        return self.namespace or DEFAULT_NAMESPACE

    def same_as(self, other: ResId) -> bool:
        return (
            self.gvk == other.gvk
            and self.name == other.name
            and self.effective_namespace == other.effective_namespace
        )

    @property
    def key(self) -> tuple[Gvk, str, str]:
        """Equal for exactly the ids ``same_as`` considers the same."""
        return (self.gvk, self.name, self.effective_namespace)

    def __str__(self) -> str:
        return f"{self.gvk}|{self.name or '[noName]'}.{self.namespace or '[noNs]'}"

    def describe(self) -> str:
        """``Kind/namespace/name`` with the apiVersion, for messages."""
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.gvk.kind}/{where}{self.name} ({self.gvk.api_version})"


def metadata(obj: Object) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


def name_of(obj: Object) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def namespace_of(obj: Object) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


def gvk_of(obj: Object) -> Gvk:
    return _gvk(str(obj.get("apiVersion") or ""), str(obj.get("kind") or ""))


# A build asks for the kind of every object many times over, and few kinds exist.
@lru_cache(maxsize=1024)
def _gvk(api_version: str, kind: str) -> Gvk:
    group, version = parse_api_version(api_version)
    return Gvk(group, version, kind)


def cur_id(obj: Object) -> ResId:
    return ResId(gvk_of(obj), name_of(obj), namespace_of(obj))


def annotations_of(obj: Object) -> dict[str, str]:
    """The annotations as kustomize reads them: every value a string."""
    raw = (obj.get("metadata") or {}).get("annotations")
    if not isinstance(raw, dict):
        return {}
    return {str(k): _as_string(v) for k, v in raw.items()}


def _annotation(obj: Object, key: str) -> str | None:
    """One annotation as ``annotations_of`` would give it, without converting them all."""
    raw = (obj.get("metadata") or {}).get("annotations")
    if not isinstance(raw, dict) or key not in raw:
        return None
    return _as_string(raw[key])


def _as_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def set_annotations(obj: Object, annotations: dict[str, str]) -> None:
    """Replace all annotations (kustomize's SetAnnotations: empty removes the field)."""
    meta = metadata(obj)
    meta.pop("annotations", None)
    if annotations:
        meta["annotations"] = {k: annotations[k] for k in sorted(annotations)}


def set_annotation(obj: Object, key: str, value: str) -> None:
    meta = metadata(obj)
    current = meta.get("annotations")
    if not isinstance(current, dict):
        current = {}
        meta["annotations"] = current
    current[key] = value


def _csv(obj: Object, key: str) -> list[str]:
    value = _annotation(obj, key)
    return [] if value is None else value.split(",")


def _append_csv(obj: Object, key: str, value: str) -> None:
    if value:
        set_annotation(obj, key, ",".join([*_csv(obj, key), value]))


def prefixes(obj: Object) -> list[str]:
    return _csv(obj, PREFIXES)


def suffixes(obj: Object) -> list[str]:
    return _csv(obj, SUFFIXES)


def add_prefix(obj: Object, prefix: str) -> None:
    _append_csv(obj, PREFIXES, prefix)


def add_suffix(obj: Object, suffix: str) -> None:
    _append_csv(obj, SUFFIXES, suffix)


def store_previous_id(obj: Object) -> None:
    """Remember the current name, namespace and kind before changing one of them."""
    rid = cur_id(obj)
    effective = rid.effective_namespace
    _append_csv(obj, PREVIOUS_NAMES, rid.name)
    _append_csv(obj, PREVIOUS_NAMESPACES, effective)
    _append_csv(obj, PREVIOUS_KINDS, rid.gvk.kind)


def prev_ids(obj: Object) -> list[ResId]:
    names = _csv(obj, PREVIOUS_NAMES)
    if not names:
        return []
    namespaces = _csv(obj, PREVIOUS_NAMESPACES)
    kinds = _csv(obj, PREVIOUS_KINDS)
    gvk = gvk_of(obj)
    return [
        ResId(Gvk(gvk.group, gvk.version, kind), name, namespace)
        for name, namespace, kind in zip(names, namespaces, kinds, strict=False)
    ]


def org_id(obj: Object) -> ResId:
    """The id the resource had when it was loaded or generated."""
    previous = prev_ids(obj)
    return previous[0] if previous else cur_id(obj)


def all_ids(obj: Object) -> list[ResId]:
    return [*prev_ids(obj), cur_id(obj)]


def is_enabled(obj: Object, key: str) -> bool:
    return _annotation(obj, key) == ENABLED


def behavior(obj: Object) -> str:
    return _annotation(obj, GENERATOR_BEHAVIOR) or "create"


def remove_build_annotations(obj: Object) -> None:
    annotations = annotations_of(obj)
    if not annotations:
        return
    for key in BUILD_ANNOTATIONS:
        annotations.pop(key, None)
    set_annotations(obj, annotations)


def set_name(obj: Object, name: str) -> None:
    metadata(obj)["name"] = name


def set_namespace(obj: Object, namespace: str) -> None:
    meta = metadata(obj)
    if namespace:
        meta["namespace"] = namespace
    else:
        meta.pop("namespace", None)
