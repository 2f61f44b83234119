"""kustomize's built-in transformers: namespace, name prefix/suffix, labels, annotations,
replicas. Each changes the resources of one kustomization in place, in the fields its
built-in field specs name, with kustomize's rules for what is created and what is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.render.kustomize.fieldspecs import (
    FieldSpec,
    apply_fieldspec,
    matches_gvk,
)
from hakobu.render.kustomize.hashing import name_hash
from hakobu.render.kustomize.resource import (
    NEEDS_HASH_SUFFIX,
    Gvk,
    ResId,
    add_prefix,
    add_suffix,
    annotations_of,
    cur_id,
    gvk_of,
    is_enabled,
    name_of,
    org_id,
    prev_ids,
    set_name,
    store_previous_id,
)

_HELM_GENERATED = "kustomize.config.k8s.io/helm-generated"
_ROLE_BINDINGS = ("RoleBinding", "ClusterRoleBinding")


# How a NamespaceTransformer treats (Cluster)RoleBinding subjects; the first is the default.
SUBJECT_MODES = ("defaultOnly", "allServiceAccounts", "none")


def set_namespace(
    resources: Sequence[Object],
    namespace: str,
    specs: Sequence[FieldSpec],
    *,
    unset_only: bool = False,
    subjects: str = SUBJECT_MODES[0],
) -> None:
    """Put every namespaced resource (and the fields ``specs`` name) into ``namespace``.

    ``unset_only`` leaves a namespace already set; ``subjects`` says which binding
    subjects get the namespace: those named ``default``, every ServiceAccount, or none.
    """
    if not namespace:
        return

    def setter(value: Any) -> Any:
        if unset_only and value not in (None, ""):
            return value
        return namespace

    seen: dict[Any, Object] = {}
    for obj in resources:
        if annotations_of(obj).get(_HELM_GENERATED) == "true":
            continue
        store_previous_id(obj)
        gvk = gvk_of(obj)
        if not gvk.cluster_scoped:
            apply_fieldspec(obj, FieldSpec("metadata/namespace", create=True), setter, "scalar")
        own_specs = [
            spec
            for spec in specs
            if spec.path != "metadata/namespace"
            and (obj.get("apiVersion") == "v1" or spec.path != "metadata/name")
        ]
        if gvk.kind in _ROLE_BINDINGS:
            own_specs = [s for s in own_specs if s.path != "subjects/namespace"]
            _role_binding_subjects(obj, subjects, setter)
        for spec in own_specs:
            apply_fieldspec(obj, spec, setter, "scalar")
        key = cur_id(obj).key
        if key in seen:
            raise InvalidInput(
                f"namespace transformation produces an id conflict: two resources become "
                f"{cur_id(obj).describe()}",
                hint="rename one of them",
            )
        seen[key] = obj


def _role_binding_subjects(obj: Object, mode: str, setter: Callable[[Any], Any]) -> None:
    subjects = obj.get("subjects")
    if not isinstance(subjects, list) or mode == "none":
        return
    for subject in subjects:
        if not isinstance(subject, dict):
            continue
        if mode == "allServiceAccounts":
            chosen = subject.get("kind") == "ServiceAccount"
        else:
            chosen = subject.get("name") == "default"
        if chosen:
            subject["namespace"] = setter(subject.get("namespace"))


_PREFIX_SKIP = (
    Gvk(kind="CustomResourceDefinition"),
    Gvk(group="apiregistration.k8s.io", kind="APIService"),
    Gvk(kind="Namespace"),
)


def add_name_prefix(resources: Sequence[Object], prefix: str, specs: Sequence[FieldSpec]) -> None:
    if prefix:
        _affix(resources, prefix, specs, is_prefix=True)


def add_name_suffix(resources: Sequence[Object], suffix: str, specs: Sequence[FieldSpec]) -> None:
    if suffix:
        _affix(resources, suffix, specs, is_prefix=False)


def _affix(
    resources: Sequence[Object], affix: str, specs: Sequence[FieldSpec], *, is_prefix: bool
) -> None:
    def setter(value: Any) -> Any:
        text = "" if value is None else str(value)
        return affix + text if is_prefix else text + affix

    for obj in resources:
        original = org_id(obj)
        if any(original.gvk.selected_by(skip) for skip in _PREFIX_SKIP):
            continue
        for spec in specs:
            if not original.gvk.selected_by(spec.gvk):
                continue
            if spec.path == "metadata/name":
                if is_prefix:
                    add_prefix(obj, affix)
                else:
                    add_suffix(obj, affix)
                store_previous_id(obj)
            apply_fieldspec(obj, spec, setter, "scalar")


def add_labels(
    resources: Sequence[Object], labels: Mapping[str, str], specs: Sequence[FieldSpec]
) -> None:
    if labels:
        _set_entries(resources, labels, specs)


def add_annotations(
    resources: Sequence[Object], annotations: Mapping[str, str], specs: Sequence[FieldSpec]
) -> None:
    if annotations:
        _set_entries(resources, annotations, specs)


def _set_entries(
    resources: Sequence[Object], entries: Mapping[str, str], specs: Sequence[FieldSpec]
) -> None:
    def setter(value: Any) -> Any:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise InvalidInput(f"expected a mapping to add {sorted(entries)} to, got {value!r}")
        for key in sorted(entries):
            value[key] = entries[key]
        return value

    for obj in resources:
        for spec in specs:
            apply_fieldspec(obj, spec, setter, "map")


def add_hash_suffixes(resources: Sequence[Object]) -> None:
    """kustomize's HashTransformer: generated names get their content hash appended."""
    for obj in resources:
        if is_enabled(obj, NEEDS_HASH_SUFFIX):
            suffix = name_hash(obj)
            store_previous_id(obj)
            set_name(obj, f"{name_of(obj)}-{suffix}")


class Replicas:
    """The ``replicas`` entries of one kustomization, applied to its resources.

    Setting a count changes no name, so the names every resource answers to (current and
    earlier ones) are indexed once for all entries instead of once per entry.
    """

    def __init__(self, resources: Sequence[Object], specs: Sequence[FieldSpec]) -> None:
        self.specs = specs
        self.by_name: dict[str, list[tuple[Object, list[ResId]]]] = {}
        for obj in resources:
            ids = [*prev_ids(obj), cur_id(obj)]
            for name in dict.fromkeys(rid.name for rid in ids):
                self.by_name.setdefault(name, []).append((obj, ids))

    def set(self, name: str, count: int) -> None:
        """One entry: the count of every workload of that name (any earlier name)."""
        candidates = self.by_name.get(name, [])
        found = False
        for spec in self.specs:
            for obj, ids in candidates:
                if not any(i.name == name and i.gvk.selected_by(spec.gvk) for i in ids):
                    continue
                found = True
                if matches_gvk(spec, obj):
                    apply_fieldspec(obj, spec, lambda _: count, "scalar")
        if not found:
            kinds = [str(spec.gvk) for spec in self.specs]
            raise InvalidInput(
                f"replicas: no resource named {name!r} of a kind that has replicas ({kinds})",
                hint="check the name in the replicas entry",
            )
