"""``transformers:`` and ``generators:`` entries that configure kustomize's built-in plugins.

An entry is an inline document, or a file or directory whose build gives the plugin
configurations. A configuration with ``apiVersion: builtin`` names one of kustomize's own
transformers or generators, and runs the same code as the kustomization field it stands
behind, with the field specs it gives (a built-in plugin gets no default field specs).

Anything else is an exec, Go or container plugin (or a KRM function): foreign code, which
hakobu does not run. ``validators:`` only ever name such plugins (kustomize has no built-in
validator), so they are refused too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.render.kustomize import transformers
from hakobu.render.kustomize.fieldspecs import parse_fieldspecs
from hakobu.render.kustomize.images import ImageRule, set_images
from hakobu.render.kustomize.kustomization import scalar_text
from hakobu.render.kustomize.resource import name_of, namespace_of

BUILTIN_API = "builtin"
_FUNCTION_ANNOTATION = "config.kubernetes.io/function"

TRANSFORMER_KINDS = (
    "PrefixSuffixTransformer",
    "PrefixTransformer",
    "SuffixTransformer",
    "LabelTransformer",
    "AnnotationsTransformer",
    "NamespaceTransformer",
    "ImageTagTransformer",
    "ReplicaCountTransformer",
)
GENERATOR_KINDS = ("ConfigMapGenerator", "SecretGenerator")


def describe(config: Object) -> str:
    return f"{config.get('apiVersion')}/{config.get('kind')} {name_of(config)!r}"


def check(config: Object, kinds: Sequence[str], field: str, where: str) -> str:
    """The built-in kind ``config`` names, or an error saying why it cannot run here."""
    annotations = (config.get("metadata") or {}).get("annotations") or {}
    kind = str(config.get("kind") or "")
    if config.get("apiVersion") != BUILTIN_API or _FUNCTION_ANNOTATION in annotations:
        raise InvalidInput(
            f"{where}: {field}: {describe(config)} is an exec, Go or container plugin "
            "(or a KRM function); hakobu build runs no foreign code",
            hint=f"render this directory with kustomize itself, or use a built-in kind "
            f"(apiVersion: builtin; one of {', '.join(kinds)})",
        )
    if kind not in kinds:
        raise InvalidInput(
            f"{where}: {field}: built-in kind {kind!r} is not supported by hakobu build there",
            hint=f"use one of {', '.join(kinds)}, or the matching kustomization field",
        )
    return kind


def transform(resources: list[Object], config: Object, kind: str, where: str) -> None:
    """Run one built-in transformer configuration over ``resources``."""
    label = f"{where}: {describe(config)}"
    specs = parse_fieldspecs(config.get("fieldSpecs"), f"{label}: fieldSpecs")
    if kind in ("PrefixSuffixTransformer", "PrefixTransformer"):
        transformers.add_name_prefix(resources, _text(config, "prefix"), specs)
    if kind in ("PrefixSuffixTransformer", "SuffixTransformer"):
        transformers.add_name_suffix(resources, _text(config, "suffix"), specs)
    if kind == "LabelTransformer":
        transformers.add_labels(resources, _strings(config, "labels", label), specs)
    if kind == "AnnotationsTransformer":
        transformers.add_annotations(resources, _strings(config, "annotations", label), specs)
    if kind == "NamespaceTransformer":
        if config.get("unsetOnly") or config.get("setRoleBindingSubjects") not in (
            None,
            "",
            "defaultOnly",
        ):
            raise InvalidInput(
                f"{label}: unsetOnly and setRoleBindingSubjects are not supported by hakobu build",
                hint="leave them out, or render this directory with kustomize itself",
            )
        transformers.set_namespace(resources, namespace_of(config), specs)
    if kind == "ImageTagTransformer":
        image = config.get("imageTag") or {}
        if not isinstance(image, dict):
            raise InvalidInput(f"{label}: imageTag: expected a mapping")
        values = {key: scalar_text(image.get(key)) for key in _IMAGE_FIELDS}
        rule = ImageRule(
            values["name"],
            values["newName"],
            values["newTag"],
            values["digest"],
            values["tagSuffix"],
        )
        set_images(resources, [rule], specs)
    if kind == "ReplicaCountTransformer":
        replica = config.get("replica") or {}
        count = replica.get("count", 0) if isinstance(replica, dict) else None
        if not isinstance(count, int) or isinstance(count, bool):
            raise InvalidInput(f"{label}: replica: expected a name and a whole-number count")
        transformers.Replicas(resources, specs).set(scalar_text(replica.get("name")), count)


_IMAGE_FIELDS = ("name", "newName", "newTag", "digest", "tagSuffix")


def _text(config: Object, key: str) -> str:
    return scalar_text(config.get(key))


def _strings(config: Object, key: str, label: str) -> dict[str, str]:
    value = config.get(key) or {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{label}: {key}: expected a mapping of strings")
    return {str(k): scalar_text(v) for k, v in value.items()}


def generator_entry(config: Object) -> dict[str, Any]:
    """A ConfigMapGenerator or SecretGenerator configuration as a generator-field entry."""
    entry = {key: value for key, value in config.items() if key not in ("apiVersion", "kind")}
    metadata = entry.pop("metadata", None) or {}
    entry["name"] = metadata.get("name")
    if metadata.get("namespace"):
        entry["namespace"] = metadata["namespace"]
    return entry
