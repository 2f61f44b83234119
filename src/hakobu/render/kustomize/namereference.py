"""Name references: after renames, point every reference at the new name.

A prefix, a suffix, a content hash or a namespace changes an object's name or namespace;
the fields that refer to it (a Deployment's ``envFrom[].configMapRef.name``, a RoleBinding's
``roleRef.name`` and ``subjects``, …) are rewritten to follow. Which fields refer to which
kinds is kustomize's built-in name-reference table (``_TABLE``, kustomize's own
``namereference.go`` verbatim, including its quirks). The choice of the referred object
among candidates follows kustomize's ``nameref`` filter step by step: earlier name and kind
must match, a RoleBinding's ``roleRef`` kind must match, the namespace must be the
referrer's (ServiceAccounts and cluster-scoped objects excepted), and ties are broken by
the prefixes and suffixes both were given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.render.kustomize.fieldspecs import (
    FieldSpec,
    apply_fieldspec,
    load_table,
    parse_fieldspecs,
)
from hakobu.render.kustomize.ordering import kind_rank, stable_gvk_string
from hakobu.render.kustomize.resource import (
    REF_BY,
    Gvk,
    ResId,
    annotations_of,
    cur_id,
    gvk_of,
    name_of,
    namespace_of,
    org_id,
    prefixes,
    prev_ids,
    set_annotation,
    suffixes,
)


@dataclass(frozen=True)
class BackReference:
    """The kind that is referred to, and the fields (of other kinds) that refer to it."""

    target: Gvk
    referrers: tuple[FieldSpec, ...]


@cache
def back_references() -> tuple[BackReference, ...]:
    data = load_table(_TABLE)["nameReference"]
    refs = [
        BackReference(
            Gvk(str(e.get("group") or ""), str(e.get("version") or ""), str(e["kind"])),
            _dedupe(parse_fieldspecs(e["fieldSpecs"], "built-in name references")),
        )
        for e in data
    ]
    return sort_back_references(refs)


def sort_back_references(refs: Sequence[BackReference]) -> tuple[BackReference, ...]:
    """kustomize sorts its configuration by kind (its legacy kind order, then group/version)."""
    return tuple(sorted(refs, key=lambda r: _gvk_order(r.target)))


def _dedupe(specs: tuple[FieldSpec, ...]) -> tuple[FieldSpec, ...]:
    kept: list[FieldSpec] = []
    for spec in specs:
        if not any(k.path == spec.path and k.gvk.selected_by(spec.gvk) for k in kept):
            kept.append(spec)
    return tuple(kept)


def _gvk_order(gvk: Gvk) -> tuple[int, str]:
    return kind_rank(gvk.kind), stable_gvk_string(gvk)


def fix_name_references(resources: Sequence[Object], references: Sequence[BackReference]) -> None:
    """Rewrite every reference to a renamed or moved object, in place.

    ``references`` are the build's name references: kustomize's table, extended by
    ``configurations:`` and ``crds:``.
    """
    index = _Index(resources)
    # Few kinds, many resources: each referrer spec is matched against the kinds.
    by_gvk: dict[Gvk, list[int]] = {}
    for position, original in enumerate(index.original):
        by_gvk.setdefault(original.gvk, []).append(position)
    plan: dict[int, list[tuple[FieldSpec, Gvk]]] = {}
    for reference in references:
        for spec in reference.referrers:
            for gvk, positions in by_gvk.items():
                if gvk.selected_by(spec.gvk):
                    for position in positions:
                        plan.setdefault(position, []).append((spec, reference.target))
    for position in sorted(plan):
        referrer = resources[position]
        visible = index.visible_from(position)
        for spec, target in plan[position]:
            _Fixer(referrer, spec, target, index, visible).run()


class _Index:
    """Ids of every resource, computed once: no name or namespace changes meanwhile."""

    def __init__(self, resources: Sequence[Object]) -> None:
        self.resources = resources
        self.original = [org_id(obj) for obj in resources]
        self.current = [cur_id(obj) for obj in resources]
        self.previous = [prev_ids(obj) for obj in resources]
        self.by_previous_name: dict[str, list[int]] = {}
        for position, ids in enumerate(self.previous):
            for name in dict.fromkeys(i.name for i in ids):
                self.by_previous_name.setdefault(name, []).append(position)

    def visible_from(self, position: int) -> Callable[[int], bool]:
        """Which resources the referrer at ``position`` may refer to, by namespace."""
        referrer = self.current[position]
        if referrer.gvk.cluster_scoped:
            return lambda _: True
        bindings = _role_binding_namespaces(self.resources[position])
        own = referrer.effective_namespace

        def visible(candidate: int) -> bool:
            rid = self.current[candidate]
            return (
                rid.gvk.cluster_scoped
                or rid.effective_namespace == own
                or rid.namespace in bindings
            )

        return visible

    def in_namespace(
        self, candidates: list[int], namespace: str, visible: Callable[[int], bool]
    ) -> list[int]:
        """The choice by a reference's own ``namespace``: original namespaces first."""
        original_known = any(
            visible(i)
            and not self.original[i].gvk.cluster_scoped
            and self.original[i].effective_namespace == namespace
            for i in range(len(self.resources))
        )
        ids = self.original if original_known else self.current
        return [
            i
            for i in candidates
            if not ids[i].gvk.cluster_scoped and ids[i].effective_namespace == namespace
        ]


def _role_binding_namespaces(obj: Object) -> set[str]:
    if obj.get("kind") != "RoleBinding" or not isinstance(obj.get("subjects"), list):
        return set()
    found = set()
    for subject in obj["subjects"]:
        if (
            isinstance(subject, dict)
            and "namespace" in subject
            and subject.get("kind") == "ServiceAccount"
        ):
            namespace = subject["namespace"]
            if not isinstance(namespace, str):
                raise InvalidInput(
                    f"{cur_id(obj).describe()}: a ServiceAccount subject has no namespace"
                )
            found.add(namespace)
    return found


class _Fixer:
    def __init__(
        self,
        referrer: Object,
        spec: FieldSpec,
        target: Gvk,
        index: _Index,
        visible: Callable[[int], bool],
    ) -> None:
        self.referrer = referrer
        self.spec = FieldSpec(spec.path, gvk_of(referrer), create=False)
        self.target = target
        self.index = index
        self.visible = visible

    def _candidates(self, old: str) -> list[int]:
        return [i for i in self.index.by_previous_name.get(old, []) if self.visible(i)]

    def run(self) -> None:
        apply_fieldspec(self.referrer, self.spec, self._set)

    def _set(self, value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, dict):
            return self._set_mapping(value)
        if isinstance(value, list):
            for index, item in enumerate(value):
                if item is None:
                    continue
                if isinstance(item, dict):
                    value[index] = self._set_mapping(item)
                elif isinstance(item, list):
                    raise self._error(f"{item!r} is expected to be a string or a mapping")
                else:
                    value[index] = self._set_scalar(item)
            return value
        return self._set_scalar(value)

    def _set_scalar(self, value: Any) -> Any:
        old = _text(value)
        referral = self._select(self._candidates(old), same_namespace=False)
        if referral is None:
            return value
        self._record(referral)
        return value if name_of(referral) == old else name_of(referral)

    def _set_mapping(self, node: dict[str, Any]) -> dict[str, Any]:
        if "name" not in node:
            raise self._error("path config error; no 'name' field in node")
        old = _text(node["name"])
        candidates = self._candidates(old)
        if "namespace" in node:
            candidates = self.index.in_namespace(candidates, _text(node["namespace"]), self.visible)
        referral = self._select(candidates, same_namespace=True)
        if referral is None:
            return node
        self._record(referral)
        namespace = namespace_of(referral)
        if name_of(referral) == old and not namespace:
            return node
        node["name"] = name_of(referral)
        if namespace:
            node["namespace"] = namespace
        return node

    def _record(self, referral: Object) -> None:
        current = annotations_of(referral).get(REF_BY)
        ref = str(cur_id(self.referrer))
        set_annotation(referral, REF_BY, f"{current},{ref}" if current else ref)

    def _select(self, positions: list[int], *, same_namespace: bool) -> Object | None:
        previous = self.index.previous
        chosen = [i for i in positions if any(p.gvk.selected_by(self.target) for p in previous[i])]
        role = self._role_ref_gvk()
        if role is not None:
            chosen = [i for i in chosen if any(p.gvk.selected_by(role) for p in previous[i])]
        referrer_id = cur_id(self.referrer)
        objects = [self.index.resources[i] for i in chosen]
        if not referrer_id.gvk.cluster_scoped:
            objects = [c for c in objects if _visible_from(referrer_id, c)]
        if len(objects) == 1:
            return objects[0]
        objects = [c for c in objects if _affixes_equal(c, self.referrer, allow_empty=True)]
        if len(objects) > 1:
            objects = [c for c in objects if _affixes_equal(c, self.referrer, allow_empty=False)]
        if len(objects) == 1:
            return objects[0]
        if not objects:
            return None
        first = objects[0]
        if all(
            name_of(c) == name_of(first)
            and (not same_namespace or namespace_of(c) == namespace_of(first))
            for c in objects
        ):
            return first
        ids = ", ".join(cur_id(c).describe() for c in objects)
        raise self._error(f"found multiple possible referrals: {ids}")

    def _role_ref_gvk(self) -> Gvk | None:
        if not self.spec.path.endswith("roleRef/name"):
            return None
        role_ref = self.referrer.get("roleRef")
        if not isinstance(role_ref, dict) or role_ref.get("apiGroup") is None:
            return None
        if role_ref.get("kind") is None:
            return None
        return Gvk(group=_text(role_ref["apiGroup"]), kind=_text(role_ref["kind"]))

    def _error(self, message: str) -> InvalidInput:
        return InvalidInput(
            f"updating name reference in '{self.spec.path}' field of "
            f"{cur_id(self.referrer).describe()}: {message}"
        )


def _visible_from(referrer: ResId, candidate: Object) -> bool:
    rid = cur_id(candidate)
    if rid.gvk.cluster_scoped or candidate.get("kind") == "ServiceAccount":
        return True
    return rid.effective_namespace == referrer.effective_namespace


def _affixes_equal(a: Object, b: Object, *, allow_empty: bool) -> bool:
    pa, pb, sa, sb = prefixes(a), prefixes(b), suffixes(a), suffixes(b)
    if allow_empty:
        return (not pa or not pb or _same_ending(pa, pb)) and (
            not sa or not sb or _same_ending(sa, sb)
        )
    return _same_ending(pa, pb) and _same_ending(sa, sb)


def _same_ending(shortest: list[str], longest: list[str]) -> bool:
    if len(shortest) > len(longest):
        shortest, longest = longest, shortest
    if not shortest:
        return len(longest) == 0
    return longest[len(longest) - len(shortest) :] == shortest


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_TABLE = r"""
nameReference:
- kind: Deployment
  fieldSpecs:
  - path: spec/scaleTargetRef/name
    kind: HorizontalPodAutoscaler

- kind: ReplicationController
  fieldSpecs:
  - path: spec/scaleTargetRef/name
    kind: HorizontalPodAutoscaler

- kind: ReplicaSet
  fieldSpecs:
  - path: spec/scaleTargetRef/name
    kind: HorizontalPodAutoscaler

- kind: StatefulSet
  fieldSpecs:
  - path: spec/scaleTargetRef/name
    kind: HorizontalPodAutoscaler

- kind: ConfigMap
  version: v1
  fieldSpecs:
  - path: spec/volumes/configMap/name
    version: v1
    kind: Pod
  - path: spec/containers/env/valueFrom/configMapKeyRef/name
    version: v1
    kind: Pod
  - path: spec/initContainers/env/valueFrom/configMapKeyRef/name
    version: v1
    kind: Pod
  - path: spec/containers/envFrom/configMapRef/name
    version: v1
    kind: Pod
  - path: spec/initContainers/envFrom/configMapRef/name
    version: v1
    kind: Pod
  - path: spec/volumes/projected/sources/configMap/name
    version: v1
    kind: Pod
  - path: template/spec/volumes/configMap/name
    kind: PodTemplate
  - path: template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: PodTemplate
  - path: template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: PodTemplate
  - path: template/spec/containers/envFrom/configMapRef/name
    kind: PodTemplate
  - path: template/spec/initContainers/envFrom/configMapRef/name
    kind: PodTemplate
  - path: template/spec/volumes/projected/sources/configMap/name
    kind: PodTemplate
  - path: spec/template/spec/volumes/configMap/name
    kind: Deployment
  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: Deployment
  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: Deployment
  - path: spec/template/spec/containers/envFrom/configMapRef/name
    kind: Deployment
  - path: spec/template/spec/initContainers/envFrom/configMapRef/name
    kind: Deployment
  - path: spec/template/spec/volumes/projected/sources/configMap/name
    kind: Deployment
  - path: spec/template/spec/volumes/configMap/name
    kind: ReplicaSet
  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: ReplicaSet
  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: ReplicaSet
  - path: spec/template/spec/containers/envFrom/configMapRef/name
    kind: ReplicaSet
  - path: spec/template/spec/initContainers/envFrom/configMapRef/name
    kind: ReplicaSet
  - path: spec/template/spec/volumes/projected/sources/configMap/name
    kind: ReplicaSet
  - path: spec/template/spec/volumes/configMap/name
    kind: DaemonSet
  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: DaemonSet
  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: DaemonSet
  - path: spec/template/spec/containers/envFrom/configMapRef/name
    kind: DaemonSet
  - path: spec/template/spec/initContainers/envFrom/configMapRef/name
    kind: DaemonSet
  - path: spec/template/spec/volumes/projected/sources/configMap/name
    kind: DaemonSet
  - path: spec/template/spec/volumes/configMap/name
    kind: StatefulSet
  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: StatefulSet
  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: StatefulSet
  - path: spec/template/spec/containers/envFrom/configMapRef/name
    kind: StatefulSet
  - path: spec/template/spec/initContainers/envFrom/configMapRef/name
    kind: StatefulSet
  - path: spec/template/spec/volumes/projected/sources/configMap/name
    kind: StatefulSet
  - path: spec/template/spec/volumes/configMap/name
    kind: Job
  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: Job
  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: Job
  - path: spec/template/spec/containers/envFrom/configMapRef/name
    kind: Job
  - path: spec/template/spec/initContainers/envFrom/configMapRef/name
    kind: Job
  - path: spec/template/spec/volumes/projected/sources/configMap/name
    kind: Job
  - path: spec/jobTemplate/spec/template/spec/volumes/configMap/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/volumes/projected/sources/configMap/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/containers/envFrom/configMapRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/initContainers/envFrom/configMapRef/name
    kind: CronJob
  - path: spec/configSource/configMap
    kind: Node
  - path: rules/resourceNames
    kind: Role
  - path: rules/resourceNames
    kind: ClusterRole
  - path: metadata/annotations/nginx.ingress.kubernetes.io\/fastcgi-params-configmap
    kind: Ingress

- kind: Secret
  version: v1
  fieldSpecs:
  - path: spec/volumes/secret/secretName
    version: v1
    kind: Pod
  - path: spec/containers/env/valueFrom/secretKeyRef/name
    version: v1
    kind: Pod
  - path: spec/initContainers/env/valueFrom/secretKeyRef/name
    version: v1
    kind: Pod
  - path: spec/containers/envFrom/secretRef/name
    version: v1
    kind: Pod
  - path: spec/initContainers/envFrom/secretRef/name
    version: v1
    kind: Pod
  - path: spec/imagePullSecrets/name
    version: v1
    kind: Pod
  - path: spec/volumes/projected/sources/secret/name
    version: v1
    kind: Pod
  - path: template/spec/volumes/secret/secretName
    kind: PodTemplate
  - path: template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: PodTemplate
  - path: template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: PodTemplate
  - path: template/spec/containers/envFrom/secretRef/name
    kind: PodTemplate
  - path: template/spec/initContainers/envFrom/secretRef/name
    kind: PodTemplate
  - path: template/spec/imagePullSecrets/name
    kind: PodTemplate
  - path: template/spec/volumes/projected/sources/secret/name
    kind: PodTemplate
  - path: spec/template/spec/volumes/secret/secretName
    kind: Deployment
  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: Deployment
  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: Deployment
  - path: spec/template/spec/containers/envFrom/secretRef/name
    kind: Deployment
  - path: spec/template/spec/initContainers/envFrom/secretRef/name
    kind: Deployment
  - path: spec/template/spec/imagePullSecrets/name
    kind: Deployment
  - path: spec/template/spec/volumes/projected/sources/secret/name
    kind: Deployment
  - path: spec/template/spec/volumes/secret/secretName
    kind: ReplicaSet
  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: ReplicaSet
  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: ReplicaSet
  - path: spec/template/spec/containers/envFrom/secretRef/name
    kind: ReplicaSet
  - path: spec/template/spec/initContainers/envFrom/secretRef/name
    kind: ReplicaSet
  - path: spec/template/spec/imagePullSecrets/name
    kind: ReplicaSet
  - path: spec/template/spec/volumes/projected/sources/secret/name
    kind: ReplicaSet
  - path: spec/template/spec/volumes/secret/secretName
    kind: DaemonSet
  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: DaemonSet
  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: DaemonSet
  - path: spec/template/spec/containers/envFrom/secretRef/name
    kind: DaemonSet
  - path: spec/template/spec/initContainers/envFrom/secretRef/name
    kind: DaemonSet
  - path: spec/template/spec/imagePullSecrets/name
    kind: DaemonSet
  - path: spec/template/spec/volumes/projected/sources/secret/name
    kind: DaemonSet
  - path: spec/template/spec/volumes/secret/secretName
    kind: StatefulSet
  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: StatefulSet
  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: StatefulSet
  - path: spec/template/spec/containers/envFrom/secretRef/name
    kind: StatefulSet
  - path: spec/template/spec/initContainers/envFrom/secretRef/name
    kind: StatefulSet
  - path: spec/template/spec/imagePullSecrets/name
    kind: StatefulSet
  - path: spec/template/spec/volumes/projected/sources/secret/name
    kind: StatefulSet
  - path: spec/template/spec/volumes/secret/secretName
    kind: Job
  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: Job
  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: Job
  - path: spec/template/spec/containers/envFrom/secretRef/name
    kind: Job
  - path: spec/template/spec/initContainers/envFrom/secretRef/name
    kind: Job
  - path: spec/template/spec/imagePullSecrets/name
    kind: Job
  - path: spec/template/spec/volumes/projected/sources/secret/name
    kind: Job
  - path: spec/jobTemplate/spec/template/spec/volumes/secret/secretName
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/volumes/projected/sources/secret/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/containers/envFrom/secretRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/initContainers/envFrom/secretRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/imagePullSecrets/name
    kind: CronJob
  - path: spec/tls/secretName
    kind: Ingress
  - path: metadata/annotations/ingress.kubernetes.io\/auth-secret
    kind: Ingress
  - path: metadata/annotations/nginx.ingress.kubernetes.io\/auth-secret
    kind: Ingress
  - path: metadata/annotations/nginx.ingress.kubernetes.io\/auth-tls-secret
    kind: Ingress
  - path: spec/tls/secretName
    kind: Ingress
  - path: imagePullSecrets/name
    kind: ServiceAccount
  - path: parameters/secretName
    kind: StorageClass
  - path: parameters/adminSecretName
    kind: StorageClass
  - path: parameters/userSecretName
    kind: StorageClass
  - path: parameters/secretRef
    kind: StorageClass
  - path: rules/resourceNames
    kind: Role
  - path: rules/resourceNames
    kind: ClusterRole
  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: Service
    group: serving.knative.dev
    version: v1
  - path: spec/azureFile/secretName
    kind: PersistentVolume

- kind: Service
  version: v1
  fieldSpecs:
  - path: spec/serviceName
    kind: StatefulSet
    group: apps
  - path: spec/rules/http/paths/backend/serviceName
    kind: Ingress
  - path: spec/backend/serviceName
    kind: Ingress
  - path: spec/rules/http/paths/backend/service/name
    kind: Ingress
  - path: spec/defaultBackend/service/name
    kind: Ingress
  - path: spec/service/name
    kind: APIService
    group: apiregistration.k8s.io
  - path: webhooks/clientConfig/service
    kind: ValidatingWebhookConfiguration
    group: admissionregistration.k8s.io
  - path: webhooks/clientConfig/service
    kind: MutatingWebhookConfiguration
    group: admissionregistration.k8s.io

- kind: Role
  group: rbac.authorization.k8s.io
  fieldSpecs:
  - path: roleRef/name
    kind: RoleBinding
    group: rbac.authorization.k8s.io

- kind: ClusterRole
  group: rbac.authorization.k8s.io
  fieldSpecs:
  - path: roleRef/name
    kind: RoleBinding
    group: rbac.authorization.k8s.io
  - path: roleRef/name
    kind: ClusterRoleBinding
    group: rbac.authorization.k8s.io

- kind: ServiceAccount
  version: v1
  fieldSpecs:
  - path: subjects
    kind: RoleBinding
    group: rbac.authorization.k8s.io
  - path: subjects
    kind: ClusterRoleBinding
    group: rbac.authorization.k8s.io
  - path: spec/serviceAccountName
    kind: Pod
  - path: spec/template/spec/serviceAccountName
    kind: StatefulSet
  - path: spec/template/spec/serviceAccountName
    kind: Deployment
  - path: spec/template/spec/serviceAccountName
    kind: ReplicationController
  - path: spec/jobTemplate/spec/template/spec/serviceAccountName
    kind: CronJob
  - path: spec/template/spec/serviceAccountName
    kind: Job
  - path: spec/template/spec/serviceAccountName
    kind: DaemonSet

- kind: PersistentVolumeClaim
  version: v1
  fieldSpecs:
  - path: spec/volumes/persistentVolumeClaim/claimName
    kind: Pod
  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName
    kind: StatefulSet
  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName
    kind: Deployment
  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName
    kind: ReplicationController
  - path: spec/jobTemplate/spec/template/spec/volumes/persistentVolumeClaim/claimName
    kind: CronJob
  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName
    kind: Job
  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName
    kind: DaemonSet

- kind: PersistentVolume
  version: v1
  fieldSpecs:
  - path: spec/volumeName
    kind: PersistentVolumeClaim
  - path: rules/resourceNames
    kind: ClusterRole

- kind: StorageClass
  version: v1
  group: storage.k8s.io
  fieldSpecs:
  - path: spec/storageClassName
    kind: PersistentVolume
  - path: spec/storageClassName
    kind: PersistentVolumeClaim
  - path: spec/volumeClaimTemplates/spec/storageClassName
    kind: StatefulSet

- kind: PriorityClass
  version: v1
  group: scheduling.k8s.io
  fieldSpecs:
  - path: spec/priorityClassName
    kind: Pod
  - path: spec/template/spec/priorityClassName
    kind: StatefulSet
  - path: spec/template/spec/priorityClassName
    kind: Deployment
  - path: spec/template/spec/priorityClassName
    kind: ReplicationController
  - path: spec/jobTemplate/spec/template/spec/priorityClassName
    kind: CronJob
  - path: spec/template/spec/priorityClassName
    kind: Job
  - path: spec/template/spec/priorityClassName
    kind: DaemonSet

- kind: IngressClass
  version: v1
  group: networking.k8s.io/v1
  fieldSpecs:
  - path: spec/ingressClassName
    kind: Ingress

- kind: ValidatingAdmissionPolicy
  group: admissionregistration.k8s.io
  fieldSpecs:
  - path: spec/policyName
    kind: ValidatingAdmissionPolicyBinding
    group: admissionregistration.k8s.io
"""
