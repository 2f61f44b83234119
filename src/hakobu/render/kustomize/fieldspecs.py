"""Field specs: which field of which kinds a transformer touches.

A field spec is a ``/``-separated path (``\\/`` escapes a slash inside a key; ``[]`` marks a
list) optionally limited to a group, version and kind, and says whether the field is created
when missing. The built-in specs below are kustomize's own (its ``builtinpluginconsts``),
transcribed entry for entry so both tools touch exactly the same fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Literal

import yaml

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.render.kustomize.resource import Gvk, cur_id, gvk_of

# What a missing field is created as: a mapping (labels) or a scalar (a name).
CreateKind = Literal["map", "scalar"] | None
Setter = Callable[[Any], Any]


_ANY_GVK = Gvk()


@dataclass(frozen=True)
class FieldSpec:
    path: str
    gvk: Gvk = _ANY_GVK
    create: bool = False

    @property
    def parts(self) -> tuple[str, ...]:
        return split_path(self.path)


# Every transformer splits the same few paths once per resource.
@lru_cache(maxsize=1024)
def split_path(path: str) -> tuple[str, ...]:
    pieces = path.split("/")
    if len(pieces) > 1 and pieces[0] == "":
        pieces = pieces[1:]
    result = [pieces[0]]
    for piece in pieces[1:]:
        if result[-1].endswith("\\"):
            result[-1] = result[-1][:-1] + "/" + piece
        else:
            result.append(piece)
    return tuple(result)


def parse_fieldspecs(items: Any, where: str) -> tuple[FieldSpec, ...]:
    """Field specs from their YAML form (``path``, ``group``, ``version``, ``kind``, ``create``)."""
    if items is None:
        return ()
    if not isinstance(items, list):
        raise InvalidInput(f"{where}: expected a list of field specs")
    specs = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise InvalidInput(f"{where}: every field spec needs a `path` (a string)")
        unknown = set(item) - {"path", "group", "version", "kind", "create"}
        if unknown:
            raise InvalidInput(f"{where}: unknown field spec fields {sorted(unknown)}")
        specs.append(
            FieldSpec(
                item["path"],
                Gvk(
                    str(item.get("group") or ""),
                    str(item.get("version") or ""),
                    str(item.get("kind") or ""),
                ),
                bool(item.get("create", False)),
            )
        )
    return tuple(specs)


def merge_fieldspecs(
    base: tuple[FieldSpec, ...], incoming: tuple[FieldSpec, ...]
) -> tuple[FieldSpec, ...]:
    """kustomize's FsSlice.MergeAll: add what is not already (effectively) there."""
    result = list(base)
    for spec in incoming:
        same = [s for s in result if s.path == spec.path and s.gvk.selected_by(spec.gvk)]
        if not same:
            result.append(spec)
        elif same[0].create != spec.create:
            raise InvalidInput(
                f"conflicting field specs for {spec.path!r}: one creates the field, one does not"
            )
    return tuple(result)


def matches_gvk(spec: FieldSpec, obj: Object) -> bool:
    return gvk_of(obj).selected_by(spec.gvk)


def apply_fieldspec(
    obj: Object, spec: FieldSpec, setter: Setter, create_kind: CreateKind = None
) -> None:
    """Call ``setter`` on the value at ``spec.path`` in ``obj`` and store what it returns.

    Lists met on the way are walked item by item. Missing fields are created only if the
    spec says ``create`` and the caller says what to create; ``[]`` fields never are.
    """
    if not matches_gvk(spec, obj):
        return
    _Walk(setter, spec, create_kind, obj).visit(obj, spec.parts)


@dataclass(frozen=True)
class _Walk:
    setter: Setter
    spec: FieldSpec
    create_kind: CreateKind
    obj: Object

    def visit(self, value: Any, path: tuple[str, ...]) -> Any:
        if not path:
            return self.setter(value)
        if value is None:
            return value
        if isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = self.visit(item, path)
            return value
        if not isinstance(value, dict):
            raise InvalidInput(
                f"{cur_id(self.obj).describe()}: field spec {self.spec.path!r} expects a "
                f"mapping or a list where the object has {value!r}",
                hint="check the object's structure at that path",
            )
        name = path[0]
        is_list = name.endswith("[]")
        if is_list:
            name = name[:-2]
        if not name:
            raise InvalidInput(f"field spec {self.spec.path!r} has an empty field name")
        creating = self.spec.create and self.create_kind is not None and not is_list
        current = value.get(name)
        if current is None and not creating:
            if name in value:
                value[name] = self.visit(current, path[1:])
            return value
        if current is None:
            current = "" if len(path) == 1 and self.create_kind == "scalar" else {}
        value[name] = self.visit(current, path[1:])
        return value


def load_table(text: str) -> Any:
    """One of kustomize's built-in tables, as data."""
    # libyaml: PyYAML's own reader would cost every build tens of milliseconds here.
    return yaml.load(text, Loader=yaml.CSafeLoader)


@cache
def builtin(section: str) -> tuple[FieldSpec, ...]:
    """One section of kustomize's default field specs, e.g. ``commonLabels``."""
    data = load_table(_SECTIONS[section])
    return parse_fieldspecs(data[section], f"built-in {section} field specs")


_METADATA_LABELS = """
- path: metadata/labels
  create: true
- path: spec/template/metadata/labels
  create: true
  version: v1
  kind: ReplicationController
- path: spec/template/metadata/labels
  create: true
  kind: Deployment
- path: spec/template/metadata/labels
  create: true
  kind: ReplicaSet
- path: spec/template/metadata/labels
  create: true
  kind: DaemonSet
- path: spec/template/metadata/labels
  create: true
  group: apps
  kind: StatefulSet
- path: spec/template/metadata/labels
  create: true
  group: batch
  kind: Job
- path: spec/jobTemplate/metadata/labels
  create: true
  group: batch
  kind: CronJob
- path: spec/jobTemplate/spec/template/metadata/labels
  create: true
  group: batch
  kind: CronJob
"""

_VOLUME_CLAIM_TEMPLATE_LABELS = """
- path: spec/volumeClaimTemplates[]/metadata/labels
  create: true
  group: apps
  kind: StatefulSet
"""


def _selector_specs(kind: str, group: str) -> str:
    prefix = "spec/template/spec"
    paths = (
        f"{prefix}/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/"
        "podAffinityTerm/labelSelector/matchLabels",
        f"{prefix}/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/"
        "labelSelector/matchLabels",
        f"{prefix}/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/"
        "podAffinityTerm/labelSelector/matchLabels",
        f"{prefix}/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/"
        "labelSelector/matchLabels",
        f"{prefix}/topologySpreadConstraints/labelSelector/matchLabels",
    )
    return "".join(
        f"- path: {path}\n  create: false\n  group: {group}\n  kind: {kind}\n" for path in paths
    )


_COMMON_LABELS = (
    """
commonLabels:
- path: spec/selector
  create: true
  version: v1
  kind: Service
- path: spec/selector
  create: true
  version: v1
  kind: ReplicationController
- path: spec/selector/matchLabels
  create: true
  kind: Deployment
"""
    + _selector_specs("Deployment", "apps")
    + """- path: spec/selector/matchLabels
  create: true
  kind: ReplicaSet
- path: spec/selector/matchLabels
  create: true
  kind: DaemonSet
- path: spec/selector/matchLabels
  create: true
  group: apps
  kind: StatefulSet
"""
    + _selector_specs("StatefulSet", "apps")
    + """- path: spec/selector/matchLabels
  create: false
  group: batch
  kind: Job
- path: spec/jobTemplate/spec/selector/matchLabels
  create: false
  group: batch
  kind: CronJob
- path: spec/selector/matchLabels
  create: false
  group: policy
  kind: PodDisruptionBudget
- path: spec/podSelector/matchLabels
  create: false
  group: networking.k8s.io
  kind: NetworkPolicy
- path: spec/ingress/from/podSelector/matchLabels
  create: false
  group: networking.k8s.io
  kind: NetworkPolicy
- path: spec/egress/to/podSelector/matchLabels
  create: false
  group: networking.k8s.io
  kind: NetworkPolicy
"""
    + _METADATA_LABELS
    + _VOLUME_CLAIM_TEMPLATE_LABELS
)

_COMMON_ANNOTATIONS = """
commonAnnotations:
- path: metadata/annotations
  create: true
- path: spec/template/metadata/annotations
  create: true
  version: v1
  kind: ReplicationController
- path: spec/template/metadata/annotations
  create: true
  kind: Deployment
- path: spec/template/metadata/annotations
  create: true
  kind: ReplicaSet
- path: spec/template/metadata/annotations
  create: true
  kind: DaemonSet
- path: spec/template/metadata/annotations
  create: true
  kind: StatefulSet
- path: spec/template/metadata/annotations
  create: true
  group: batch
  kind: Job
- path: spec/jobTemplate/metadata/annotations
  create: true
  group: batch
  kind: CronJob
- path: spec/jobTemplate/spec/template/metadata/annotations
  create: true
  group: batch
  kind: CronJob
"""

_NAMESPACE = """
namespace:
- path: metadata/name
  kind: Namespace
  create: true
- path: spec/service/namespace
  group: apiregistration.k8s.io
  kind: APIService
  create: true
- path: spec/conversion/webhook/clientConfig/service/namespace
  group: apiextensions.k8s.io
  kind: CustomResourceDefinition
"""

_IMAGES = """
images:
- path: spec/containers[]/image
  create: true
- path: spec/initContainers[]/image
  create: true
- path: spec/volumes[]/image/reference
  create: true
- path: spec/template/spec/containers[]/image
  create: true
- path: spec/template/spec/initContainers[]/image
  create: true
- path: spec/template/spec/volumes[]/image/reference
  create: true
- path: spec/jobTemplate/spec/template/spec/volumes[]/image/reference
  create: true
"""

_REPLICAS = """
replicas:
- path: spec/replicas
  create: true
  kind: Deployment
- path: spec/replicas
  create: true
  kind: ReplicationController
- path: spec/replicas
  create: true
  kind: ReplicaSet
- path: spec/replicas
  create: true
  kind: StatefulSet
"""

_SECTIONS = {
    "namePrefix": "namePrefix:\n- path: metadata/name\n",
    "nameSuffix": "nameSuffix:\n- path: metadata/name\n",
    "commonLabels": _COMMON_LABELS,
    "templateLabels": "templateLabels:\n" + _METADATA_LABELS,
    "volumeClaimTemplateLabels": "volumeClaimTemplateLabels:\n" + _VOLUME_CLAIM_TEMPLATE_LABELS,
    "commonAnnotations": _COMMON_ANNOTATIONS,
    "namespace": _NAMESPACE,
    "images": _IMAGES,
    "replicas": _REPLICAS,
}
