"""Set one field of an environment's override in an app spec, as a minimal text edit.

``environments.<env>.<field>: <value>`` is written into the file by splicing text at the
positions the YAML parser reports, so comments, key order, quoting and layout of
everything else stay exactly as the author wrote them. The value is written as one line
(plain, quoted, or a flow mapping).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from hakobu.model.source import SourceError


def set_override(text: str, file: Path, env: str, field: str, value: Any) -> str:
    """``text`` with ``environments.<env>.<field>`` set to ``value``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        raise SourceError(file, f"cannot parse the file: {e}") from None
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise SourceError(file, "expected the app spec to be a block mapping", line=1)
    rendered = inline(value)
    envs = _value_of(root, "environments")
    if envs is None:
        separator = "" if text.endswith("\n") or not text else "\n"
        return f"{text}{separator}environments:\n  {env}:\n    {field}: {rendered}\n"
    env_node = _value_of(envs, env) if isinstance(envs, yaml.MappingNode) else None
    if env_node is None or _is_null(env_node):
        return _set_key(text, envs, env, {field: value}, file)
    if not isinstance(env_node, yaml.MappingNode):
        raise SourceError(
            file, f"expected environments.{env} to be a mapping", line=env_node.start_mark.line + 1
        )
    return _set_key(text, env_node, field, value, file)


def _set_key(text: str, mapping: yaml.Node, key: str, value: Any, file: Path) -> str:
    """Set ``key`` of ``mapping`` (a mapping or null) to ``value``, replacing what it held."""
    if _is_null(mapping):
        start, end = mapping.start_mark.index, mapping.end_mark.index
        pad = " " if start == end else ""
        return f"{text[:start]}{pad}{inline({key: value})}{text[end:]}"
    if not isinstance(mapping, yaml.MappingNode):
        raise SourceError(file, "expected a mapping", line=mapping.start_mark.line + 1)
    for key_node, value_node in mapping.value:
        if key_node.value != key:
            continue
        start, end = value_node.start_mark.index, _end(value_node)
        if _is_block(value_node) or (start == end and not mapping.flow_style):
            # A block value starts on a later line: replace from just after the colon.
            start = text.index(":", key_node.end_mark.index) + 1
            return f"{text[:start]} {inline(value)}{text[end:]}"
        return f"{text[:start]}{inline(value)}{text[end:]}"
    if mapping.flow_style:
        start = mapping.start_mark.index + 1
        separator = ", " if mapping.value else ""
        return f"{text[:start]}{key}: {inline(value)}{separator}{text[start:]}"
    first = mapping.value[0][0]
    line_start = text.rfind("\n", 0, first.start_mark.index) + 1
    # Comments right above the first key belong to it: insert above them.
    while line_start > 0:
        previous = text.rfind("\n", 0, line_start - 1) + 1
        if not text[previous:line_start].strip().startswith("#"):
            break
        line_start = previous
    indent = " " * first.start_mark.column
    if isinstance(value, dict):
        lines = [f"{indent}{key}:"] + [f"{indent}  {k}: {inline(v)}" for k, v in value.items()]
    else:
        lines = [f"{indent}{key}: {inline(value)}"]
    return text[:line_start] + "\n".join(lines) + "\n" + text[line_start:]


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _is_block(node: yaml.Node) -> bool:
    return isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style


def _value_of(mapping: yaml.Node, key: str) -> yaml.Node | None:
    if not isinstance(mapping, yaml.MappingNode):
        return None
    for key_node, value_node in mapping.value:
        if key_node.value == key:
            node: yaml.Node = value_node
            return node
    return None


def _end(node: yaml.Node) -> int:
    # A block collection's end mark lies after trailing comments and blank lines: stop at
    # its last value instead, so those stay in place.
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _end(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _end(node.value[-1])
    end: int = node.end_mark.index
    return end


def inline(value: Any) -> str:
    """``value`` as one line of YAML that reads back as the same value."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        try:
            plain = yaml.safe_load(value) == value and "#" not in value and "\n" not in value
        except yaml.YAMLError:
            plain = False
        if plain and value and not value.startswith(("{", "[", "'", '"', "&", "*", "!", "|", ">")):
            return value
        return json.dumps(value)
    return json.dumps(value)
