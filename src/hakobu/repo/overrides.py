"""Set one value in an environment's override in an app spec, as a minimal text edit.

``environments.<env>.<path>: <value>`` is written into the file by splicing text at the
positions the YAML parser reports, so comments, key order, quoting and layout of
everything else stay exactly as the author wrote them. Mappings missing on the way are
created; the value is written as one line (plain, quoted, or a flow collection).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from hakobu.model.scalars import resolve_plain
from hakobu.model.source import SourceError

Keys = tuple[str, ...]

# Mappings at this depth or deeper hold a field's value (keys: environments, env, field).
_INSIDE_A_FIELD = 3


def set_override(text: str, file: Path, env: str, path: Keys, value: Any) -> str:
    """``text`` with ``environments.<env>.<path>`` set to ``value``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        raise SourceError(file, f"cannot parse the file: {e}") from None
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise SourceError(file, "expected the app spec to be a block mapping", line=1)
    keys = ("environments", env, *path)
    if _entry(root, "environments") is None:
        separator = "" if text.endswith("\n") or not text else "\n"
        return text + separator + "\n".join(_block(keys, value, "")) + "\n"
    return _set(text, root, keys, 0, value=value, file=file)


def _set(
    text: str, mapping: yaml.MappingNode, keys: Keys, depth: int, *, value: Any, file: Path
) -> str:
    """Set ``keys[depth:]`` in ``mapping``, the node at ``keys[:depth]``."""
    entry = _entry(mapping, keys[depth])
    if entry is None:
        return _insert(text, mapping, keys[depth:], value, last=depth >= _INSIDE_A_FIELD)
    key_node, node = entry
    if depth == len(keys) - 1 or _is_null(node):
        return _replace(text, mapping, key_node, node, _nested(keys[depth + 1 :], value))
    if not isinstance(node, yaml.MappingNode):
        raise SourceError(
            file,
            f"expected {'.'.join(keys[: depth + 1])} to be a mapping",
            line=node.start_mark.line + 1,
        )
    return _set(text, node, keys, depth + 1, value=value, file=file)


def _replace(
    text: str, mapping: yaml.MappingNode, key: yaml.Node, node: yaml.Node, value: Any
) -> str:
    start, end = node.start_mark.index, _end(text, node)
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
            at = _end(text, mapping.value[-1][1])
            return f"{text[:at]}, {entry}{text[at:]}"
        at = mapping.start_mark.index + 1
        return f"{text[:at]}{entry}{', ' if mapping.value else ''}{text[at:]}"
    first = mapping.value[0][0]
    lines = "\n".join(_block(keys, value, " " * first.start_mark.column))
    if last:
        line_end = text.find("\n", _end(text, mapping.value[-1][1]))
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


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _is_block(node: yaml.Node) -> bool:
    return isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style


def _entry(mapping: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key_node, value_node in mapping.value:
        if key_node.value == key:
            return key_node, value_node
    return None


def _end(text: str, node: yaml.Node) -> int:
    # A block collection's end mark lies after trailing comments and blank lines, and a
    # block scalar's after its line breaks: stop at the last content instead, so those stay.
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _end(text, node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _end(text, node.value[-1])
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
