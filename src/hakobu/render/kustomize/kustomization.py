"""The kustomization file: found, parsed, checked field by field.

Every field kustomize knows is carried into the build; an unknown field is an error
(kustomize decodes with unknown fields disallowed). Deprecated spellings are folded into
their successors the way kustomize's ``FixKustomization`` does: ``bases`` into
``resources``, ``imageTags`` into ``images``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hakobu.errors import InvalidInput
from hakobu.model.files import decode
from hakobu.model.source import Document, FieldPath, SourceError, load_one
from hakobu.render.inputs import FileAccess

FILE_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

KUSTOMIZATION_API = "kustomize.config.k8s.io/v1beta1"
COMPONENT_API = "kustomize.config.k8s.io/v1alpha1"

BUILD_METADATA_OPTIONS = ("originAnnotations", "transformerAnnotations", "managedByLabel")

_SUPPORTED = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata",
        "resources",
        "bases",
        "components",
        "namespace",
        "namePrefix",
        "nameSuffix",
        "commonLabels",
        "labels",
        "commonAnnotations",
        "patches",
        "patchesStrategicMerge",
        "patchesJson6902",
        "images",
        "imageTags",
        "replicas",
        "replacements",
        "vars",
        "sortOptions",
        "configMapGenerator",
        "secretGenerator",
        "generatorOptions",
        "configurations",
        "buildMetadata",
        "transformers",
        "generators",
        "openapi",
        "crds",
        "validators",
        "helmGlobals",
        "helmCharts",
        "helmChartInflationGenerator",
    }
)


@dataclass(frozen=True)
class Kustomization:
    """A checked kustomization (or component) file and the directory it lives in."""

    document: Document
    directory: Path
    is_component: bool
    resources: tuple[str, ...]
    components: tuple[str, ...]
    namespace: str
    name_prefix: str
    name_suffix: str
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    sort_order: str | None
    sort_first: tuple[str, ...] | None
    sort_last: tuple[str, ...] | None
    build_metadata: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False)

    @property
    def file(self) -> Path:
        return self.document.file

    def error(self, path: FieldPath, message: str, hint: str | None = None) -> SourceError:
        return self.document.error(path, message, hint)

    def get(self, key: str) -> Any:
        return self.raw.get(key)

    def items(self, key: str) -> list[tuple[FieldPath, Any]]:
        """The entries of a list field with the path of each, for precise errors."""
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error((key,), "expected a list")
        return [((key, index), item) for index, item in enumerate(value)]


def find_file(directory: Path, files: FileAccess) -> Path:
    found = [directory / name for name in FILE_NAMES if files.is_file(directory / name)]
    if not found:
        raise InvalidInput(
            f"{directory}: no kustomization file (looked for {', '.join(FILE_NAMES)})",
            hint="point at a directory that holds a kustomization.yaml",
        )
    if len(found) > 1:
        raise InvalidInput(
            f"{directory}: several kustomization files ({', '.join(p.name for p in found)})",
            hint="keep exactly one of them",
        )
    return found[0]


def load(directory: Path, files: FileAccess) -> Kustomization:
    path = find_file(directory, files)
    document = load_one(path, decode(path, files.read_bytes(path)))
    data = document.data
    if not isinstance(data, dict):
        raise document.error((), "a kustomization must be a mapping of fields")
    for key in data:
        key_text = str(key)
        if key_text not in _SUPPORTED:
            raise document.error(
                (key_text,),
                f"unknown kustomization field `{key_text}`",
                hint="check the spelling; kustomize refuses unknown fields too",
            )
    kind = _string(document, data, "kind") or "Kustomization"
    if kind not in ("Kustomization", "Component"):
        raise document.error(("kind",), "kind should be Kustomization or Component")
    api_version = _string(document, data, "apiVersion")
    expected_api = COMPONENT_API if kind == "Component" else KUSTOMIZATION_API
    if api_version and api_version != expected_api:
        raise document.error(("apiVersion",), f"apiVersion for {kind} should be {expected_api}")
    if all(key in ("apiVersion", "kind") for key in data):
        raise document.error((), "kustomization is empty", hint="add resources to it")
    for key in ("patchesStrategicMerge", "patchesJson6902", "patches", "images", "imageTags"):
        _list(document, data, key)
    sort_order, sort_first, sort_last = _sort_options(document, data.get("sortOptions"))
    return Kustomization(
        document=document,
        directory=directory,
        is_component=kind == "Component",
        resources=(*_strings(document, data, "resources"), *_strings(document, data, "bases")),
        components=_strings(document, data, "components"),
        namespace=_string(document, data, "namespace"),
        name_prefix=_string(document, data, "namePrefix"),
        name_suffix=_string(document, data, "nameSuffix"),
        common_labels=_string_map(document, data, ("commonLabels",)),
        common_annotations=_string_map(document, data, ("commonAnnotations",)),
        sort_order=sort_order,
        sort_first=sort_first,
        sort_last=sort_last,
        build_metadata=_build_metadata(document, data),
        raw=data,
    )


def _string(document: Document, data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise document.error((key,), "expected a string")
    return scalar_text(value)


def scalar_text(value: Any) -> str:
    """A scalar as the string kustomize reads (YAML 1.1 booleans included)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _list(document: Document, data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise document.error((key,), "expected a list")
    return value


def _strings(document: Document, data: dict[str, Any], key: str) -> tuple[str, ...]:
    items = _list(document, data, key)
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item:
            raise document.error((key, index), "expected a non-empty string (a path)")
    return tuple(items)


def string_map(document: Document, value: Any, path: FieldPath) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise document.error(path, "expected a mapping of strings")
    result = {}
    for key, item in value.items():
        if isinstance(item, dict | list):
            raise document.error((*path, str(key)), "expected a string value")
        result[str(key)] = scalar_text(item)
    return result


def _string_map(document: Document, data: dict[str, Any], path: FieldPath) -> dict[str, str]:
    return string_map(document, data.get(str(path[0])), path)


def _build_metadata(document: Document, data: dict[str, Any]) -> tuple[str, ...]:
    options = _strings(document, data, "buildMetadata")
    for index, option in enumerate(options):
        if option not in BUILD_METADATA_OPTIONS:
            raise document.error(
                ("buildMetadata", index),
                f"unknown buildMetadata option {option!r}",
                hint=f"use {', '.join(BUILD_METADATA_OPTIONS)}",
            )
    return options


def _sort_options(
    document: Document, value: Any
) -> tuple[str | None, tuple[str, ...] | None, tuple[str, ...] | None]:
    if value is None:
        return None, None, None
    if not isinstance(value, dict):
        raise document.error(("sortOptions",), "expected a mapping")
    unknown = set(value) - {"order", "legacySortOptions"}
    if unknown:
        raise document.error(("sortOptions",), f"unknown fields {sorted(unknown)}")
    order = value.get("order")
    legacy = value.get("legacySortOptions")
    if order not in ("legacy", "fifo"):
        raise document.error(
            ("sortOptions", "order"), "the field 'sortOptions.order' must be one of [fifo, legacy]"
        )
    if legacy is None:
        return order, None, None
    if order == "fifo":
        raise document.error(
            ("sortOptions", "legacySortOptions"),
            "the field 'sortOptions.legacySortOptions' is set but the selected sort order "
            "is 'fifo', not 'legacy'",
        )
    if not isinstance(legacy, dict) or set(legacy) - {"orderFirst", "orderLast"}:
        raise document.error(
            ("sortOptions", "legacySortOptions"), "expected a mapping of orderFirst, orderLast"
        )
    first = _strings(document, legacy, "orderFirst") if "orderFirst" in legacy else ()
    last = _strings(document, legacy, "orderLast") if "orderLast" in legacy else ()
    return order, first, last
