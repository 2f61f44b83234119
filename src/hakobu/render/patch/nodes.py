"""Mutable YAML-like nodes and the kyaml list/map operations strategic merge is built on.

kustomize merges YAML node trees in place, and several of its observable behaviours come
from that: a merged list element *is* the target's element, a subtree taken from the patch
is merged with itself, directives are removed from nodes that two sides share. Plain dicts
cannot express that sharing, so the merge runs on these nodes (copies of the inputs) and
converts back at the end.

The functions mirror kyaml's ``FieldSetter``, ``FieldMatcher``, ``ElementSetter``,
``ElementMatcher`` and ``RNode.ElementValuesList`` closely, including their quirks, because
the result has to equal what kustomize produces.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Any


class Kind(Enum):
    MAP = "mapping"
    SEQ = "list"
    SCALAR = "scalar"


class NodeKindError(Exception):
    """A node of the wrong kind where kyaml requires a mapping, a list or a scalar."""

    def __init__(self, expected: Kind, found: Kind) -> None:
        super().__init__(f"expected a {expected.value} but found a {found.value}")
        self.expected = expected
        self.found = found


class EmptyValues(dict[Any, Any]):
    """A mapping read from YAML that remembers its keys written with no value (``key:``).

    YAML reads such a value as null, as it reads ``key: null``; kyaml keeps the text each
    was written with, and a strategic merge drops the empty-text nulls of its target that
    the patch does not mention while it keeps a written ``null``.
    """

    empty: frozenset[Any] = frozenset()


class Node:
    """One YAML node: a mapping (ordered key/value pairs), a list, or a scalar.

    A scalar whose value is ``None`` is YAML ``null``. ``keep`` marks a null that must
    survive being set on a map (kyaml's ``MakePersistentNullNode``); ``empty`` a null
    written with no text at all.
    """

    __slots__ = ("empty", "items", "keep", "kind", "pairs", "value")

    def __init__(
        self,
        kind: Kind,
        *,
        pairs: list[tuple[Any, Node]] | None = None,
        items: list[Node] | None = None,
        value: Any = None,
        keep: bool = False,
        empty: bool = False,
    ) -> None:
        self.kind = kind
        self.empty = empty
        self.pairs: list[tuple[Any, Node]] = pairs if pairs is not None else []
        self.items: list[Node] = items if items is not None else []
        self.value = value
        self.keep = keep


def to_node(data: Any) -> Node:
    """A fresh node tree for plain data (the inputs are never shared with the result)."""
    if isinstance(data, EmptyValues):
        return Node(
            Kind.MAP,
            pairs=[
                (key, Node(Kind.SCALAR, empty=True) if key in data.empty else to_node(value))
                for key, value in data.items()
            ],
        )
    if isinstance(data, dict):
        return Node(Kind.MAP, pairs=[(key, to_node(value)) for key, value in data.items()])
    if isinstance(data, list | tuple):
        return Node(Kind.SEQ, items=[to_node(item) for item in data])
    return Node(Kind.SCALAR, value=data)


def to_data(node: Node) -> Any:
    if node.kind is Kind.MAP:
        return {key: to_data(value) for key, value in node.pairs}
    if node.kind is Kind.SEQ:
        return [to_data(item) for item in node.items]
    return node.value


def null_node(*, keep: bool = False) -> Node:
    return Node(Kind.SCALAR, value=None, keep=keep)


def text(node: Node | None) -> str:
    """A node's ``Value`` as kyaml compares it: the scalar's text, ``""`` for collections."""
    if node is None or node.kind is not Kind.SCALAR:
        return ""
    return scalar_text(node.value)


def scalar_text(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
    return str(value)


def is_missing_or_null(node: Node | None) -> bool:
    return node is None or is_tagged_null(node)


def is_tagged_null(node: Node | None) -> bool:
    return node is not None and node.kind is Kind.SCALAR and node.value is None


def is_empty_map(node: Node | None) -> bool:
    return is_missing_or_null(node) or (
        node is not None and node.kind is Kind.MAP and not node.pairs
    )


def is_nil_or_empty(node: Node | None) -> bool:
    if is_missing_or_null(node) or node is None:
        return True
    if node.kind is Kind.MAP:
        return not node.pairs
    if node.kind is Kind.SEQ:
        return not node.items
    return False


def require(node: Node | None, kind: Kind) -> None:
    """kyaml's ``ErrorIfInvalid``: null and missing nodes pass."""
    if not is_missing_or_null(node) and node is not None and node.kind is not kind:
        raise NodeKindError(kind, node.kind)


def field(node: Node | None, name: str) -> Node | None:
    """The value of field ``name`` of a mapping (``None`` for other nodes)."""
    if node is None or node.kind is not Kind.MAP:
        return None
    for key, value in node.pairs:
        if key == name or scalar_text(key) == name:
            return value
    return None


def field_keys(node: Node | None) -> dict[str, Any]:
    """Field name → original key of a mapping (empty for other nodes)."""
    if node is None or node.kind is not Kind.MAP:
        return {}
    return {scalar_text(key): key for key, _ in node.pairs}


def clear_field(node: Node, name: str) -> None:
    node.pairs = [(key, value) for key, value in node.pairs if scalar_text(key) != name]


def set_field(node: Node, name: str, value: Node | None, key: Any = None) -> None:
    """kyaml's ``FieldSetter``: nothing or a plain null clears, else set in place or append."""
    if value is None or (is_tagged_null(value) and not value.keep):
        clear_field(node, name)
        return
    for index, (existing, _) in enumerate(node.pairs):
        if scalar_text(existing) == name:
            node.pairs[index] = (existing, value)
            return
    node.pairs.append((name if key is None else key, value))


def match_any_value(node: Node | None, name: str, value: str) -> Node | None:
    """kyaml's ``FieldMatcher{Name, StringValue}``: an empty value matches any value."""
    if is_missing_or_null(node) or node is None:
        return None
    if name == "":
        require(node, Kind.SCALAR)
        return node if text(node) == value else None
    require(node, Kind.MAP)
    found = field(node, name)
    if found is not None and (value == "" or text(found) == value):
        return found
    return None


def match_field(node: Node, name: str, value: str) -> Node | None:
    """kyaml's ``MatchField``: the field's text must equal ``value``, even when empty."""
    require(node, Kind.MAP)
    found = field(node, name)
    return found if found is not None and text(found) == value else None


def get_field(node: Node, name: str) -> Node | None:
    """kyaml's ``Get``: the value of a field of a mapping; other nodes are an error."""
    if is_missing_or_null(node):
        return None
    require(node, Kind.MAP)
    return field(node, name)


def element_setter(
    seq: Node, element: Node | None, keys: list[str], values: list[str]
) -> Node | None:
    """kyaml's ``ElementSetter``: replace the element matching ``keys``/``values``.

    With ``element`` of ``None`` the matching elements are removed. Null and empty-map
    elements are dropped on the way, as kyaml does.
    """
    require(seq, Kind.SEQ)
    keys = keys or [""]
    mapping_setter = keys[0] != "" and bool(values) and values[0] != ""
    kept: list[Node] = []
    matched = False
    for item in seq.items:
        if is_empty_map(item):
            continue
        if item.kind is not Kind.MAP and mapping_setter:
            kept.append(item)
            continue
        found: Node | None = None
        is_match = True
        for index, key in enumerate(keys):
            if index < len(values):
                found = match_any_value(item, key, values[index])
            if found is None:
                is_match = False
                break
        if not is_match:
            if values:
                kept.append(item)
            continue
        matched = True
        if element is not None:
            kept.append(element)
    seq.items = kept
    if is_missing_or_null(element) or element is None:
        return None
    if not matched:
        seq.items.append(element)
    return element


def element_list(seq: Node | None, keys: list[str], values: list[str]) -> Node | None:
    """kyaml's ``RNode.ElementList``: the first element matching all keys, else ``None``."""
    if seq is None or seq.kind is not Kind.SEQ:
        return None
    keys = keys or [""]
    values = values or [""]
    if keys[0] == "":
        return next((item for item in seq.items if text(item) == values[0]), None)
    if len(keys) != len(values):
        return None
    for item in seq.items:
        if item.kind is not Kind.MAP:
            continue
        if all(match_field(item, key, values[i]) is not None for i, key in enumerate(keys)):
            return item
    return None


def element_values_list(seq: Node, keys: list[str]) -> list[list[str]]:
    """kyaml's ``RNode.ElementValuesList``: each element's key values, ``""`` when unset."""
    require(seq, Kind.SEQ)
    result: list[list[str]] = []
    for item in seq.items if seq.kind is Kind.SEQ else []:
        values = []
        for key in keys:
            value = field(item, key)
            values.append("" if is_nil_or_empty(value) else text(value))
        result.append(values)
    return result
