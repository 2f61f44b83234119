"""JSON 6902 patches as a platform base writes them: kustomize's ``patches:`` entries.

An entry of a base's ``patches`` that has a ``target`` holds a JSON patch (RFC 6902), inline
(``patch``, a string, as kustomize takes it) or in a file of the base's directory
(``path``)::

    patches:
      - target: {kind: Deployment}
        patch: |-
          - op: add
            path: /spec/template/spec/containers/0/args/-
            value: --log-format=json
      - target: {kind: Ingress, labelSelector: "example.com/public=true"}
        path: patches/ingress-class.yaml

``target`` selects objects as kustomize's does (``group``, ``version``, ``kind``, ``name``,
``namespace`` as anchored regular expressions; ``labelSelector``, ``annotationSelector``).
Each operation is checked when the base is read, and keeps the file, line and field it was
written at, so an operation that does not apply to an app's object is reported there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from hakobu.model.source import (
    Document,
    FieldPath,
    SourceError,
    format_field,
    load_documents,
    load_one,
)

OPERATIONS = ("add", "remove", "replace", "move", "copy", "test")
TARGET_FIELDS = (
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
)
_ENTRY_FIELDS = ("target", "patch", "path")
_HINT = "a JSON patch is a list of {op, path, value}, such as [{op: add, path: /spec/paused}]"


@dataclass(frozen=True)
class Operation:
    """One operation and where it is written."""

    body: dict[str, Any]
    file: Path
    line: int | None
    field: FieldPath


@dataclass(frozen=True)
class JsonPatch:
    """A base's JSON patch: the objects it selects and its operations."""

    target: dict[str, str]
    # Empty until the base is loaded when they are in a file (``path``).
    operations: tuple[Operation, ...]
    path: PurePosixPath | None
    file: Path
    line: int | None
    field: FieldPath

    def error(self, message: str, *, hint: str | None = None) -> SourceError:
        return SourceError(self.file, message, line=self.line, field=self.field, hint=hint)


def is_json_patch_entry(item: Any) -> bool:
    """Whether a ``patches`` entry is written as kustomize's (target, patch or path) rather
    than as a partial object."""
    return isinstance(item, dict) and "kind" not in item and any(k in item for k in _ENTRY_FIELDS)


def parse_entry(document: Document, text: str, field: FieldPath, item: dict[str, Any]) -> JsonPatch:
    """The entry of ``document`` (whose file holds ``text``) at ``field``; inline
    operations are read and checked here."""
    for key in item:
        if key not in _ENTRY_FIELDS:
            raise document.error(
                (*field, key),
                "unknown field",
                hint="a JSON patch entry has target, and patch or path; a strategic merge "
                "patch is a partial object with a kind",
            )
    target = _target(document, (*field, "target"), item.get("target"))
    inline, path = item.get("patch"), item.get("path")
    if (inline is None) == (path is None):
        raise document.error(field, "expected one of patch (inline operations) and path (a file)")
    if path is not None:
        return JsonPatch(
            target,
            (),
            _relative(document, (*field, "path"), path),
            document.file,
            document.line_of(field),
            field,
        )
    if not isinstance(inline, str):
        raise document.error(
            (*field, "patch"),
            "expected the operations as a string, as kustomize takes them",
            hint="write patch: |- and the list of operations below it",
        )
    operations = _inline(document, text, (*field, "patch"), inline)
    return JsonPatch(target, operations, None, document.file, document.line_of(field), field)


def load_operations(file: Path, text: str) -> tuple[Operation, ...]:
    """The operations of a patch file of a base."""
    document = load_one(file, text)
    return check_operations(document, (), document.data, document.line_of)


def check_operations(
    document: Document, field: FieldPath, data: Any, line_of: Callable[[FieldPath], int | None]
) -> tuple[Operation, ...]:
    """Check ``data`` (at ``field`` of ``document``) as a list of operations; ``line_of``
    maps a field below ``field`` to its line in ``document.file``."""

    def fail(where: FieldPath, message: str, hint: str | None = _HINT) -> SourceError:
        return SourceError(document.file, message, line=line_of(where), field=where, hint=hint)

    if not isinstance(data, list) or not data:
        raise fail(field, "expected a list of JSON patch operations")
    found: list[Operation] = []
    for index, item in enumerate(data):
        where = (*field, index)
        if not isinstance(item, dict):
            raise fail(where, "expected an operation: a mapping with op and path")
        name = item.get("op")
        if name not in OPERATIONS:
            raise fail(
                (*where, "op") if "op" in item else where,
                f"unknown JSON patch operation {name!r}" if "op" in item else "expected op",
                hint=f"op is one of: {', '.join(OPERATIONS)}",
            )
        needed = ("path", "from") if name in ("move", "copy") else ("path",)
        for key in needed:
            if not isinstance(item.get(key), str):
                raise fail(
                    (*where, key) if key in item else where,
                    f"expected {key}: a JSON pointer such as /spec/replicas",
                )
        found.append(Operation(dict(item), document.file, line_of(where), where))
    return tuple(found)


def _target(document: Document, field: FieldPath, raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise document.error(
            field,
            "expected a target: the objects the patch applies to",
            hint=f"select by any of: {', '.join(TARGET_FIELDS)} (target: {{kind: Deployment}})",
        )
    for key, value in raw.items():
        if key not in TARGET_FIELDS:
            raise document.error(
                (*field, key), "unknown field", hint=f"a target has: {', '.join(TARGET_FIELDS)}"
            )
        if not isinstance(value, str):
            raise document.error((*field, key), "expected a string")
    return dict(raw)


def _relative(document: Document, field: FieldPath, raw: Any) -> PurePosixPath:
    path = PurePosixPath(raw) if isinstance(raw, str) and raw else None
    if path is None or path.is_absolute() or ".." in path.parts:
        raise document.error(
            field,
            "expected the path of a file in the base's directory",
            hint="write it relative to the directory of base.yaml, such as patches/replicas.yaml",
        )
    return path


def _inline(document: Document, source: str, field: FieldPath, text: str) -> tuple[Operation, ...]:
    """Operations written as a string: their lines are found in the base's file when the
    string is a literal block (``patch: |``), else they are the line of ``patch``."""
    line = document.line_of(field)
    first = _block_start(source, line)

    def line_of(where: FieldPath) -> int | None:
        inner = parsed.line_of(where[len(field) :]) if first is not None else None
        return first + inner - 1 if first is not None and inner is not None else line

    try:
        documents = load_documents(document.file, text)
    except SourceError as e:
        shown = _bare(e)
        at = first + e.line - 1 if first is not None and e.line else line
        raise SourceError(document.file, shown, line=at, field=field, hint=e.hint) from None
    if len(documents) != 1:
        raise SourceError(
            document.file,
            "expected a list of JSON patch operations",
            line=line,
            field=field,
            hint=_HINT,
        )
    parsed = documents[0]
    return check_operations(document, field, parsed.data, line_of)


def _block_start(source: str, line: int | None) -> int | None:
    """The line a literal block whose key is at ``line`` of ``source`` starts on (the
    next), or None when the value is written otherwise."""
    lines = source.splitlines()
    if line is None or not 0 < line <= len(lines):
        return None
    written = lines[line - 1]
    after = written.split(":", 1)[1].strip() if ":" in written else ""
    return line + 1 if after.startswith("|") else None


def _bare(error: SourceError) -> str:
    """``error``'s message without the location it starts with."""
    location = f"{error.file}:{error.line}" if error.line else error.file
    where = f" {format_field(error.field)}:" if error.field else ""
    return error.message.removeprefix(f"{location}:{where} ")
