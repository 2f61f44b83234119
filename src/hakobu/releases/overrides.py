"""Set one value in an environment's override in an app spec, as a minimal text edit.

``environments.<env>.<path>: <value>`` is written into the file by splicing text at the
positions the YAML parser reports, so comments, key order, quoting and layout of
everything else stay exactly as the author wrote them. Mappings missing on the way are
created; the value is written as one line (plain, quoted, or a flow collection).
``set_path`` and ``delete_path`` edit any path of a file's top-level mapping the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from hakobu.model.scalars import resolve_plain
from hakobu.model.source import SourceError, compose_one

Keys = tuple[str, ...]

# Mappings at this depth or deeper hold a field's value (keys: environments, env, field).
_INSIDE_A_FIELD = 3


def set_override(text: str, file: Path, env: str, path: Keys, value: Any) -> str:
    """``text`` with ``environments.<env>.<path>`` set to ``value``."""
    root = _root(text, file, "the app spec")
    keys = ("environments", env, *path)
    if _entry(root, "environments") is None:
        separator = "" if text.endswith("\n") or not text else "\n"
        return text + separator + "\n".join(_block(keys, value, "")) + "\n"
    return _set(text, root, keys, 0, value=value, file=file, last_from=_INSIDE_A_FIELD)


def set_path(text: str, file: Path, keys: Keys, value: Any) -> str:
    """``text`` with ``keys`` (from the top-level mapping down) set to ``value``.

    Keys the file lacks are added after the mapping's others; the top-level mapping must
    hold ``keys[0]`` already.
    """
    root = _root(text, file, "the file")
    return _set(text, root, keys, 0, value=value, file=file, last_from=0)


def delete_path(text: str, file: Path, keys: Keys) -> str:
    """``text`` without the key at ``keys``; as it was when there is no such key.

    Only the key and its value go: comments above and below them stay. A mapping that
    loses its only key is written ``{}``, since a key without a value would read as null.
    """
    mapping = _root(text, file, "the file")
    parent: tuple[yaml.MappingNode, yaml.Node] | None = None
    for key in keys[:-1]:
        entry = _entry(mapping, key)
        if entry is None or not isinstance(entry[1], yaml.MappingNode):
            return text
        parent = (mapping, entry[0])
        mapping = entry[1]
    entry = _entry(mapping, keys[-1])
    if entry is None:
        return text
    if len(mapping.value) == 1:
        if parent is None:
            start, end = mapping.start_mark.index, content_end(text, mapping)
            return f"{text[:start]}{{}}{text[end:]}"
        return _replace(text, parent[0], parent[1], mapping, {})
    index = [key_node for key_node, _ in mapping.value].index(entry[0])
    if mapping.flow_style:
        if index + 1 < len(mapping.value):
            start, end = entry[0].start_mark.index, mapping.value[index + 1][0].start_mark.index
        else:
            start, end = content_end(text, mapping.value[index - 1][1]), content_end(text, entry[1])
        return text[:start] + text[end:]
    start = text.rfind("\n", 0, entry[0].start_mark.index) + 1
    line_end = text.find("\n", content_end(text, entry[1]))
    end = len(text) if line_end < 0 else line_end + 1
    return text[:start] + text[end:]


def _root(text: str, file: Path, what: str) -> yaml.MappingNode:
    root = compose_one(file, text)
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise SourceError(file, f"expected {what} to be a block mapping", line=1)
    return root


def _set(
    text: str,
    mapping: yaml.MappingNode,
    keys: Keys,
    depth: int,
    *,
    value: Any,
    file: Path,
    last_from: int,
) -> str:
    """Set ``keys[depth:]`` in ``mapping``, the node at ``keys[:depth]``; a key missing at
    depth ``last_from`` or deeper goes after the mapping's others, above it before them."""
    entry = _entry(mapping, keys[depth])
    if entry is None:
        return _insert(text, mapping, keys[depth:], value, last=depth >= last_from)
    key_node, node = entry
    if depth == len(keys) - 1 or is_null(node):
        return _replace(text, mapping, key_node, node, _nested(keys[depth + 1 :], value))
    if not isinstance(node, yaml.MappingNode):
        raise SourceError(
            file,
            f"expected {'.'.join(keys[: depth + 1])} to be a mapping",
            line=node.start_mark.line + 1,
        )
    return _set(text, node, keys, depth + 1, value=value, file=file, last_from=last_from)


def _replace(
    text: str, mapping: yaml.MappingNode, key: yaml.Node, node: yaml.Node, value: Any
) -> str:
    start, end = node.start_mark.index, content_end(text, node)
    if _is_block(node) or (start == end and not mapping.flow_style):
        # A block value starts on a later line: replace from just after the colon.
        start = text.index(":", key.end_mark.index) + 1
        return f"{text[:start]} {inline(value)}{text[end:]}"
    return f"{text[:start]}{inline(value)}{text[end:]}"


def _insert(text: str, mapping: yaml.MappingNode, keys: Keys, value: Any, *, last: bool) -> str:
    """Add ``keys[0]`` to ``mapping``: first, or ``last`` (inside a field's value, where order
    can matter, as for env variables that refer to earlier ones; a merge appends too)."""
    if mapping.flow_style:
        entry = f"{inline(keys[0])}: {inline(_nested(keys[1:], value))}"
        if last and mapping.value:
            at = content_end(text, mapping.value[-1][1])
            return f"{text[:at]}, {entry}{text[at:]}"
        at = mapping.start_mark.index + 1
        return f"{text[:at]}{entry}{', ' if mapping.value else ''}{text[at:]}"
    first = mapping.value[0][0]
    lines = "\n".join(_block(keys, value, " " * first.start_mark.column))
    if last:
        line_end = text.find("\n", content_end(text, mapping.value[-1][1]))
        at = len(text) if line_end < 0 else line_end
        return f"{text[:at]}\n{lines}{text[at:]}"
    line_start = text.rfind("\n", 0, first.start_mark.index) + 1
    # Comments right above the first key belong to it: insert above them.
    while line_start > 0:
        previous = text.rfind("\n", 0, line_start - 1) + 1
        if not text[previous:line_start].strip().startswith("#"):
            break
        line_start = previous
    return f"{text[:line_start]}{lines}\n{text[line_start:]}"


def _block(keys: Keys, value: Any, indent: str) -> list[str]:
    """``keys`` as nested block mappings, the value on the last one's line."""
    head = f"{indent}{inline(keys[0])}:"
    if len(keys) == 1:
        return [f"{head} {inline(value)}"]
    return [head, *_block(keys[1:], value, indent + "  ")]


def _nested(keys: Keys, value: Any) -> Any:
    for key in reversed(keys):
        value = {key: value}
    return value


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _is_block(node: yaml.Node) -> bool:
    return isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style


def _entry(mapping: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key_node, value_node in mapping.value:
        if key_node.value == key:
            return key_node, value_node
    return None


def content_end(text: str, node: yaml.Node) -> int:
    """Where ``node``'s content ends in ``text``."""
    # A block collection's end mark lies after trailing comments and blank lines, and a
    # block scalar's after its line breaks: stop at the last content instead, so those stay.
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return content_end(text, node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return content_end(text, node.value[-1])
    start: int = node.start_mark.index
    end: int = node.end_mark.index
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        return start + len(text[start:end].rstrip())
    return end


def inline(value: Any) -> str:
    """``value`` as one line of YAML that reads back as the same value."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{inline(k)}: {inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    if isinstance(value, str):
        return value if _plain(value) else json.dumps(value)
    return json.dumps(value)


def _plain(text: str) -> bool:
    # Written inside flow collections too, so flow indicators need quotes; and read back both
    # as YAML and as hakobu's loader resolves plain scalars (go-yaml's rules).
    if not text or text.startswith(("'", '"', "&", "*", "!", "|", ">")):
        return False
    if any(c in text for c in "#\n,[]{}"):
        return False
    try:
        return bool(yaml.safe_load(text) == text and resolve_plain(text) == text)
    except yaml.YAMLError:
        return False
