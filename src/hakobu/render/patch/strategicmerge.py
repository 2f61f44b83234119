"""Strategic merge patches, as kustomize applies them.

kustomize does not use Kubernetes' own strategic-merge code: it walks the target and the
patch together with kyaml's ``merge2`` and the OpenAPI schema it embeds. This module
follows that walk (``kyaml/yaml/walk`` and ``kyaml/yaml/merge2``), so the result equals
``kustomize build``'s, including where kyaml differs from ``kubectl patch``:

- Field schemas come from the embedded Kubernetes v1.21.2 schema (see ``schema``). A kind
  without a schema (a custom resource) is merged without merge keys: maps merge field by
  field, every list in the patch replaces the target's list. A nested object that has no
  schema from its parent but carries a known ``apiVersion`` and ``kind`` uses that type's.
- Lists whose schema has the ``merge`` strategy are merged by their merge keys (several for
  ``x-kubernetes-list-map-keys``, e.g. container ports by ``containerPort`` and
  ``protocol``), lists of primitives with ``merge`` (``finalizers``) are unioned; the
  patch's items come first, then the target's remaining items.
- Directives: ``$patch: delete | replace | merge`` on maps and on lists (as an item
  ``{$patch: ...}``); ``$patch: delete`` on a list item removes it. ``null`` deletes a
  field. ``$patch: replace`` on a list item that the target has keeps the target's item,
  and ``$retainKeys``, ``$setElementOrder/…`` and ``$deleteFromPrimitiveList/…``
  are not directives for kustomize: they are copied into the result like any field.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from hakobu.model.objects import Object, object_ref
from hakobu.model.source import FieldPath, format_field
from hakobu.render.patch import nodes
from hakobu.render.patch.errors import PatchError
from hakobu.render.patch.nodes import Kind, Node, NodeKindError
from hakobu.render.patch.schema import Schema, schema_for_type

_DIRECTIVE = "$patch"


class _Directive(Enum):
    MERGE = "merge"
    REPLACE = "replace"
    DELETE = "delete"


class _PatchProblem(Exception):
    """A problem at a field; turned into a ``PatchError`` that names the object."""

    def __init__(self, path: FieldPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def strategic_merge(target: Object, patch: Object) -> Object | None:
    """Merge ``patch`` into ``target`` as kustomize does; ``None`` if it deletes the object.

    Neither argument is modified. An object that the merge leaves empty is deleted too, as
    in kustomize. Name, kind and namespace are merged like any field: restoring the
    target's (as kustomize does unless the patch options allow a rename or a kind change)
    is the caller's decision.
    """
    try:
        merged = _walk([nodes.to_node(target), nodes.to_node(patch)], None, ())
    except _PatchProblem as e:
        where = format_field(e.path) or "the top level"
        raise PatchError(
            f"strategic merge patch does not apply to {object_ref(target)}: {where}: {e.message}",
            hint="fix the patch so that each field has the same shape as in the object",
        ) from None
    if merged is None or nodes.is_nil_or_empty(merged) or merged.kind is not Kind.MAP:
        return None
    result: Object = nodes.to_data(merged)
    return result


def _walk(sources: list[Node | None], schema: Schema | None, path: FieldPath) -> Node | None:
    """kyaml's ``Walker.Walk`` over ``[target, patch]``: the merged node, or ``None``."""
    schema = schema if schema is not None else _schema_of(sources)
    kind = next((s.kind for s in sources if s is not None and not nodes.is_tagged_null(s)), None)
    try:
        if kind is not None:
            for source in sources:
                nodes.require(source, kind)
    except NodeKindError as e:
        # The first non-null source sets the kind, so only the patch can disagree.
        raise _PatchProblem(
            path, f"the object has a {e.expected.value} here but the patch has a {e.found.value}"
        ) from None
    if kind is None or kind is Kind.MAP:
        return _walk_map(sources, schema, path)
    if kind is Kind.SEQ:
        if schema is not None and schema.merges:
            return _walk_associative_list(sources, schema, path)
        return _origin_or_dest(sources)
    return _origin_or_dest(sources)


def _schema_of(sources: list[Node | None]) -> Schema | None:
    """A nested (or top-level) object with ``apiVersion`` and ``kind`` brings its schema."""
    for source in sources:
        api_version, kind = nodes.field(source, "apiVersion"), nodes.field(source, "kind")
        if nodes.is_nil_or_empty(api_version) or nodes.is_nil_or_empty(kind):
            continue
        found = schema_for_type(nodes.text(api_version), nodes.text(kind))
        if found is not None:
            return found
    return None


def _origin_or_dest(sources: list[Node | None]) -> Node | None:
    """Scalars and lists that are not merged: the patch's value wins when it has one."""
    dest, origin = sources
    return origin if origin is not None else dest


def _walk_map(sources: list[Node | None], schema: Schema | None, path: FieldPath) -> Node | None:
    dest = _visit_map(sources, path)
    sources[0] = dest
    if dest is None:
        return None
    names: dict[str, Any] = {}
    for source in sources:
        for name, key in nodes.field_keys(source).items():
            names.setdefault(name, key)
    for name in sorted(names):
        child_schema = schema.field(name) if schema is not None else None
        values = [nodes.field(source, name) for source in sources]
        value = _walk(values, child_schema, (*path, name))
        nodes.set_field(dest, name, value, names[name])
    return dest


def _visit_map(sources: list[Node | None], path: FieldPath) -> Node | None:
    dest, origin = sources
    if not nodes.is_missing_or_null(dest):
        return _apply_directive(dest, origin, path)
    # A directive kyaml cannot read here is ignored rather than reported.
    try:
        directive = _directive(origin, path)
    except _PatchProblem:
        directive = None
    if directive is _Directive.DELETE:
        return None
    if origin is None and dest is not None:
        # A null in the target that the patch does not mention stays, if it was written
        # (``null``, ``~``); one written as nothing (``key:``) goes, as in kyaml.
        return None if dest.empty else nodes.null_node(keep=True)
    return origin


def _apply_directive(dest: Node | None, origin: Node | None, path: FieldPath) -> Node | None:
    """An existing map or merged list: a null or ``$patch`` in the patch decides."""
    if nodes.is_tagged_null(origin):
        return None
    directive = _directive(origin, path)
    if directive is _Directive.DELETE:
        return None
    if directive is _Directive.REPLACE:
        return origin
    return dest


def _directive(patch: Node | None, path: FieldPath) -> _Directive:
    """The ``$patch`` directive of a patch map or list, removed from the patch once read."""
    if patch is None:
        return _Directive.MERGE
    if patch.kind is Kind.MAP:
        value = nodes.field(patch, _DIRECTIVE)
        if value is None:
            return _Directive.MERGE
        directive = _parse_directive(nodes.text(value), path)
        nodes.clear_field(patch, _DIRECTIVE)
        return directive
    if patch.kind is Kind.SEQ:
        item = next(
            (i for i in patch.items if i.kind is Kind.MAP and nodes.field(i, _DIRECTIVE)), None
        )
        # An item with other fields besides $patch is a directive for that item.
        if item is None or len(item.pairs) > 1:
            return _Directive.MERGE
        name = nodes.text(nodes.field(item, _DIRECTIVE))
        directive = _parse_directive(name, path)
        nodes.element_setter(patch, None, [_DIRECTIVE], [name])
        return directive
    raise _PatchProblem(path, "a $patch directive needs a mapping or a list")


def _parse_directive(name: str, path: FieldPath) -> _Directive:
    try:
        return _Directive(name)
    except ValueError:
        raise _PatchProblem(
            path, f"unknown $patch directive {name!r}; expected delete, replace or merge"
        ) from None


def _walk_associative_list(
    sources: list[Node | None], schema: Schema, path: FieldPath
) -> Node | None:
    dest = _visit_associative_list(sources, path)
    sources[0] = dest
    if dest is None:
        return None
    keys = list(schema.merge_keys)
    values = _element_values(sources, keys, path)
    try:
        if values or keys:
            return _set_elements(sources, values, keys, dest, schema=schema, path=path)
        return _set_elements(
            sources, _primitive_values(sources), [""], dest, schema=schema, path=path
        )
    except NodeKindError as e:
        raise _PatchProblem(path, f"cannot merge the list items: {e}") from None


def _visit_associative_list(sources: list[Node | None], path: FieldPath) -> Node | None:
    dest, origin = sources
    if nodes.is_missing_or_null(dest):
        return origin
    return _apply_directive(dest, origin, path)


def _patch_first(sources: list[Node | None]) -> list[Node]:
    """kustomize prepends the patch's items, so the patch is read before the target."""
    dest, origin = sources
    return [s for s in (origin, dest) if s is not None]


def _element_values(
    sources: list[Node | None], keys: list[str], path: FieldPath
) -> list[list[str]]:
    seen: list[list[str]] = []
    for source in _patch_first(sources):
        try:
            rows = nodes.element_values_list(source, keys)
        except NodeKindError as e:
            raise _PatchProblem(path, str(e)) from None
        for row in rows:
            if row and row not in seen:
                seen.append(row)
    return seen


def _primitive_values(sources: list[Node | None]) -> list[list[str]]:
    seen: list[str] = []
    for source in _patch_first(sources):
        for item in source.items:
            value = nodes.text(item)
            if value not in seen:
                seen.append(value)
    return [[value] for value in seen]


def _valid_keys(
    rows: list[list[str]], values: list[str], keys: list[str]
) -> tuple[list[str], list[str]]:
    """Only the merge keys that some item sets take part in matching (kyaml's validateKeys)."""
    used = {keys[i] for row in rows for i, value in enumerate(row) if value != ""}
    if not used:
        return keys, values
    return (
        [key for key in keys if key in used],
        [value for i, value in enumerate(values) if value != "" or keys[i] in used],
    )


def _merge_rows(rows: list[list[str]]) -> list[list[str]]:
    """Items whose key values differ only where one is unset are the same item (mergeValues)."""
    for i in range(len(rows)):
        first = rows[i]
        for j in range(len(rows)):
            combined = _combine(first, rows[j])
            if combined is not None:
                rows[i] = combined
                rows[j] = combined
    return rows


def _combine(a: list[str], b: list[str]) -> list[str] | None:
    if len(a) != len(b):
        return None
    common = False
    combined = []
    for x, y in zip(a, b, strict=True):
        if x == y:
            common = True
            combined.append(x)
        elif x and y:
            return None
        else:
            combined.append(x or y)
    return combined if common else None


def _set_elements(
    sources: list[Node | None],
    rows: list[list[str]],
    keys: list[str],
    dest: Node,
    *,
    schema: Schema,
    path: FieldPath,
) -> Node | None:
    """kyaml's ``setAssociativeSequenceElements``: merge item by item, patch items first."""
    merged = Node(Kind.SEQ)
    item_schema = schema.elements()
    if len(keys) > 1:
        rows = _merge_rows(rows)
    valid_keys: list[str] = []
    for values in rows:
        if not values:
            continue
        valid_keys, valid_values = _valid_keys(rows, values, keys)
        item_keys, item_values = _valid_keys([valid_values], valid_values, valid_keys)
        items: list[Node | None] = [
            nodes.element_list(source, item_keys, item_values) if source is not None else None
            for source in sources
        ]
        value = _walk(items, item_schema, path)
        if nodes.is_empty_map(value) or value is None:
            nodes.element_setter(dest, None, valid_keys, valid_values)
            continue
        for key, key_value in zip(valid_keys, valid_values, strict=False):
            # kyaml writes a missing key back as a (quoted, so string) scalar. For a list
            # of primitives (key "") it rewrites the item with its own text: no change.
            if key and key_value and nodes.field(value, key) is None:
                nodes.set_field(value, key, Node(Kind.SCALAR, value=key_value))
        nodes.element_setter(merged, value, valid_keys, valid_values)
    if rows:
        dest = _append_items(merged, dest, valid_keys)
    return None if nodes.is_missing_or_null(dest) else dest


def _append_items(merged: Node, dest: Node, keys: list[str]) -> Node:
    """kyaml's ``appendListNode``: the target's items after (or in place of) merged ones."""
    for item in list(dest.items):
        if keys[0] == "":
            nodes.element_setter(merged, item, [""], [nodes.text(item)])
            continue
        values: list[str] = []
        for key in keys:
            value = nodes.get_field(item, key)
            if value is None:
                merged.items.append(item)
                continue
            values.append(nodes.text(value))
        if len(keys) > 1:
            nodes.element_setter(merged, None, keys, values)
        nodes.element_setter(merged, item, keys, values)
    return merged
