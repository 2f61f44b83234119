"""``replacements``: copy a field of one object into fields of others, as kustomize does.

Each replacement takes one value, from ``sourceValue`` or from the field ``fieldPath``
(default ``metadata.name``) of the single object its ``source`` selects, optionally one
``delimiter``-separated part of it, and writes it into every ``fieldPaths`` entry of every
object its targets select. Replacements apply in order, each seeing the previous ones'
results.

Field paths are ``.``-separated (``\\.`` escapes a dot; ``[a.b]`` keeps a dotted key whole).
A part may be a list index (``0``), every element (``*``), or an element selector
``[name=web]``. kustomize reads sources with exact element matches but matches target
elements with an unanchored regular expression, so ``[name=web]`` in a target also picks
``webhook``; that is reproduced. A path running into a string that holds JSON or YAML
continues inside it, and the string is written back in its format (JSON sorted and compact,
or indented by two spaces when it was).

Targets select and reject by group, version, kind, name and namespace (anchored regular
expressions) and by label and annotation selectors. An object also answers to the ids it
had before renames (see ``resource.prev_ids``).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.model.source import SourceError, safe_load_one
from hakobu.render.kustomize.hashing import go_json
from hakobu.render.kustomize.resource import Gvk, ResId, all_ids, annotations_of

DEFAULT_FIELD_PATH = "metadata.name"
_SELECTOR_FIELDS = ("group", "version", "kind", "name", "namespace")


class ReplacementError(InvalidInput):
    """A replacement that cannot be carried out as written."""


# A node kustomize creates without a type: its final text decides its type on output.
_CREATED = object()


# ---------------------------------------------------------------------------------------------
# field paths


def split_path(path: str, delimiter: str = ".") -> list[str]:
    """kustomize's path splitter: escaped delimiters stay, ``[a.b]`` stays whole."""
    pieces = path.split(delimiter)
    if len(pieces) > 1 and pieces[0] == "":
        pieces = pieces[1:]
    parts = [pieces[0]]
    for piece in pieces[1:]:
        if parts[-1].endswith("\\"):
            parts[-1] = parts[-1][:-1] + delimiter + piece
        else:
            parts.append(piece)
    result: list[str] = []
    index = 0
    while index < len(parts):
        part = parts[index]
        if part.startswith("[") and not part.endswith("]"):
            bracketed = [part]
            while index < len(parts) - 1:
                index += 1
                bracketed.append(parts[index])
                if parts[index].endswith("]"):
                    break
            joined = delimiter.join(bracketed)
            result.append(joined if "=" in joined else joined.strip("[]"))
        else:
            result.append(part)
        index += 1
    return result


def lookup(node: Any, parts: Sequence[str]) -> tuple[bool, Any]:
    """Follow ``parts`` exactly as kustomize reads a field: ``(found, value)``."""
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if part == "*":
            raise ValueError("wildcard is not supported when reading a field")
        if _is_index(part) or part == "-":
            if not isinstance(node, list) or not node:
                return False, None
            position = -1 if part == "-" else int(part)
            if position >= len(node):
                return False, None
            node = node[position]
        elif part.startswith("[") and part.endswith("]"):
            key, value = _split_element(part)
            if not isinstance(node, list):
                return False, None
            node = next((e for e in node if _element_equals(e, key, value)), _MISSING)
            if node is _MISSING:
                return False, None
        else:
            if not isinstance(node, dict) or part not in node:
                return False, None
            node = node[part]
    return True, node


_MISSING = object()


def _is_index(part: str) -> bool:
    return part.isascii() and part.isdigit()


def _split_element(part: str) -> tuple[str, str]:
    key, sep, value = part[1:-1].partition("=")
    if not sep:
        raise ReplacementError(f"list element selector {part!r} must be [field=value] or [=value]")
    return key, value


def _element_equals(element: Any, key: str, value: str) -> bool:
    if not key:
        return not isinstance(element, dict | list) and scalar_text(element) == value
    return isinstance(element, dict) and key in element and scalar_text(element[key]) == value


def scalar_text(value: Any) -> str:
    """A scalar's text as it appears in YAML (what kustomize copies between fields)."""
    if value is None or value is _CREATED:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, dict | list):
        return ""
    return str(value)


def _float_text(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)


def resolve_plain(text: str) -> Any:
    """The value a plain (untagged) YAML scalar with this text has."""
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return int(text)
    if re.fullmatch(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?", text):
        return float(text)
    return text


# ---------------------------------------------------------------------------------------------
# selection


@dataclass(frozen=True)
class _Selector:
    gvk: Gvk
    name: str
    namespace: str
    label_selector: str
    annotation_selector: str

    @property
    def id_empty(self) -> bool:
        return not (self.gvk.group or self.gvk.version or self.gvk.kind or self.name) and not (
            self.namespace
        )

    def matches_id(self, rid: ResId) -> bool:
        """Anchored regular expressions, as for targets."""
        pairs = (
            (self.gvk.group, rid.gvk.group),
            (self.gvk.version, rid.gvk.version),
            (self.gvk.kind, rid.gvk.kind),
            (self.name, rid.name),
            (self.namespace, rid.namespace),
        )
        return all(not pattern or _full_match(pattern, text) for pattern, text in pairs)

    def selects_exactly(self, rid: ResId) -> bool:
        """Plain equality, as for sources."""
        if self.name and self.name != rid.name:
            return False
        if self.namespace:
            mine = ResId(self.gvk, self.name, self.namespace)
            if mine.effective_namespace != rid.effective_namespace:
                return False
        return rid.gvk.selected_by(self.gvk)

    def matches_metadata(self, obj: Object) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return matches_selector(self.label_selector, _texts(labels)) and matches_selector(
            self.annotation_selector, annotations_of(obj)
        )

    def __str__(self) -> str:
        rid = ResId(self.gvk, self.name, self.namespace)
        return f"{rid}:a={self.annotation_selector}:l={self.label_selector}"


def _texts(values: Mapping[Any, Any]) -> dict[str, str]:
    return {str(k): scalar_text(v) for k, v in values.items()}


def _full_match(pattern: str, text: str) -> bool:
    try:
        return re.fullmatch(f"(?:{pattern})", text) is not None
    except re.error as e:
        raise ReplacementError(f"invalid regular expression {pattern!r}: {e}") from None


def _selector(raw: Any, where: str) -> _Selector:
    if not isinstance(raw, Mapping):
        raise ReplacementError(f"{where}: expected a mapping (kind, name, …)")
    values = {}
    for key in (*_SELECTOR_FIELDS, "labelSelector", "annotationSelector"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise ReplacementError(f"{where}.{key}: expected a string")
        values[key] = value or ""
    gvk = Gvk(values["group"], values["version"], values["kind"])
    return _Selector(
        gvk,
        values["name"],
        values["namespace"],
        values["labelSelector"],
        values["annotationSelector"],
    )


# ---------------------------------------------------------------------------------------------
# label selectors (Kubernetes syntax)

_REQUIREMENT = re.compile(
    r"\s*(?:(?P<not>!)\s*(?P<absent>[^\s,=!<>()]+)"
    r"|(?P<key>[^\s,=!<>()]+)\s*(?:"
    r"(?P<op>==|=|!=)\s*(?P<value>[^\s,=!()]*)"
    r"|(?P<cmp>[<>])\s*(?P<number>-?[0-9]+)"
    r"|(?P<setop>in|notin)\s*\((?P<set>[^()]*)\)"
    r")?)\s*(?:,|$)"
)


def matches_selector(selector: str, values: Mapping[str, str]) -> bool:
    """Whether ``values`` (labels or annotations) satisfy a Kubernetes label selector."""
    if not selector.strip():
        return True
    position = 0
    while position < len(selector):
        found = _REQUIREMENT.match(selector, position)
        if found is None or found.end() == position:
            raise ReplacementError(
                f"invalid selector {selector!r} near {selector[position:]!r}",
                hint="write key=value, key!=value, key in (a,b), key notin (a), key or !key",
            )
        if not _requirement_holds(found, values):
            return False
        position = found.end()
    return True


def _requirement_holds(found: re.Match[str], values: Mapping[str, str]) -> bool:
    if found["not"]:
        return found["absent"] not in values
    key = found["key"]
    if found["op"]:
        equal = values.get(key) == found["value"]
        return equal if found["op"] != "!=" else not equal
    if found["cmp"]:
        try:
            number = int(values.get(key, ""))
        except ValueError:
            return False
        limit = int(found["number"])
        return number > limit if found["cmp"] == ">" else number < limit
    if found["setop"]:
        members = {item.strip() for item in found["set"].split(",")}
        inside = key in values and values[key] in members
        return inside if found["setop"] == "in" else not inside
    return key in values


# ---------------------------------------------------------------------------------------------
# replacements


def apply_replacements(
    objects: list[Object],
    replacements: Sequence[Mapping[str, Any]],
    *,
    where: str = "replacements",
    ids: Callable[[Object], list[ResId]] = all_ids,
) -> list[Object]:
    """``objects`` (copied, never changed in place) with every replacement applied in order.

    ``where`` names the replacements in errors (e.g. ``overlays/prod/kustomization.yaml:
    replacements``); ``ids`` gives every id an object answers to.
    """
    result = copy.deepcopy(objects)
    for index, replacement in enumerate(replacements):
        label = f"{where}[{index}]"
        if not isinstance(replacement, Mapping):
            raise ReplacementError(f"{label}: expected a mapping with source and targets")
        value = _source_value(result, replacement, label, ids)
        targets = replacement.get("targets")
        if not isinstance(targets, list) or not targets:
            raise ReplacementError(f"{label}: replacements must specify a source and targets")
        for number, target in enumerate(targets):
            _apply_target(result, value, target, f"{label}.targets[{number}]", ids)
    return result


def _source_value(
    objects: list[Object],
    replacement: Mapping[str, Any],
    label: str,
    ids: Callable[[Object], list[ResId]],
) -> Any:
    source = replacement.get("source")
    if "sourceValue" in replacement:
        if source is not None:
            raise ReplacementError(f"{label}: source and sourceValue are mutually exclusive")
        return scalar_text(replacement["sourceValue"])
    if source is None:
        raise ReplacementError(f"{label}: replacements must specify a source and targets")
    selector = _selector(source, f"{label}.source")
    matches = [obj for obj in objects if any(selector.selects_exactly(i) for i in ids(obj))]
    if not matches:
        raise ReplacementError(
            f"{label}: nothing selected by source {selector}",
            hint="check the source's kind, name and namespace against the built objects",
        )
    if len(matches) > 1:
        raise ReplacementError(
            f"{label}: source {selector} selects {len(matches)} objects",
            hint="add a namespace, kind or group so exactly one object matches",
        )
    field_path = source.get("fieldPath") or DEFAULT_FIELD_PATH
    try:
        found, value = lookup(matches[0], split_path(field_path))
    except ValueError as e:
        raise ReplacementError(f"{label}.source.fieldPath: {e}") from None
    if not found or value is None or value in ({}, []):
        raise ReplacementError(
            f"{label}: fieldPath `{field_path}` is missing for replacement source {selector}"
        )
    delimiter, index, _ = _options(source.get("options"), f"{label}.source.options")
    if not delimiter:
        return copy.deepcopy(value)
    if isinstance(value, dict | list):
        raise ReplacementError(f"{label}: delimiter option can only be used with scalar nodes")
    parts = scalar_text(value).split(delimiter)
    if index < 0 or index >= len(parts):
        raise ReplacementError(
            f"{label}: options.index {index} is out of bounds for value {scalar_text(value)}"
        )
    return parts[index]


def _options(raw: Any, where: str) -> tuple[str, int, bool]:
    if raw is None:
        return "", 0, False
    if not isinstance(raw, Mapping):
        raise ReplacementError(f"{where}: expected a mapping (delimiter, index, create)")
    delimiter = raw.get("delimiter") or ""
    index = raw.get("index") or 0
    create = raw.get("create") or False
    if not isinstance(delimiter, str) or not isinstance(index, int) or isinstance(index, bool):
        raise ReplacementError(f"{where}: delimiter must be a string and index a number")
    if not isinstance(create, bool):
        raise ReplacementError(f"{where}.create: expected true or false")
    return delimiter, index, create


def _apply_target(
    objects: list[Object],
    value: Any,
    target: Any,
    label: str,
    ids: Callable[[Object], list[ResId]],
) -> None:
    if not isinstance(target, Mapping) or target.get("select") is None:
        raise ReplacementError(f"{label}: target must specify resources to select")
    select = _selector(target["select"], f"{label}.select")
    rejects = [
        _selector(raw, f"{label}.reject[{n}]") for n, raw in enumerate(target.get("reject") or [])
    ]
    field_paths = target.get("fieldPaths") or [DEFAULT_FIELD_PATH]
    if not isinstance(field_paths, list) or not all(isinstance(p, str) for p in field_paths):
        raise ReplacementError(f"{label}.fieldPaths: expected a list of strings")
    options = _options(target.get("options"), f"{label}.options")
    for obj in objects:
        if not select.matches_metadata(obj):
            continue
        if any(
            (r.label_selector or r.annotation_selector) and r.matches_metadata(obj) for r in rejects
        ):
            continue
        obj_ids = ids(obj)
        if any(not r.id_empty and r.matches_id(i) for r in rejects for i in obj_ids):
            continue
        if any(select.matches_id(i) for i in obj_ids):
            for field_path in field_paths:
                _copy_into(obj, value, field_path, options, label)


def _copy_into(
    obj: Object, value: Any, field_path: str, options: tuple[str, int, bool], label: str
) -> None:
    parts = split_path(field_path)
    create = options[2]
    try:
        if _set_in_embedded_document(obj, value, parts, options):
            return
        slots = _match(obj, parts, create, value)
    except _PathError as e:
        raise ReplacementError(f"{label}: {e} (fieldPath {field_path!r})") from None
    if not slots:
        verb = "find or create" if create else "find"
        raise ReplacementError(
            f"{label}: unable to {verb} field {field_path!r} in replacement target",
            hint=None if create else "set options.create: true to add the field",
        )
    for parent, key in slots:
        parent[key] = _new_value(parent[key], value, options, label)


def _new_value(current: Any, value: Any, options: tuple[str, int, bool], label: str) -> Any:
    delimiter, index, _ = options
    if delimiter:
        if isinstance(current, dict | list):
            raise ReplacementError(f"{label}: delimiter option can only be used with scalars")
        parts = scalar_text(current).split(delimiter)
        text = scalar_text(value)
        if index < 0:
            parts.insert(0, text)
        elif index >= len(parts):
            parts.append(text)
        else:
            parts[index] = text
        value = delimiter.join(parts)
    if isinstance(current, dict | list):
        return copy.deepcopy(value)
    # A scalar target keeps its type and takes only the text: kustomize copies the value
    # into the existing node, leaving its tag, so "3" into replicas stays a number.
    return _typed_like(current, scalar_text(value))


def _typed_like(current: Any, text: str) -> Any:
    if isinstance(current, str):
        return text
    resolved = resolve_plain(text)
    if current is _CREATED or current is None:
        return resolved
    if isinstance(current, bool):
        return resolved if isinstance(resolved, bool) else text
    if isinstance(current, int | float):
        return resolved if isinstance(resolved, int | float) and resolved is not True else text
    return text


class _PathError(Exception):
    pass


def _match(node: Any, parts: Sequence[str], create: bool, value: Any) -> list[tuple[Any, Any]]:
    """The (container, key) slots a target path reaches, creating missing parts if asked."""
    root = [node]
    return _match_in(root, 0, list(parts), create, _kind_of(value))


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "seq"
    return "scalar"


def _empty(kind: str) -> Any:
    return {} if kind == "map" else [] if kind == "seq" else _CREATED


def _kind_before(next_part: str | None, default: str) -> str:
    if next_part is None:
        return default
    if _is_index(next_part) or (next_part.startswith("[") and next_part.endswith("]")):
        return "seq"
    return "map"


def _match_in(
    parent: Any, key: Any, parts: list[str], create: bool, kind: str
) -> list[tuple[Any, Any]]:
    if not parts:
        return [(parent, key)]
    node = parent[key]
    part, rest = parts[0], parts[1:]
    if _is_index(part):
        return _match_index(node, part, rest, create, kind)
    if part.startswith("[") and part.endswith("]"):
        return _match_elements(node, part, rest, create, kind)
    if part == "*":
        if not isinstance(node, list):
            raise _PathError(f"'*' needs a list, found {_describe(node)}")
        return [slot for i in range(len(node)) for slot in _match_in(node, i, rest, create, kind)]
    return _match_field(node, part, rest, create, kind)


def _match_field(
    node: Any, part: str, rest: list[str], create: bool, kind: str
) -> list[tuple[Any, Any]]:
    if not isinstance(node, dict):
        return []
    if part not in node:
        if not create:
            return []
        node[part] = _empty(_kind_before(rest[0] if rest else None, kind))
    if rest and isinstance(node[part], str):
        # kustomize parses the string and looks inside a copy, so nothing is written back.
        try:
            embedded = safe_load_one(part, node[part])
        except SourceError as e:
            raise _PathError(f"{part!r} holds text that is not YAML: {e.message}") from None
        return _match_in([embedded], 0, rest, create, kind)
    return _match_in(node, part, rest, create, kind)


def _match_index(
    node: Any, part: str, rest: list[str], create: bool, kind: str
) -> list[tuple[Any, Any]]:
    if not isinstance(node, list):
        raise _PathError(f"{part!r} indexes a list, found {_describe(node)}")
    position = int(part)
    if position == len(node) and create:
        node.append(_empty(_kind_before(rest[0] if rest else None, kind)))
    if position >= len(node):
        raise _PathError(f"index {position} specified but only {len(node)} elements found")
    return _match_in(node, position, rest, create, kind)


def _match_elements(
    node: Any, part: str, rest: list[str], create: bool, kind: str
) -> list[tuple[Any, Any]]:
    if not isinstance(node, list):
        raise _PathError(f"{part!r} selects list elements, found {_describe(node)}")
    try:
        field, pattern = _split_element(part)
    except ReplacementError as e:
        raise _PathError(e.message) from None
    try:
        regex = re.compile(pattern)
    except re.error as e:
        raise _PathError(f"invalid regular expression in {part!r}: {e}") from None
    slots: list[tuple[Any, Any]] = []
    for index, element in enumerate(node):
        if not field:
            if regex.search(_element_text(element)):
                slots.append((node, index))
        elif (
            isinstance(element, dict)
            and element.get(field) is not None
            and regex.search(_element_text(element[field]))
        ):
            slots.extend(_match_in(node, index, rest, create, kind))
    if slots or not create:
        return slots
    node.append(resolve_plain(pattern) if not field else {field: resolve_plain(pattern)})
    return _match_elements(node, part, rest, create, kind)


def _element_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return yaml.safe_dump(value, default_flow_style=False, sort_keys=False).strip()
    return scalar_text(value)


def _describe(node: Any) -> str:
    if isinstance(node, dict):
        return "a mapping"
    if isinstance(node, list):
        return "a list"
    return f"the scalar {scalar_text(node)!r}"


def _set_in_embedded_document(
    obj: Object, value: Any, parts: Sequence[str], options: tuple[str, int, bool]
) -> bool:
    """Set a field inside a string holding JSON or YAML, if the path leads into one."""
    for length in range(1, len(parts)):
        try:
            found, text = lookup(obj, parts[:length])
        except (ValueError, ReplacementError):
            continue
        if not found or not isinstance(text, str):
            continue
        try:
            document = safe_load_one(parts[length - 1], text)
        except SourceError:
            continue
        if not isinstance(document, dict | list):
            return False
        holder = [document]
        try:
            slots = _match_in(holder, 0, list(parts[length:]), options[2], _kind_of(value))
        except _PathError:
            return False
        if not slots:
            return False
        for parent, key in slots:
            parent[key] = _new_value(parent[key], value, options, "replacement")
        _store(obj, parts[:length], _serialise_like(holder[0], text))
        return True
    return False


def _store(obj: Object, parts: Sequence[str], text: str) -> None:
    """Write ``text`` where ``parts`` (a path ``lookup`` just followed) leads."""
    container = lookup(obj, parts[:-1])[1]
    last = parts[-1].strip()
    if isinstance(container, dict):
        container[last] = text
    elif last == "-":
        container[-1] = text
    elif _is_index(last):
        container[int(last)] = text
    else:
        key, value = _split_element(last)
        position = next(i for i, e in enumerate(container) if _element_equals(e, key, value))
        container[position] = text


def _serialise_like(document: Any, original: str) -> str:
    if original.strip()[:1] in ("{", "["):
        if "\n" in original and "  " in original:
            return _go_json_indent(document, "")
        return go_json(document)
    return yaml.safe_dump(
        document, default_flow_style=False, sort_keys=False, allow_unicode=True
    ).strip()


def _go_json_indent(value: Any, indent: str) -> str:
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = sorted((str(k), v) for k, v in value.items())
        body = ",\n".join(f"{inner}{go_json(k)}: {_go_json_indent(v, inner)}" for k, v in items)
        return "{\n" + body + "\n" + indent + "}"
    if isinstance(value, list) and value:
        body = ",\n".join(f"{inner}{_go_json_indent(v, inner)}" for v in value)
        return "[\n" + body + "\n" + indent + "]"
    return go_json(value)
