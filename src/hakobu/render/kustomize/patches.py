"""``patches``, and the deprecated ``patchesStrategicMerge`` and ``patchesJson6902``.

A ``patches`` entry holds a strategic-merge patch or a JSON 6902 patch, inline (``patch``)
or in a file (``path``); which one it is comes from its content, as in kustomize. With a
``target`` it applies to every selected resource. A target that selects nothing is an
error, where kustomize silently skips the patch: a patch that changes nothing is almost
always a misspelt kind or name, and finding out in production costs more than a build
error. Without a target a strategic-merge patch applies to the one resource with its kind,
apiVersion, name and namespace, and finding none is an error too; a JSON 6902 patch always
needs a target.

A strategic-merge patch never renames or moves its target unless ``options`` allow a name
or kind change; the namespace always stays.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from hakobu.errors import HakobuError, InvalidInput
from hakobu.model.files import decode
from hakobu.model.objects import Object
from hakobu.model.source import BoundsError, FieldPath
from hakobu.render.kustomize.index import ResourceIndex
from hakobu.render.kustomize.loader import Loader, load_json, load_objects, load_value
from hakobu.render.kustomize.resource import (
    ALLOW_KIND_CHANGE,
    ALLOW_NAME_CHANGE,
    ENABLED,
    annotations_of,
    cur_id,
    is_enabled,
    name_of,
    namespace_of,
    set_annotation,
    set_annotations,
    set_name,
    set_namespace,
    store_previous_id,
)
from hakobu.render.kustomize.selectors import Target
from hakobu.render.patch import PatchError, apply_json6902, strategic_merge

_PATCH_FIELDS = frozenset({"path", "patch", "target", "options"})
_OPTIONS = frozenset({"allowNameChange", "allowKindChange"})
_INTERNAL_PREFIX = "internal.config.kubernetes.io/"
_LEGACY_INTERNAL = ("config.kubernetes.io/path", "config.kubernetes.io/index", "config.k8s.io/id")


class PatchEntries(Protocol):
    """Where patch entries come from: a kustomization's fields, or a built-in plugin's
    configuration. Errors name the entry in it."""

    def items(self, key: str) -> list[tuple[FieldPath, Any]]: ...

    def error(self, path: FieldPath, message: str, hint: str | None = None) -> InvalidInput: ...


@dataclass(frozen=True)
class _Source:
    """The text of one patch and how to name it in messages."""

    text: str
    label: str


def apply_strategic_merge_entries(
    resources: list[Object], kustomization: PatchEntries, loader: Loader
) -> None:
    """The deprecated ``patchesStrategicMerge``: inline patches or files of patches."""
    entries = kustomization.items("patchesStrategicMerge")
    if not entries:
        return
    index = ResourceIndex(resources)
    for path, entry in entries:
        if not isinstance(entry, str):
            raise kustomization.error(path, "expected a file path or an inline patch")
        patches = _inline_objects(entry)
        if patches is None:
            source = _read(kustomization, loader, path, entry)
            patches = _strategic_patches(kustomization, path, source)
        for patch in patches:
            _apply_by_id(index, patch, kustomization, path)


def apply_patch_entries(
    resources: list[Object], kustomization: PatchEntries, loader: Loader
) -> None:
    entries = kustomization.items("patches")
    if not entries:
        return
    index = ResourceIndex(resources)
    for path, entry in entries:
        if not isinstance(entry, dict):
            raise kustomization.error(path, "expected a mapping with path or patch, and target")
        unknown = set(entry) - _PATCH_FIELDS
        if unknown:
            raise kustomization.error(
                (*path, str(sorted(unknown)[0])),
                f"unknown patch field(s) {sorted(unknown)}",
                hint=f"use {sorted(_PATCH_FIELDS)}",
            )
        source = _patch_source(kustomization, loader, path, entry)
        target = (
            Target.parse(entry["target"], _where(kustomization, (*path, "target")))
            if entry.get("target") is not None
            else None
        )
        # Text that reads as objects is a mapping or several documents, never also a list of
        # operations, so it is read as JSON operations only when it is not a patch object.
        strategic = _try_strategic(source.text)
        operations = None if strategic is not None else _try_json6902(source.text)
        if strategic is not None:
            allow_name, allow_kind = _options(kustomization, path, entry.get("options"))
            for patch in strategic:
                if allow_name:
                    set_annotation(patch, ALLOW_NAME_CHANGE, ENABLED)
                if allow_kind:
                    set_annotation(patch, ALLOW_KIND_CHANGE, ENABLED)
            _apply_strategic_entry(
                index, kustomization, path, source=source, strategic=strategic, target=target
            )
        elif operations is not None:
            _apply_json_entry(
                index, kustomization, path, source=source, operations=operations, target=target
            )
        else:
            raise kustomization.error(
                path,
                f"cannot parse {source.label} as a strategic-merge patch or a JSON 6902 patch",
                hint="a strategic-merge patch is a partial object with apiVersion, kind and "
                "metadata.name; a JSON patch is a list of {op, path, value}",
            )


def _apply_strategic_entry(
    index: ResourceIndex,
    kustomization: PatchEntries,
    path: FieldPath,
    *,
    source: _Source,
    strategic: list[Object],
    target: Target | None,
) -> None:
    if target is None:
        for patch in strategic:
            _apply_by_id(index, patch, kustomization, path)
        return
    if len(strategic) > 1:
        raise kustomization.error(
            path,
            f"{source.label} holds several strategic-merge patches; a patch with a target "
            "may hold only one",
        )
    where = _where(kustomization, path)
    # A target that selects nothing leaves the patch unused, silently, as in kustomize.
    for chosen in index.select(target.compile(where)):
        _apply_strategic(index, chosen, strategic[0], where, retarget=True)


def _apply_json_entry(
    index: ResourceIndex,
    kustomization: PatchEntries,
    path: FieldPath,
    *,
    source: _Source,
    operations: list[dict[str, Any]],
    target: Target | None,
) -> None:
    if target is None:
        raise kustomization.error(
            path, f"JSON patch {source.label} needs a target", hint="add target: {…}"
        )
    where = _where(kustomization, path)
    for chosen in index.select(target.compile(where)):
        store_previous_id(chosen)
        _apply_json(index, chosen, operations, where)


def apply_json6902_entries(
    resources: list[Object], kustomization: PatchEntries, loader: Loader
) -> None:
    """The deprecated ``patchesJson6902``: a target (with a name) and operations."""
    entries = kustomization.items("patchesJson6902")
    if not entries:
        return
    index = ResourceIndex(resources)
    for path, entry in entries:
        if not isinstance(entry, dict):
            raise kustomization.error(path, "expected a mapping with target and path or patch")
        unknown = set(entry) - {"path", "patch", "target"}
        if unknown:
            raise kustomization.error(path, f"unknown fields {sorted(unknown)}")
        raw_target = entry.get("target")
        target = Target.parse(raw_target or {}, _where(kustomization, (*path, "target")))
        if not target.name:
            raise kustomization.error((*path, "target"), "must specify the target name")
        source = _patch_source(kustomization, loader, path, entry)
        operations = _try_json6902(source.text)
        if not operations:
            raise kustomization.error(path, f"{source.label} is not a list of JSON 6902 operations")
        where = _where(kustomization, path)
        for chosen in index.select(target.compile(where)):
            _apply_json(index, chosen, operations, where)


def _where(kustomization: PatchEntries, path: FieldPath) -> str:
    error = kustomization.error(path, "")
    return error.message.rstrip(": ").rstrip()


def _patch_source(
    kustomization: PatchEntries, loader: Loader, path: FieldPath, entry: dict[str, Any]
) -> _Source:
    inline, file = entry.get("patch"), entry.get("path")
    inline_text = inline.strip() if isinstance(inline, str) else ""
    if inline is not None and not isinstance(inline, str):
        raise kustomization.error((*path, "patch"), "expected the patch as a string")
    if file is not None and not isinstance(file, str):
        raise kustomization.error((*path, "path"), "expected a file path")
    if not inline_text and not file:
        raise kustomization.error(path, "must specify one of patch and path")
    if inline_text and file:
        raise kustomization.error(path, "patch and path can't be set at the same time")
    if isinstance(file, str) and file:
        return _read(kustomization, loader, (*path, "path"), file)
    return _Source(inline_text, "the inline patch")


def _read(kustomization: PatchEntries, loader: Loader, path: FieldPath, file: str) -> _Source:
    try:
        data = loader.read_bytes(Path(file))
    except FileNotFoundError:
        raise kustomization.error(path, f"patch file '{file}' does not exist") from None
    except HakobuError as e:
        raise kustomization.error(path, e.message, e.hint) from None
    return _Source(decode(loader.root / file, data), f"patch file '{file}'")


def _inline_objects(text: str) -> list[Object] | None:
    """An inline patch's objects, or None when the text is not one (but a file path)."""
    try:
        objects = load_objects(Path("<inline patch>"), text.encode())
    except BoundsError:
        raise
    except HakobuError:
        return None
    return objects or None


def _strategic_patches(
    kustomization: PatchEntries, path: FieldPath, source: _Source
) -> list[Object]:
    try:
        patches = load_objects(Path(source.label), source.text.encode())
    except HakobuError as e:
        raise kustomization.error(path, f"{source.label}: {e.message}", e.hint) from None
    if not patches:
        raise kustomization.error(path, f"{source.label} is empty")
    return patches


def _try_strategic(text: str) -> list[Object] | None:
    try:
        return load_objects(Path("<patch>"), text.encode()) or None
    except BoundsError:
        raise
    except HakobuError:
        return None


def _try_json6902(text: str) -> list[dict[str, Any]] | None:
    if not text:
        return None
    try:
        data = (
            load_json(Path("<patch>"), text)
            if text.startswith("[")
            else load_value(Path("<patch>"), text)
        )
    except (ValueError, yaml.YAMLError):
        return None
    if not isinstance(data, list) or not all(isinstance(op, dict) for op in data):
        return None
    return data or None


def _options(kustomization: PatchEntries, path: FieldPath, raw: Any) -> tuple[bool, bool]:
    if raw is None:
        return False, False
    if not isinstance(raw, dict) or set(raw) - _OPTIONS:
        raise kustomization.error(
            (*path, "options"), f"expected a mapping of {sorted(_OPTIONS)} (true or false)"
        )
    return bool(raw.get("allowNameChange")), bool(raw.get("allowKindChange"))


def _apply_by_id(
    index: ResourceIndex, patch: Object, kustomization: PatchEntries, path: FieldPath
) -> None:
    wanted = cur_id(patch)
    matches = index.answering_to(wanted)
    if len(matches) != 1:
        found = "no resource" if not matches else f"{len(matches)} resources"
        raise kustomization.error(
            path,
            f"{found} matches the strategic-merge patch for {wanted.describe()}",
            hint="the patch's apiVersion, kind, name and namespace must name exactly one "
            "resource of the build",
        )
    _apply_strategic(index, matches[0], patch, _where(kustomization, path), retarget=False)


def _apply_strategic(
    index: ResourceIndex, target: Object, patch: Object, where: str, *, retarget: bool
) -> None:
    patch = copy.deepcopy(patch)
    if retarget:
        patch["apiVersion"] = target.get("apiVersion")
    name, namespace, kind = name_of(target), namespace_of(target), target.get("kind")
    allow_name = is_enabled(patch, ALLOW_NAME_CHANGE)
    allow_kind = is_enabled(patch, ALLOW_KIND_CHANGE)
    if allow_name or allow_kind:
        store_previous_id(target)
    merged = _guard(where, lambda: strategic_merge(target, patch))
    if merged is None:
        index.delete(target)
        return
    if not allow_kind:
        merged["kind"] = kind
    if not allow_name:
        set_name(merged, name)
    set_namespace(merged, namespace)
    index.replace(target, merged)


def _apply_json(
    index: ResourceIndex, target: Object, operations: list[dict[str, Any]], where: str
) -> None:
    internal = {
        key: value
        for key, value in annotations_of(target).items()
        if key.startswith(_INTERNAL_PREFIX) or key in _LEGACY_INTERNAL
    }
    patched = _guard(where, lambda: apply_json6902(target, operations))
    set_annotations(patched, {**annotations_of(patched), **internal})
    index.replace(target, patched)


def _guard(where: str, action: Callable[[], Any]) -> Any:
    try:
        return action()
    except PatchError as e:
        raise InvalidInput(f"{where}: {e.message}", hint=e.hint) from None
