"""Platform bases: what a platform team lays under many app specs, one version at a time.

A base lives in the project at ``platform/bases/<name>/<version>/``::

    base.yaml            description, defaults, forbid, patches (all optional)
    values.schema.json   the JSON Schema of the values an app passes (``baseValues``)
    templates/           objects added to every app on this version (plain YAML or Jinja)

An app spec names its base (``base: web@2``); an environment of ``hakobu.yaml`` may name a
default for the specs that name none. ``defaults`` are app spec fields filled in where the
spec leaves them unset (labels and annotations merge key by key, so a base can add a cost
centre or a log collection annotation to every app); ``forbid`` lists field paths of the
spec the base refuses (``hostNetwork``, ``securityContext.privileged``); ``patches`` are
strategic merge patches of the generated objects, applied to the objects they match, and
JSON 6902 patches with a kustomize ``target`` (``hakobu.model.jsonpatches``).

This module reads and checks the definition; ``hakobu.render.bases`` applies it.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hakobu.model.appspec_schema import BASE_REF_PATTERN, SCHEMA
from hakobu.model.jsonpatches import JsonPatch, is_json_patch_entry, parse_entry
from hakobu.model.schemacheck import SUPPORTED_KEYWORDS, SchemaViolation, check, shown
from hakobu.model.source import Document, FieldPath, SourceError, format_field, load_one

BASES_DIR = Path("platform") / "bases"
BASE_FILE = "base.yaml"
VALUES_SCHEMA_FILE = "values.schema.json"
TEMPLATES_DIR = "templates"
_BASE_REF = re.compile(BASE_REF_PATTERN)
_FIELDS = ("description", "defaults", "forbid", "patches")
# What a base may not default: the app's identity, what the base itself is chosen by, and
# what promotion and the order of a sync read from the spec alone.
_NOT_DEFAULTED = ("name", "image", "base", "baseValues", "environments", "promote", "dependsOn")


@dataclass(frozen=True)
class BaseRef:
    name: str
    version: int

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"

    def directory(self, root: Path) -> Path:
        return root / BASES_DIR / self.name / str(self.version)


def parse_ref(text: str) -> BaseRef:
    """``web@2`` → ``BaseRef("web", 2)``; the caller says where ``text`` was written."""
    if not _BASE_REF.match(text):
        raise ValueError(f"{text!r} is not NAME@VERSION, such as web@2")
    name, version = text.split("@")
    return BaseRef(name, int(version))


@dataclass(frozen=True)
class BasePatch:
    kind: str
    name: str | None
    body: dict[str, Any]
    location: str  # base.yaml:line


@dataclass(frozen=True)
class Base:
    """One version of a base, checked."""

    ref: BaseRef
    directory: Path
    description: str
    defaults: dict[str, Any]
    forbid: tuple[tuple[str, ...], ...]
    # In the order written: strategic merge patches and JSON patches.
    patches: tuple[BasePatch | JsonPatch, ...]
    # None: the base takes no values.
    values_schema: dict[str, Any] | None


def parse_base(ref: BaseRef, directory: Path, text: str, schema_text: str | None) -> Base:
    """The base of ``ref`` from its ``base.yaml`` text and its values schema's, if any."""
    file = directory / BASE_FILE
    # An empty or absent base.yaml: a base of templates alone.
    document = load_one(file, text) if text.strip() else Document(file, 0, {}, {})
    if not isinstance(document.data, dict):
        raise document.error((), "a base file must hold a mapping")
    data: dict[str, Any] = document.data
    for key in data:
        if key not in _FIELDS:
            raise document.error(
                (key,), "unknown field", hint=f"a base file has: {', '.join(_FIELDS)}"
            )
    description = data.get("description", "")
    if not isinstance(description, str):
        raise document.error(("description",), "expected a string")
    return Base(
        ref,
        directory,
        description,
        _defaults(document, data.get("defaults")),
        _forbid(document, data.get("forbid")),
        _patches(document, text, data.get("patches")),
        _values_schema(directory / VALUES_SCHEMA_FILE, schema_text),
    )


def _defaults(document: Document, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise document.error(("defaults",), "expected a mapping of app spec fields")
    for key in value:
        if key in _NOT_DEFAULTED:
            raise document.error(
                ("defaults", key),
                f"a base cannot default {key}",
                hint="defaults hold the app spec fields a base fills in, such as resources, "
                "securityContext, labels or annotations",
            )
    # Checked as part of a spec, so a default the spec format would refuse is the base's
    # error, reported at the base's line, never an app's.
    try:
        check(SCHEMA, {"name": "base-defaults", "image": "base-defaults", **value})
    except SchemaViolation as e:
        raise document.error(("defaults", *e.path), e.message, hint=e.hint) from None
    return copy.deepcopy(value)


def _forbid(document: Document, value: Any) -> tuple[tuple[str, ...], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise document.error(("forbid",), "expected a list of app spec field paths")
    paths: list[tuple[str, ...]] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item or "" in item.split("."):
            raise document.error(
                ("forbid", index),
                "expected a field path: keys separated by '.', such as securityContext.privileged",
            )
        path = tuple(item.split("."))
        if path[0] not in SCHEMA["properties"] or path[0] in ("name", "image", "base"):
            raise document.error(
                ("forbid", index),
                f"{shown(path[0])} is not an app spec field a base can forbid",
            )
        paths.append(path)
    return tuple(paths)


def _patches(document: Document, text: str, value: Any) -> tuple[BasePatch | JsonPatch, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise document.error(("patches",), "expected a list of partial objects")
    patches: list[BasePatch | JsonPatch] = []
    for index, item in enumerate(value):
        path: FieldPath = ("patches", index)
        if is_json_patch_entry(item):
            patches.append(parse_entry(document, text, path, item))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
            raise document.error(path, "expected a partial object with a kind")
        metadata = item.get("metadata") or {}
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if name is not None and not isinstance(name, str):
            raise document.error((*path, "metadata", "name"), "expected a string")
        patches.append(
            BasePatch(
                item["kind"], name, copy.deepcopy(item), f"{document.file}:{document.line_of(path)}"
            )
        )
    return tuple(patches)


def _values_schema(file: Path, text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        schema = json.loads(text)
    except ValueError as e:
        raise SourceError(file, f"invalid JSON: {e}") from None
    if not isinstance(schema, dict):
        raise SourceError(file, "a values schema must be a JSON object")
    unsupported = sorted(_keywords(schema) - SUPPORTED_KEYWORDS)
    if unsupported:
        raise SourceError(
            file,
            f"the schema uses {', '.join(unsupported)}, which hakobu does not check",
            hint="use only: " + ", ".join(sorted(SUPPORTED_KEYWORDS)),
        )
    return schema


def _keywords(schema: Any) -> set[str]:
    """The keywords a schema uses, nested schemas included (property names excluded)."""
    found: set[str] = set()
    if not isinstance(schema, dict):
        return found
    for key, value in schema.items():
        found.add(key)
        if key in ("properties", "$defs"):
            for sub in value.values() if isinstance(value, dict) else ():
                found |= _keywords(sub)
        elif key in ("items", "additionalProperties", "propertyNames"):
            found |= _keywords(value)
        elif key in ("anyOf", "oneOf") and isinstance(value, list):
            for sub in value:
                found |= _keywords(sub)
    return found


def check_app(base: Base, document: Document, environments: tuple[str, ...]) -> None:
    """Refuse an app spec (``document``) that sets a field ``base`` forbids, or passes
    values its schema rejects: the error names the spec's file, line and field."""
    data = document.data if isinstance(document.data, dict) else {}
    overrides = data.get("environments") or {}
    for path in base.forbid:
        for prefix, tree in (
            ((), data),
            *((("environments", env), overrides.get(env)) for env in environments),
        ):
            if _has(tree, path):
                raise document.error(
                    (*prefix, *path),
                    f"base {base.ref} forbids {format_field(path)}",
                    hint=f"remove it; {base.directory / BASE_FILE} lists what the base refuses",
                )
    values = data.get("baseValues") or {}
    _check_values(base, document, ("baseValues",), values)
    for env in environments:
        override = overrides.get(env)
        if isinstance(override, dict) and isinstance(override.get("baseValues"), dict):
            merged = _merged(values, override["baseValues"])
            _check_values(base, document, ("environments", env, "baseValues"), merged)


def _check_values(base: Base, document: Document, where: FieldPath, values: Any) -> None:
    if base.values_schema is None:
        if values:
            raise document.error(
                where,
                f"base {base.ref} takes no values",
                hint=f"it has no {VALUES_SCHEMA_FILE}; remove baseValues",
            )
        return
    try:
        check(base.values_schema, values)
    except SchemaViolation as e:
        raise document.error(
            (*where, *e.path),
            f"{e.message} (the values schema of base {base.ref})",
            hint=e.hint,
        ) from None


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """An environment's values as the spec merges them: mappings merge, null removes."""
    result = dict(base)
    for key, value in override.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merged(result[key], value)
        else:
            result[key] = value
    return result


def _has(tree: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(tree, dict) or tree.get(key) is None:
            return False
        tree = tree[key]
    return True


__all__ = [
    "BASES_DIR",
    "BASE_FILE",
    "TEMPLATES_DIR",
    "VALUES_SCHEMA_FILE",
    "Base",
    "BasePatch",
    "BaseRef",
    "check_app",
    "parse_base",
    "parse_ref",
]
