"""``crds:``: OpenAPI definitions of custom types whose ``x-kubernetes-*`` marks declare field
specs, as kustomize's ``LoadConfigFromCRDs`` reads them.

A file maps type names (``github.com/…/v1beta1.MyKind``) to ``{Schema, Dependencies}``. A
type whose properties include ``apiVersion``, ``kind`` and ``metadata`` is a kind (named by
the last ``.``-part of its type name); its properties, followed through ``$ref`` into the
other definitions, may carry:

- ``x-kubernetes-annotation``: the field gets ``commonAnnotations``;
- ``x-kubernetes-label-selector``: the field gets ``commonLabels``;
- ``x-kubernetes-identity``: the field gets the name prefix;
- ``x-kubernetes-object-ref-api-version`` and ``x-kubernetes-object-ref-kind`` (and
  ``x-kubernetes-object-ref-name-key``, default ``name``): the field refers by name to an
  object of that kind, so it follows renames.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hakobu.errors import InvalidInput
from hakobu.render.kustomize.fieldspecs import FieldSpec
from hakobu.render.kustomize.namereference import BackReference
from hakobu.render.kustomize.resource import Gvk
from hakobu.render.kustomize.transformerconfig import TransformerConfig

_ANNOTATION = "x-kubernetes-annotation"
_LABEL_SELECTOR = "x-kubernetes-label-selector"
_IDENTITY = "x-kubernetes-identity"
_REF_VERSION = "x-kubernetes-object-ref-api-version"
_REF_KIND = "x-kubernetes-object-ref-kind"
_REF_NAME_KEY = "x-kubernetes-object-ref-name-key"


def parse_definitions(text: str, load_yaml: Any, where: str) -> dict[str, Any]:
    """The type-name map of one ``crds:`` file (JSON when it starts with ``{``, else YAML)."""
    try:
        data = json.loads(text) if text.startswith("{") else load_yaml(text)
    except json.JSONDecodeError as e:
        raise InvalidInput(f"{where}: not valid JSON: {e}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise InvalidInput(
            f"{where}: unable to parse open API definition",
            hint="give a mapping of type names to {Schema: …, Dependencies: […]}",
        )
    return data


def config_from_definitions(definitions: dict[str, Any]) -> TransformerConfig:
    """The field specs the definitions declare, as one transformer configuration."""
    found = _Found()
    for name in definitions:
        properties = _properties(definitions, name)
        if all(key in properties for key in ("kind", "apiVersion", "metadata")):
            kind = Gvk(kind=name.split(".")[-1])
            _walk(definitions, found, kind, name, path=(), seen=frozenset())
    references = tuple(
        BackReference(target, tuple(specs)) for target, specs in found.references.items()
    )
    return TransformerConfig(found.specs, references)


@dataclass
class _Found:
    specs: dict[str, tuple[FieldSpec, ...]] = field(default_factory=dict)
    references: dict[Gvk, list[FieldSpec]] = field(default_factory=dict)

    def add(self, section: str, spec: FieldSpec) -> None:
        existing = self.specs.get(section, ())
        if spec not in existing:
            self.specs[section] = (*existing, spec)

    def refer(self, target: Gvk, spec: FieldSpec) -> None:
        referrers = self.references.setdefault(target, [])
        if spec not in referrers:
            referrers.append(spec)


def _properties(definitions: dict[str, Any], name: str) -> dict[str, Any]:
    definition = definitions.get(name)
    if not isinstance(definition, dict):
        return {}
    # Go decodes the field names case-insensitively: Schema, schema, …
    schema = next((v for k, v in definition.items() if str(k).lower() == "schema"), None)
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return properties if isinstance(properties, dict) else {}


def _walk(
    definitions: dict[str, Any],
    found: _Found,
    gvk: Gvk,
    type_name: str,
    *,
    path: tuple[str, ...],
    seen: frozenset[str],
) -> None:
    # A type that refers back to itself would recurse for ever (kustomize overflows its
    # stack); following each type once per path gives the same specs for every finite walk.
    if type_name in seen:
        return
    for name, prop in _properties(definitions, type_name).items():
        if not isinstance(prop, dict):
            continue
        here = (*path, str(name))
        spec = FieldSpec("/".join(here), gvk)
        if isinstance(prop.get(_ANNOTATION), str):
            found.add("commonAnnotations", spec)
        if isinstance(prop.get(_LABEL_SELECTOR), str):
            found.add("commonLabels", spec)
        if isinstance(prop.get(_IDENTITY), str):
            found.add("namePrefix", spec)
        version, kind = prop.get(_REF_VERSION), prop.get(_REF_KIND)
        if isinstance(version, str) and isinstance(kind, str):
            name_key = prop.get(_REF_NAME_KEY)
            key = name_key if isinstance(name_key, str) else "name"
            found.refer(Gvk(version=version, kind=kind), FieldSpec("/".join((*here, key)), gvk))
        ref = prop.get("$ref")
        if isinstance(ref, str) and ref:
            _walk(definitions, found, gvk, ref, path=here, seen=seen | {type_name})
