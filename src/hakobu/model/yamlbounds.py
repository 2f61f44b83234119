"""How far a YAML file may expand and nest before it is built into data.

A few hundred bytes of anchors and aliases ("billion laughs") stand for billions of nodes:
each alias repeats its anchor's whole content, and building the data (or walking it later)
repeats the work. Deep nesting exhausts Python's stack in every recursive step after the
parser. So each composed document is measured before anything builds it:

- the nodes it stands for, aliases expanded (an alias counts the whole content it repeats),
  summed over a file's documents, at most ``node_budget(len(text))``: several times what
  its text holds written out, and never more than ``MAX_NODES``. A file of that many nodes
  (megabytes of manifests) still renders within a few seconds and about 100 MB on a small
  machine; a larger one is refused with the advice to split it;
- nesting, aliases expanded, at most ``MAX_DEPTH`` levels (the deepest Kubernetes objects,
  CustomResourceDefinitions' schemas, stay well under it);
- no alias inside the node it refers to (a structure that never ends).

Measuring walks each distinct node once, however often aliases repeat it. Only when a file
is refused is it parsed again, event by event, to name the line where the limit was passed.

Many files each within its bound add up: inside ``shared_limit(n)`` (a render of one
environment) the nodes of every file read are also counted together, and the file that
takes the total past ``n`` is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

MAX_DEPTH = 100
MAX_NODES = 100_000
# Written out, YAML needs at least two characters a node ("1,").
_CHARS_PER_NODE = 2
# A file may stand for a few times what it holds written out, so that anchors shared by
# several objects stay comfortably allowed.
_NODES_PER_CHAR = 2
_MIN_NODES = 20_000


@dataclass
class _Total:
    limit: int
    used: int = 0


_TOTAL: ContextVar[_Total | None] = ContextVar("hakobu_yaml_total", default=None)


@contextmanager
def shared_limit(limit: int) -> Iterator[None]:
    """Count the nodes of every file read inside this block together, at most ``limit``."""
    token = _TOTAL.set(_Total(limit))
    try:
        yield
    finally:
        _TOTAL.reset(token)


def node_budget(length: int) -> int:
    """How many nodes a file of ``length`` characters may stand for, aliases expanded."""
    return min(MAX_NODES, _MIN_NODES + _NODES_PER_CHAR * length)


@dataclass(frozen=True)
class Excess:
    """Why and where a file is refused: a message, its line and the field it is in."""

    message: str
    line: int | None
    field: tuple[str | int, ...]
    hint: str


class Budget:
    """The nodes one file may still stand for; ``admit`` each of its documents in order."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.limit = node_budget(len(text))
        self.used = 0

    def screen(self) -> Excess | None:
        """Before composing: a text long enough to hold more nodes than the budget allows
        is read through event by event first, since composing builds all of a document's
        nodes at once."""
        if len(self.text) <= _CHARS_PER_NODE * MAX_NODES:
            return None
        return _scan(self.text, self.limit)

    def admit(self, root: Node) -> Excess | None:
        """Count ``root``'s document; the reason to refuse the file, or None."""
        measured = _measure(root, self.limit - self.used)
        if measured is not None:
            size, height = measured
            self.used += size
            if self.used <= self.limit and height <= MAX_DEPTH:
                return _charge_total(size, root)
        return locate(self.text, self.limit)


def _charge_total(size: int, root: Node) -> Excess | None:
    total = _TOTAL.get()
    if total is None:
        return None
    total.used += size
    if total.used <= total.limit:
        return None
    return Excess(
        f"the files read for this render stand for more than {total.limit:,} YAML nodes together",
        root.start_mark.line + 1,
        (),
        "render fewer or smaller files per environment; each file read adds to the total",
    )


def _collections(node: Node) -> tuple[int, list[Node]]:
    """How many scalars ``node`` holds directly, and its other children."""
    if isinstance(node, MappingNode):
        parts = [part for pair in node.value for part in pair]
    else:
        parts = list(node.value)
    inner = [part for part in parts if not isinstance(part, ScalarNode)]
    return len(parts) - len(inner), inner


def _measure(root: Node, room: int) -> tuple[int, int] | None:
    """``root``'s expanded size (capped just past ``room``) and height; None for a cycle."""
    if isinstance(root, ScalarNode):
        return 1, 1
    cap = room + 1
    done: dict[int, tuple[int, int]] = {}
    entered: set[int] = set()
    # (node, None) enters a collection; (node, (scalars, children)) finishes it.
    stack: list[tuple[Node, tuple[int, list[Node]] | None]] = [(root, None)]
    while stack:
        node, parts = stack.pop()
        key = id(node)
        if parts is None:
            if key in done:
                continue
            if key in entered:
                return None
            entered.add(key)
            parts = _collections(node)
            stack.append((node, parts))
            stack.extend((child, None) for child in parts[1] if id(child) not in done)
            continue
        scalars, children = parts
        size, height = 1 + scalars, 2 if scalars else 1
        for child in children:
            child_size, child_height = done[id(child)]
            size += child_size
            height = max(height, child_height + 1)
        if height > MAX_DEPTH:
            return size, height
        done[key] = (min(size, cap), height)
        entered.discard(key)
    return done[id(root)]


def deeper_than_allowed(value: Any) -> bool:
    """Whether plain data (parsed JSON: no aliases) nests more than ``MAX_DEPTH`` levels."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > MAX_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return False


@dataclass
class _Frame:
    """A collection being read: where its count starts, its level, the current field."""

    anchor: str | None
    start: int
    level: int
    mapping: bool
    deepest: int = 0
    index: int = 0
    key: str | None = None

    def note(self, level: int) -> None:
        self.deepest = max(self.deepest, level)

    def advance(self, value: str | None) -> None:
        """One node of this collection has been read: a key's text is kept for paths."""
        if self.mapping and self.index % 2 == 0:
            self.key = value
        self.index += 1


class _Locator:
    """Follows a file's events, counting and nesting as ``Budget`` does, to the first excess."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self.anchors: dict[str, tuple[int, int]] = {}
        self.stack: list[_Frame] = []

    def path(self) -> tuple[str | int, ...]:
        path: list[str | int] = []
        for frame in self.stack:
            if not frame.mapping:
                path.append(frame.index)
            elif frame.index % 2 == 1:
                path.append(str(frame.key))
        return tuple(path)

    def read(self, event: yaml.Event, line: int) -> Excess | None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.anchors.clear()
        elif isinstance(event, yaml.CollectionEndEvent):
            self.close()
        elif isinstance(event, yaml.AliasEvent):
            return self.alias(str(event.anchor), line)
        elif isinstance(event, yaml.NodeEvent):
            return self.node(event, line)
        return None

    def node(self, event: yaml.NodeEvent, line: int) -> Excess | None:
        level = len(self.stack) + 1
        self.total += 1
        if self.total > self.limit:
            return _too_many(self.limit, line, self.path(), alias=None)
        if level > MAX_DEPTH:
            return too_deep(line)
        self.reached(level)
        if isinstance(event, yaml.CollectionStartEvent):
            mapping = isinstance(event, yaml.MappingStartEvent)
            self.stack.append(_Frame(event.anchor, self.total - 1, level, mapping, level))
            return None
        if event.anchor is not None:
            self.anchors[event.anchor] = (1, 1)
        self.advance(event.value if isinstance(event, yaml.ScalarEvent) else None)
        return None

    def alias(self, anchor: str, line: int) -> Excess | None:
        if anchor not in self.anchors:
            return Excess(
                f"the alias *{anchor} refers to a node that contains it",
                line,
                self.path(),
                "a structure cannot contain itself; write the content out",
            )
        size, height = self.anchors[anchor]
        self.total += size
        if self.total > self.limit:
            return _too_many(self.limit, line, self.path(), alias=anchor)
        deepest = len(self.stack) + height
        if deepest > MAX_DEPTH:
            return too_deep(line)
        self.reached(deepest)
        self.advance(None)
        return None

    def close(self) -> None:
        frame = self.stack.pop()
        if frame.anchor is not None:
            size = self.total - frame.start
            self.anchors[frame.anchor] = (size, frame.deepest - frame.level + 1)
        self.reached(frame.deepest)
        self.advance(None)

    def reached(self, level: int) -> None:
        if self.stack:
            self.stack[-1].note(level)

    def advance(self, value: str | None) -> None:
        if self.stack:
            self.stack[-1].advance(value)


def locate(text: str, limit: int) -> Excess:
    """Read ``text`` event by event to the point where it passes a bound."""
    # Should the events disagree with the composed nodes, refuse all the same, at the top.
    return _scan(text, limit) or _too_many(limit, None, (), alias=None)


def _scan(text: str, limit: int) -> Excess | None:
    locator = _Locator(limit)
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            mark = event.start_mark
            found = locator.read(event, mark.line + 1 if mark else 0)
            if found is not None:
                return found
    except yaml.YAMLError:
        # The composer reports it, with its line.
        return None
    return None


def _too_many(
    limit: int, line: int | None, path: tuple[str | int, ...], alias: str | None
) -> Excess:
    if alias is not None:
        return Excess(
            f"aliases expand this file past {limit} YAML nodes (at *{alias})",
            line,
            path,
            "each alias repeats its anchor's whole content; write the values out, "
            "or anchor smaller parts",
        )
    return Excess(
        f"the file holds more than {limit} YAML nodes",
        line,
        path,
        "split it into several smaller files",
    )


def too_deep(line: int | None) -> Excess:
    # No field: a path a hundred levels long would hide the message.
    return Excess(
        f"nested more than {MAX_DEPTH} levels deep",
        line,
        (),
        "Kubernetes objects are far shallower; flatten the structure",
    )
