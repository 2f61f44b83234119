"""Promotion of a kustomize overlay's ``images:``: one overlay's entries become another's.

This is the field ``kustomize edit set image`` writes (and Argo CD Image Updater and Kargo
with it). Entries are matched by ``name``: for every name in either overlay's list, the
target's entry gets exactly the source's ``newName``, ``newTag``, ``digest`` and
``tagSuffix`` (fields the source lacks are removed), an entry only the source has is
added, and one only the target has is removed. The target's file is edited as text at the
positions the YAML parser reports, so its comments and layout stay; the edited file is
parsed again and must differ in nothing but those entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from hakobu.errors import OperationFailed
from hakobu.model.source import FieldPath, SourceError, compose_one, safe_load_one
from hakobu.releases.appspec import AppPromotion, FieldChange
from hakobu.releases.overrides import content_end, inline, is_null

# What an entry sets, in the order a new entry's fields are written when the source's
# order is not known.
_FIELDS = ("newName", "newTag", "digest", "tagSuffix")

# An entry's fields as kustomize reads them (strings); a null or empty field sets nothing,
# so it is left out.
Entry = dict[str, str]


@dataclass(frozen=True)
class _Images:
    field: tuple[yaml.Node, yaml.Node] | None  # key and value; None when there is no key
    list: yaml.SequenceNode | None  # None when there is no list (no key, or null)
    nodes: dict[str, yaml.MappingNode]  # each entry by name
    entries: dict[str, Entry]


def promote_images(
    app: str, source: tuple[Path, str], target: tuple[Path, str]
) -> AppPromotion | None:
    """``target``'s kustomization (file, text) with ``source``'s image entries, or None when
    they are the same already. The files name the kustomizations in messages."""
    wanted = _parse(*source).entries
    file, text = target
    have = _parse(file, text).entries
    changes = [
        FieldChange(f"images[{name}].{field}", inline(old), inline(new))
        for name in [*have, *(name for name in wanted if name not in have)]
        for field in _FIELDS
        if (old := have.get(name, {}).get(field)) != (new := wanted.get(name, {}).get(field))
    ]
    if not changes:
        return None
    try:
        edited = _edit(file, text, have, wanted)
        exact = _exact(file, text, edited, wanted)
    except (SourceError, yaml.YAMLError):
        # An anchor the edit replaced, and an alias to it left dangling.
        exact = False
    if not exact:
        values = ", ".join(f"{c.field}: {c.after}" for c in changes)
        raise OperationFailed(
            f"{file}: writing images: in place would change more than them "
            "(anchors or aliases in the way)",
            hint=f"edit images: by hand to {values}",
        )
    return AppPromotion(app, tuple(changes), edited)


def _edit(file: Path, text: str, have: dict[str, Entry], wanted: dict[str, Entry]) -> str:
    for name, new in wanted.items():
        old = have.get(name)
        if old is None:
            if new:
                text = _add_entry(text, file, name, new)
            continue
        for field in _FIELDS:
            value = new.get(field)
            if value is None and field in old:
                text = _remove_field(text, file, name, field)
            elif value is not None and value != old.get(field):
                text = _set_field(text, file, name, field, value)
    # Entries only the target has go last: a list emptied first would be written anew in
    # flow style.
    for name, old in have.items():
        if name not in wanted and old:
            text = _remove_entry(text, file, name)
    return text


def _parse(file: Path, text: str) -> _Images:
    root = compose_one(file, text)
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise SourceError(file, "expected the kustomization to be a block mapping", line=1)
    found = [(key, value) for key, value in root.value if key.value == "images"]
    if not found:
        return _Images(None, None, {}, {})
    images = found[0][1]
    if is_null(images):
        return _Images(found[0], None, {}, {})
    if not isinstance(images, yaml.SequenceNode):
        raise SourceError(file, "expected a list", line=_line(images), field=("images",))
    nodes: dict[str, yaml.MappingNode] = {}
    entries: dict[str, Entry] = {}
    for index, node in enumerate(images.value):
        name, entry = _entry(file, node, ("images", index))
        if name in nodes:
            # kustomize applies both, in order: which one wins is not for promotion to guess.
            raise SourceError(
                file,
                f"image {name!r} is listed twice",
                line=_line(node),
                field=("images", index),
                hint="merge the entries into one",
            )
        nodes[name], entries[name] = node, entry
    return _Images(found[0], images, nodes, entries)


def _entry(file: Path, node: yaml.Node, where: FieldPath) -> tuple[str, Entry]:
    if not isinstance(node, yaml.MappingNode):
        raise SourceError(file, "expected a mapping", line=_line(node), field=where)
    fields = {key.value: value for key, value in node.value}
    name = fields.get("name")
    if not isinstance(name, yaml.ScalarNode) or is_null(name):
        raise SourceError(file, "an image entry needs a name", line=_line(node), field=where)
    entry: Entry = {}
    for field, value in fields.items():
        if field not in _FIELDS:
            continue
        if not isinstance(value, yaml.ScalarNode):
            raise SourceError(file, "expected a string", line=_line(value), field=(*where, field))
        if not is_null(value) and value.value:
            entry[field] = value.value
    return name.value, entry


def _set_field(text: str, file: Path, name: str, field: str, value: str) -> str:
    entry = _parse(file, text).nodes[name]
    found = [(key, node) for key, node in entry.value if key.value == field]
    if not found:
        return _insert_field(text, entry, field, value)
    key, node = found[0]
    start, end = node.start_mark.index, content_end(text, node)
    if start == end:
        # An empty value (null): write just after the colon.
        start = end = text.index(":", key.end_mark.index) + 1
        return f"{text[:start]} {inline(value)}{text[end:]}"
    return f"{text[:start]}{inline(value)}{text[end:]}"


def _insert_field(text: str, entry: yaml.MappingNode, field: str, value: str) -> str:
    at = content_end(text, entry.value[-1][1])
    if entry.flow_style:
        return f"{text[:at]}, {field}: {inline(value)}{text[at:]}"
    at = _line_end(text, at)
    indent = " " * entry.value[0][0].start_mark.column
    return f"{text[:at]}\n{indent}{field}: {inline(value)}{text[at:]}"


def _remove_field(text: str, file: Path, name: str, field: str) -> str:
    entry = _parse(file, text).nodes[name]
    index = next(i for i, (key, _) in enumerate(entry.value) if key.value == field)
    key, value = entry.value[index]
    if index == 0:
        # The name is another key of the entry, so a next one exists: it takes the place.
        return text[: key.start_mark.index] + text[entry.value[1][0].start_mark.index :]
    end = content_end(text, value)
    if entry.flow_style:
        return text[: content_end(text, entry.value[index - 1][1])] + text[end:]
    return text[: _line_start(text, key.start_mark.index)] + text[_line_end(text, end) + 1 :]


def _add_entry(text: str, file: Path, name: str, fields: Entry) -> str:
    images = _parse(file, text)
    entry = {"name": name, **fields}
    if images.field is None:
        separator = "" if text.endswith("\n") or not text else "\n"
        return text + separator + "images:\n" + "\n".join(_block(entry, "  - ", "    ")) + "\n"
    if images.list is None:
        # Replace the null whatever its spelling (none, ~, null), from just after the colon.
        key, null = images.field
        at = text.index(":", key.end_mark.index) + 1
        return f"{text[:at]} {inline([entry])}{text[content_end(text, null) :]}"
    items = images.list.value
    if images.list.flow_style:
        if not items:
            at = images.list.start_mark.index + 1
            return f"{text[:at]}{inline(entry)}{text[at:]}"
        at = content_end(text, items[-1])
        return f"{text[:at]}, {inline(entry)}{text[at:]}"
    first = items[0]
    dash = text.rindex("-", 0, first.start_mark.index)
    dash_column = dash - _line_start(text, dash)
    if isinstance(first, yaml.MappingNode) and not first.flow_style:
        column = max(first.start_mark.column, dash_column + 2)
        lines = _block(entry, " " * dash_column + "-".ljust(column - dash_column), " " * column)
    else:
        lines = [" " * dash_column + "- " + inline(entry)]
    at = _line_end(text, content_end(text, items[-1]))
    return text[:at] + "".join(f"\n{line}" for line in lines) + text[at:]


def _remove_entry(text: str, file: Path, name: str) -> str:
    images = _parse(file, text)
    if images.field is None or images.list is None:
        return text
    listed, items, node = images.list, images.list.value, images.nodes[name]
    index = items.index(node)
    if len(items) == 1:
        if listed.flow_style:
            start, end = listed.start_mark.index + 1, listed.end_mark.index - 1
            return text[:start] + text[end:]
        start = text.index(":", images.field[0].end_mark.index) + 1
        return f"{text[:start]} []{text[content_end(text, listed) :]}"
    if listed.flow_style:
        if index == 0:
            return text[: node.start_mark.index] + text[items[1].start_mark.index :]
        return text[: content_end(text, items[index - 1])] + text[content_end(text, node) :]
    dash = text.rindex("-", 0, node.start_mark.index)
    end = _line_end(text, content_end(text, node))
    return text[: _line_start(text, dash)] + text[end + 1 :]


def _block(entry: Entry, first: str, rest: str) -> list[str]:
    """An entry as a block mapping: its first line starts with ``first``, others ``rest``."""
    return [
        f"{first if i == 0 else rest}{key}: {inline(value)}"
        for i, (key, value) in enumerate(entry.items())
    ]


def _exact(file: Path, text: str, edited: str, wanted: dict[str, Entry]) -> bool:
    """Whether ``edited`` has exactly the ``wanted`` entries and all else of ``text``."""
    entries = {name: entry for name, entry in _parse(file, edited).entries.items() if entry}
    if entries != {name: entry for name, entry in wanted.items() if entry}:
        return False
    before, after = safe_load_one(file, text), safe_load_one(file, edited)
    before.pop("images", None)
    after.pop("images", None)
    return bool(before == after)


def _line_start(text: str, at: int) -> int:
    return text.rfind("\n", 0, at) + 1


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end < 0 else end


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
