"""Transformer configuration: the field specs every built-in transformer works through.

kustomize starts from its defaults (``fieldspecs``, ``namereference``, ``vars``) and adds
what a kustomization's ``configurations:`` files (and ``crds:``) declare: more paths for name
prefixes, labels, annotations, namespaces, images and replica counts, and more name and var
references, typically on custom resources. A kustomization's configuration is merged into
what its bases and components already declared, so an overlay sees its bases' additions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hakobu.errors import HakobuError, InvalidInput
from hakobu.render.kustomize.fieldspecs import (
    FieldSpec,
    builtin,
    merge_fieldspecs,
    parse_fieldspecs,
)
from hakobu.render.kustomize.namereference import (
    BackReference,
    back_references,
    sort_back_references,
)
from hakobu.render.kustomize.resource import Gvk
from hakobu.render.kustomize.vars import builtin_var_references

# The field-spec sections of a configuration file, as kustomize spells them.
SECTIONS = (
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "labels",
    "templateLabels",
    "volumeClaimTemplateLabels",
    "commonAnnotations",
    "varReference",
    "images",
    "replicas",
)
_NAME_REFERENCE = "nameReference"
_BACK_REFERENCE_FIELDS = frozenset({"group", "version", "kind", "fieldSpecs"})


@dataclass(frozen=True)
class TransformerConfig:
    specs: Mapping[str, tuple[FieldSpec, ...]] = field(default_factory=dict)
    name_references: tuple[BackReference, ...] = ()

    def section(self, name: str) -> tuple[FieldSpec, ...]:
        return self.specs.get(name, ())

    def merged(self, other: TransformerConfig) -> TransformerConfig:
        """kustomize's TransformerConfig.Merge: what is not already there, added."""
        # Every accumulated configuration already holds the defaults, and most
        # kustomizations add nothing else: skipping those merges keeps a tree of many
        # kustomizations linear.
        if other is self or (other is default_config() and self is not EMPTY):
            return self
        if self is EMPTY:
            return other
        specs = {
            name: merge_fieldspecs(self.section(name), other.section(name)) for name in SECTIONS
        }
        references = list(self.name_references)
        for incoming in other.name_references:
            for position, existing in enumerate(references):
                if existing.target == incoming.target:
                    references[position] = BackReference(
                        existing.target, merge_fieldspecs(existing.referrers, incoming.referrers)
                    )
                    break
            else:
                references.append(incoming)
        return TransformerConfig(specs, sort_back_references(references))


EMPTY = TransformerConfig()


@cache
def default_config() -> TransformerConfig:
    specs = {
        name: builtin(name)
        for name in SECTIONS
        if name not in ("labels", "varReference")  # no default paths for either
    }
    specs["varReference"] = builtin_var_references()
    return TransformerConfig(specs, back_references())


def parse_config(data: Any, where: str) -> TransformerConfig:
    """One ``configurations:`` file (a mapping of sections), checked as strictly as kustomize."""
    if data is None:
        return TransformerConfig()
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: a transformer configuration must be a mapping of sections")
    unknown = sorted(str(key) for key in data if key not in (*SECTIONS, _NAME_REFERENCE))
    if unknown:
        raise InvalidInput(
            f"{where}: unknown transformer configuration sections {unknown}",
            hint=f"use {', '.join([*SECTIONS, _NAME_REFERENCE])}",
        )
    specs = {
        name: parse_fieldspecs(data.get(name), f"{where}: {name}")
        for name in SECTIONS
        if name in data
    }
    references = []
    raw_references = data.get(_NAME_REFERENCE) or []
    if not isinstance(raw_references, list):
        raise InvalidInput(f"{where}: {_NAME_REFERENCE}: expected a list")
    for index, entry in enumerate(raw_references):
        label = f"{where}: {_NAME_REFERENCE}[{index}]"
        if not isinstance(entry, dict) or not entry.get("kind"):
            raise InvalidInput(f"{label}: expected a mapping with kind and fieldSpecs")
        unknown = sorted(str(key) for key in set(entry) - _BACK_REFERENCE_FIELDS)
        if unknown:
            raise InvalidInput(
                f"{label}: unknown fields {unknown}", hint="use kind, group, version and fieldSpecs"
            )
        references.append(
            BackReference(
                Gvk(
                    str(entry.get("group") or ""),
                    str(entry.get("version") or ""),
                    str(entry["kind"]),
                ),
                parse_fieldspecs(entry.get("fieldSpecs"), f"{label}: fieldSpecs"),
            )
        )
    return TransformerConfig(specs, tuple(references))


def merge_all(
    base: TransformerConfig, configs: list[TransformerConfig], where: str
) -> TransformerConfig:
    """``configs`` merged in turn into ``base``, a conflict reported against ``where``."""
    result = base
    for config in configs:
        try:
            result = result.merged(config)
        except HakobuError as e:
            raise InvalidInput(f"{where}: {e.message}", hint=e.hint) from None
    return result
