"""``configMapGenerator`` and ``secretGenerator``: ConfigMaps and Secrets made from files,
env files and literals, as kustomize makes them.

What kustomize does, and so what this does:

- Keys come from env files first, then literals, then files; a key may appear only once.
- Env files: a UTF-8 byte-order mark is dropped from the first line, leading whitespace
  is ignored, blank lines and lines starting with ``#`` are skipped, the value is
  everything after the first ``=`` (kept verbatim: no trimming, quotes stay), and a bare
  ``KEY`` without ``=`` gets the empty value (it is not read from the environment).
- Literals ``KEY=VALUE`` split at the first ``=``; a value wrapped in matching single or
  double quotes loses them.
- Files ``path`` or ``key=path``; the key defaults to the file's base name.
- A ConfigMap value that is not valid UTF-8 goes to ``binaryData``, base64-encoded; every
  Secret value is base64-encoded into ``data``. Base64 longer than 70 characters is broken
  into lines of 70, each ending in a newline, as kustomize writes it.
- ``generatorOptions`` of the kustomization fill in labels and annotations an entry does not
  set itself; ``disableNameSuffixHash`` and ``immutable`` hold if either level sets them.

kustomize does not validate keys; the API server does, so a key that is not a valid
ConfigMap key (letters, digits, ``-``, ``_``, ``.``) is refused here, before any apply.

The name-suffix hash is not added here: kustomize adds it once, at the very end of the
top-level build (after merges with bases, name prefixes and every other transformer), to
each object still flagged. ``Generated.hash_suffix`` is that flag. When a generator merges
into or replaces an existing object, the flag survives only if both the existing object and
the generator carry it (see ``merge_generated``).
"""

from __future__ import annotations

import base64
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hakobu.errors import HakobuError
from hakobu.model.objects import Object
from hakobu.model.source import Document, FieldPath, SourceError
from hakobu.render.kustomize.resource import (
    BUILD_ANNOTATIONS,
    ENABLED,
    GENERATOR_BEHAVIOR,
    NEEDS_HASH_SUFFIX,
)

Behavior = Literal["create", "merge", "replace"]
BEHAVIORS: tuple[Behavior, ...] = ("create", "merge", "replace")

_ENTRY_FIELDS = {"name", "namespace", "behavior", "literals", "files", "envs", "env", "options"}
_OPTION_FIELDS = {"labels", "annotations", "disableNameSuffixHash", "immutable"}
_KEY_PATTERN = re.compile(r"[-._a-zA-Z0-9]+")
_MAX_KEY_LENGTH = 253
_BASE64_LINE = 70
_BOM = "\ufeff"
# Go's unicode.IsSpace; Python's str.isspace also counts the ASCII separators 0x1c-0x1f.
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)


@dataclass(frozen=True)
class Generated:
    """One generated ConfigMap or Secret, before any merge and before its hash suffix."""

    object: Object
    behavior: Behavior
    hash_suffix: bool

    def annotated(self) -> Object:
        """The object carrying kustomize's build annotations for its behavior and hash flag."""
        meta = dict(self.object.get("metadata") or {})
        annotations = dict(meta.get("annotations") or {})
        annotations[GENERATOR_BEHAVIOR] = self.behavior
        if self.hash_suffix:
            annotations[NEEDS_HASH_SUFFIX] = ENABLED
        meta["annotations"] = dict(sorted(annotations.items()))
        return {**self.object, "metadata": meta}


@dataclass(frozen=True)
class _Where:
    """Where an entry sits, to point errors at the kustomization file and line."""

    file: Path
    document: Document | None
    path: FieldPath
    label: str

    def error(self, message: str, sub: FieldPath = (), hint: str | None = None) -> SourceError:
        text = f"{self.label}: {message}"
        if self.document is not None:
            return self.document.error((*self.path, *sub), text, hint)
        return SourceError(self.file, text, field=(*self.path, *sub), hint=hint)


def generate(
    entries: Sequence[Mapping[str, Any]],
    kind: str,
    base_dir: Path,
    options: Mapping[str, Any] | None,
    *,
    read: Callable[[Path], bytes],
    document: Document | None = None,
) -> list[Generated]:
    """The objects of a kustomization's ``configMapGenerator`` (kind ``ConfigMap``) or
    ``secretGenerator`` (kind ``Secret``) entries.

    ``base_dir`` is the kustomization's directory; file paths are relative to it and read
    only through ``read``, which enforces the load restrictor. ``options`` is the
    kustomization's ``generatorOptions``. ``document``, when given, is the loaded
    kustomization, so errors carry its file and line.
    """
    if kind not in ("ConfigMap", "Secret"):
        raise ValueError(f"generators make ConfigMaps and Secrets, not {kind!r}")
    field = "configMapGenerator" if kind == "ConfigMap" else "secretGenerator"
    file = document.file if document is not None else base_dir / "kustomization.yaml"
    global_options = _options(options, _Where(file, document, ("generatorOptions",), field))
    result = []
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, Mapping) else None
        label = f"{field}[{index}]" + (f" ({name})" if isinstance(name, str) and name else "")
        where = _Where(file, document, (field, index), label)
        if not isinstance(entry, Mapping):
            raise where.error("expected a mapping with name, literals, files, envs, …")
        result.append(_generate_one(entry, kind, base_dir, global_options, read=read, where=where))
    return result


def merge_generated(existing: Object, generated: Object, behavior: Behavior) -> Object:
    """``generated`` combined with ``existing``, the object of the same id from a base.

    Both behaviors keep the existing object's name and namespace (it may carry a base's
    prefix) and merge labels and annotations, the generator's winning. ``merge`` also
    merges ``data`` and ``binaryData`` (a base Secret's ``stringData`` counts as data);
    ``replace`` keeps only the generator's data. Every other field is the generator's.
    The result needs a hash suffix only if both ``existing`` and the generator did: with
    ``Generated.annotated()`` objects that falls out of the annotations, as in kustomize.
    """
    if behavior not in ("merge", "replace"):
        raise ValueError(f"only merge and replace combine with an existing object: {behavior}")
    old_meta: Mapping[str, Any] = existing.get("metadata") or {}
    new_meta: Mapping[str, Any] = generated.get("metadata") or {}
    result: Object = {k: v for k, v in generated.items() if k not in ("data", "binaryData")}
    meta = {k: v for k, v in new_meta.items() if k not in ("labels", "annotations")}
    meta["name"] = old_meta.get("name", new_meta.get("name"))
    if old_meta.get("namespace"):
        meta["namespace"] = old_meta["namespace"]
    else:
        meta.pop("namespace", None)
    labels = _text_map({**(old_meta.get("labels") or {}), **(new_meta.get("labels") or {})})
    annotations = _merge_annotations(
        old_meta.get("annotations") or {}, new_meta.get("annotations") or {}
    )
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    result["metadata"] = meta
    data: Mapping[str, Any] = generated.get("data") or {}
    binary: Mapping[str, Any] = generated.get("binaryData") or {}
    if behavior == "merge":
        old_data = dict(existing.get("data") or {})
        if generated.get("kind") == "Secret" and isinstance(existing.get("stringData"), dict):
            for key, text in existing["stringData"].items():
                old_data[key] = _base64(_scalar_text(text).encode())
        data = {**old_data, **data}
        binary = {**(existing.get("binaryData") or {}), **binary}
    # kustomize drops an empty data map rather than writing `data: {}`.
    if data:
        result["data"] = _text_map(data)
    if binary:
        result["binaryData"] = _text_map(binary)
    return result


def merged_hash_suffix(existing_needs_suffix: bool, generated: Generated) -> bool:
    """Whether the result of ``merge_generated`` still gets a hash suffix."""
    return existing_needs_suffix and generated.hash_suffix


def _merge_annotations(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, str]:
    # Build annotations (previous names, hash flag, …) describe the existing object's
    # history, so they come from it alone; the hash flag also needs the generator's.
    merged = _text_map({**old, **new})
    for key in BUILD_ANNOTATIONS:
        if key in old:
            merged[key] = _scalar_text(old[key])
        else:
            merged.pop(key, None)
    if NEEDS_HASH_SUFFIX not in new:
        merged.pop(NEEDS_HASH_SUFFIX, None)
    return dict(sorted(merged.items()))


def _text_map(values: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): _scalar_text(values[k]) for k in sorted(values, key=str)}


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _generate_one(
    entry: Mapping[str, Any],
    kind: str,
    base_dir: Path,
    global_options: _Options,
    *,
    read: Callable[[Path], bytes],
    where: _Where,
) -> Generated:
    allowed = _ENTRY_FIELDS | ({"type"} if kind == "Secret" else set())
    for key in entry:
        if key not in allowed:
            raise where.error(
                f"unknown field {key!r}", (str(key),), hint=f"use one of {sorted(allowed)}"
            )
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise where.error("a name is required", ("name",))
    behavior = entry.get("behavior") or "create"
    if behavior not in BEHAVIORS:
        raise where.error(
            f"behavior must be create, merge or replace, not {behavior!r}", ("behavior",)
        )
    options = _options(entry.get("options"), where, ("options",)).over(global_options)
    meta: dict[str, Any] = {"name": name}
    namespace = _optional_text(entry, "namespace", where)
    if namespace:
        meta["namespace"] = namespace
    if options.labels:
        meta["labels"] = dict(sorted(options.labels.items()))
    if options.annotations:
        meta["annotations"] = dict(sorted(options.annotations.items()))
    obj: Object = {"apiVersion": "v1", "kind": kind, "metadata": meta}
    pairs = sorted(_pairs(entry, base_dir, read, where).items())
    if kind == "Secret":
        obj["type"] = _optional_text(entry, "type", where) or "Opaque"
        obj["data"] = {key: _base64(value) for key, value in pairs}
    else:
        obj.update(_config_map_data(pairs))
    if options.immutable:
        obj["immutable"] = True
    return Generated(obj, behavior, not options.disable_name_suffix_hash)


def _config_map_data(pairs: Sequence[tuple[str, bytes]]) -> dict[str, dict[str, str]]:
    """``data`` for UTF-8 text, ``binaryData`` (base64) for anything else."""
    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    for key, value in pairs:
        try:
            data[key] = value.decode("utf-8")
        except UnicodeDecodeError:
            binary[key] = _base64(value)
    fields = {}
    if data:
        fields["data"] = data
    if binary:
        fields["binaryData"] = binary
    return fields


def _pairs(
    entry: Mapping[str, Any],
    base_dir: Path,
    read: Callable[[Path], bytes],
    where: _Where,
) -> dict[str, bytes]:
    """Every key and value, in kustomize's order: env files, literals, files."""
    found: list[tuple[str, bytes, FieldPath]] = []
    envs = _text_list(entry, "envs", where)
    if "env" in entry:
        envs.append((_optional_text(entry, "env", where), ("env",)))
    for env_path, field in envs:
        content = _read(read, base_dir, env_path, where, field)
        found.extend(
            (key, value, field) for key, value in _parse_env(content, env_path, where, field)
        )
    for literal, field in _text_list(entry, "literals", where):
        key, text = _parse_literal(literal, where, field)
        found.append((key, text.encode(), field))
    for source, field in _text_list(entry, "files", where):
        key, file_path = _parse_file_source(source, where, field)
        found.append((key, _read(read, base_dir, file_path, where, field), field))
    pairs: dict[str, bytes] = {}
    for key, value, field in found:
        _check_key(key, where, field)
        if key in pairs:
            raise where.error(
                f"key {key!r} appears more than once",
                field,
                hint="each key may come from only one literal, file or env line",
            )
        pairs[key] = value
    return pairs


def _parse_env(
    content: bytes, env_path: str, where: _Where, field: FieldPath
) -> list[tuple[str, bytes]]:
    pairs = []
    lines = content.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, raw in enumerate(lines, start=1):
        raw_line = raw[:-1] if raw.endswith(b"\r") else raw
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError:
            raise where.error(
                f"{env_path}:{number}: not valid UTF-8", field, hint="env files hold text"
            ) from None
        if number == 1:
            line = line.removeprefix(_BOM)
        line = line.lstrip(_GO_SPACE)
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if not _KEY_PATTERN.fullmatch(key):
            raise where.error(
                f"{env_path}:{number}: {key!r} is not a valid key",
                field,
                hint="write KEY=VALUE lines; a key uses letters, digits, '-', '_' and '.'",
            )
        pairs.append((key, value.encode()))
    return pairs


def _parse_literal(literal: str, where: _Where, field: FieldPath) -> tuple[str, str]:
    key, sep, value = literal.partition("=")
    if not sep or not key:
        raise where.error(f"invalid literal {literal!r}, expected KEY=VALUE", field)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return key, value


def _parse_file_source(source: str, where: _Where, field: FieldPath) -> tuple[str, str]:
    separators = source.count("=")
    if separators == 0:
        return posixpath.basename(source.rstrip("/")) or source, source
    if separators > 1:
        raise where.error(f"file source {source!r}: the key or the path contains '='", field)
    key, _, path = source.partition("=")
    if not key:
        raise where.error(f"file source {source!r}: missing key before '='", field)
    if not path:
        raise where.error(f"file source {source!r}: missing path after '='", field)
    return key, path


def _read(
    read: Callable[[Path], bytes], base_dir: Path, path: str, where: _Where, field: FieldPath
) -> bytes:
    try:
        return read(base_dir / path)
    except HakobuError:
        raise
    except FileNotFoundError:
        raise where.error(
            f"file {path!r} does not exist (relative to {base_dir})",
            field,
            hint="paths are relative to the kustomization's directory",
        ) from None
    except OSError as e:
        raise where.error(f"cannot read {path!r}: {e.strerror or e}", field) from None


def _check_key(key: str, where: _Where, field: FieldPath) -> None:
    problem = None
    if len(key) > _MAX_KEY_LENGTH:
        problem = f"is longer than {_MAX_KEY_LENGTH} characters"
    elif not _KEY_PATTERN.fullmatch(key):
        problem = "may only contain letters, digits, '-', '_' and '.'"
    elif key in (".", "..") or key.startswith(".."):
        problem = "may not be '.' or '..' or start with '..'"
    if problem:
        raise where.error(f"key {key!r} {problem}", field, hint="rename the key (key=path)")


def _base64(value: bytes) -> str:
    encoded = base64.b64encode(value).decode("ascii")
    if len(encoded) < _BASE64_LINE:
        return encoded
    return "".join(
        encoded[i : i + _BASE64_LINE] + "\n" for i in range(0, len(encoded), _BASE64_LINE)
    )


def _optional_text(entry: Mapping[str, Any], key: str, where: _Where) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise where.error(f"expected a string, got {type(value).__name__}", (key,))
    return value


def _text_list(entry: Mapping[str, Any], key: str, where: _Where) -> list[tuple[str, FieldPath]]:
    value = entry.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.error("expected a list of strings", (key,))
    items: list[tuple[str, FieldPath]] = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise where.error(f"expected a string, got {type(item).__name__}", (key, index))
        items.append((item, (key, index)))
    return items


@dataclass(frozen=True)
class _Options:
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    disable_name_suffix_hash: bool
    immutable: bool

    def over(self, outer: _Options) -> _Options:
        """These options with the kustomization-wide ones filling the gaps."""
        return _Options(
            {**outer.labels, **self.labels},
            {**outer.annotations, **self.annotations},
            self.disable_name_suffix_hash or outer.disable_name_suffix_hash,
            self.immutable or outer.immutable,
        )


def _options(raw: Any, where: _Where, path: FieldPath = ()) -> _Options:
    if raw is None:
        return _Options({}, {}, False, False)
    if not isinstance(raw, Mapping):
        raise where.error("expected a mapping of options", path)
    for key in raw:
        if key not in _OPTION_FIELDS:
            raise where.error(
                f"unknown option {key!r}", (*path, str(key)), hint=f"use {sorted(_OPTION_FIELDS)}"
            )
    flags = {}
    for flag in ("disableNameSuffixHash", "immutable"):
        value = raw.get(flag, False)
        if not isinstance(value, bool):
            raise where.error("expected true or false", (*path, flag))
        flags[flag] = value
    return _Options(
        _string_map(raw.get("labels"), where, (*path, "labels")),
        _string_map(raw.get("annotations"), where, (*path, "annotations")),
        flags["disableNameSuffixHash"],
        flags["immutable"],
    )


def _string_map(raw: Any, where: _Where, path: FieldPath) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise where.error("expected a mapping of strings", path)
    result = {}
    for key, value in raw.items():
        if not isinstance(value, str):
            raise where.error(
                f"expected a string, got {type(value).__name__}",
                (*path, str(key)),
                hint='quote the value, e.g. "true" or "8080"',
            )
        result[str(key)] = value
    return result
