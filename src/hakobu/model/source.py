"""Load YAML files while remembering where every field came from.

Errors about user input must name the file, the line and the field. ``load_documents``
returns each YAML document's data together with the line of every mapping key and sequence
item, so any layer can point at ``apps/web.yaml:12: spec.ports[0].port``.

Scalars are read as kustomize reads them (go-yaml v3, see ``hakobu.model.scalars``):
``yes``/``on`` are strings, ``0755`` is octal, ``1_000`` is 1000, dates become RFC 3339
strings, so a value passed through hakobu prints as ``kustomize build`` prints it.
Mapping keys must be strings. Merge keys (``<<``) follow go-yaml: the mapping's own keys
win, then the merged mappings in order. Duplicate keys are refused (PyYAML would silently
keep the last one). Files are read through ``hakobu.model.files`` (regular, bounded, UTF-8)
and each document is measured (``hakobu.model.yamlbounds``) before it is built, so no file
can stand for more data than a render can hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hakobu.errors import InvalidInput
from hakobu.model import files
from hakobu.model.scalars import ScalarError, resolve_plain, resolve_tagged
from hakobu.model.yamlbounds import Budget, Excess

FieldPath = tuple[str | int, ...]


def format_field(path: FieldPath) -> str:
    """``("spec", "ports", 0, "port")`` → ``spec.ports[0].port``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


class SourceError(InvalidInput):
    """Invalid input located in a file: ``file:line: field: message``."""

    def __init__(
        self,
        file: Path | str,
        message: str,
        *,
        line: int | None = None,
        field: FieldPath = (),
        hint: str | None = None,
    ) -> None:
        location = f"{file}:{line}" if line else str(file)
        where = f" {format_field(field)}:" if field else ""
        super().__init__(f"{location}:{where} {message}", hint=hint)
        self.file = str(file)
        self.line = line
        self.field = field


class BoundsError(SourceError):
    """A file that stands for more data, or deeper data, than hakobu reads."""


@dataclass(frozen=True)
class Document:
    """One YAML document: its data and the line (1-based) of each field in its file."""

    file: Path
    index: int
    data: Any
    lines: dict[FieldPath, int] = field(repr=False, compare=False)
    # The written text of scalars whose value differs from it (``0755`` read as 493).
    texts: dict[FieldPath, str] = field(default_factory=dict, repr=False, compare=False)

    def text_of(self, path: FieldPath) -> str | None:
        """The scalar at ``path`` as written, without quotes (``0755``, ``yes``, ``~``).

        kustomize reads some fields as text rather than values (``metadata.annotations``
        come out as the strings written there); None when no scalar is at ``path``.
        """
        if path in self.texts:
            return self.texts[path]
        value = self.data
        for part in path:
            found = (
                isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
            ) or (isinstance(value, dict) and part in value)
            if not found:
                return None
            value = value[part]
        return value if isinstance(value, str) else None

    def line_of(self, path: FieldPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def error(self, path: FieldPath, message: str, hint: str | None = None) -> SourceError:
        return SourceError(self.file, message, line=self.line_of(path), field=path, hint=hint)


def load_documents(file: Path, text: str | None = None) -> list[Document]:
    """Parse every non-empty document of ``file`` (or of ``text``, reported as ``file``)."""
    if text is None:
        try:
            text = files.read_text(file)
        except FileNotFoundError:
            raise SourceError(file, "file does not exist") from None
    budget = bounds(file, text)
    loader = _Loader(text)
    documents: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            admit(budget, file, node)
            builder = _Builder(file)
            builder.lines[()] = node.start_mark.line + 1
            data = builder.build(node, ())
            if data is not None:
                documents.append(Document(file, len(documents), data, builder.lines, builder.texts))
    except yaml.YAMLError as e:
        raise yaml_error(file, e) from None
    finally:
        loader.dispose()
    return documents


def bounds(file: Path | str, text: str) -> Budget:
    """The bounds ``file`` is held to while its documents are composed and admitted."""
    budget = Budget(text)
    _refuse(file, budget.screen())
    return budget


def admit(budget: Budget, file: Path | str, node: Node) -> None:
    """Refuse ``file`` when its document ``node`` passes the bounds ``budget`` keeps."""
    _refuse(file, budget.admit(node))


def _refuse(file: Path | str, excess: Excess | None) -> None:
    if excess is not None:
        raise BoundsError(
            file, excess.message, line=excess.line, field=excess.field, hint=excess.hint
        )


def compose_one(file: Path | str, text: str) -> Node | None:
    """The one document of ``text`` as PyYAML's nodes (for editing it), held to the bounds."""
    node: Node | None = _single(file, text, construct=False)
    return node


def safe_load_one(file: Path | str, text: str) -> Any:
    """``yaml.safe_load(text)`` held to the bounds, for text read as PyYAML reads it."""
    return _single(file, text, construct=True)


def _single(file: Path | str, text: str, *, construct: bool) -> Any:
    budget = bounds(file, text)
    # The pure-Python loader keeps the marks (index, column) that editors of the text use.
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        admit(budget, file, node)
        return loader.construct_document(node) if construct else node
    except yaml.YAMLError as e:
        raise yaml_error(file, e) from None
    finally:
        loader.dispose()


def yaml_error(file: Path | str, error: yaml.YAMLError) -> SourceError:
    """A parser's error as a SourceError that names the file and the line."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        return SourceError(
            file,
            f"invalid YAML: {error.problem or error.context}",
            line=mark.line + 1 if mark else None,
            hint="check the indentation and quoting around that line",
        )
    return SourceError(file, f"invalid YAML: {error}")


def load_one(file: Path, text: str | None = None) -> Document:
    """Exactly one document (a config file): none or several is an error."""
    documents = load_documents(file, text)
    if len(documents) != 1:
        raise SourceError(file, f"expected exactly one YAML document, found {len(documents)}")
    return documents[0]


# Unquoted, untagged scalars get this tag so they are resolved as go-yaml v3 resolves them.
_PLAIN_TAG = "tag:hakobu,plain"
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(yaml.CSafeLoader):
    """libyaml's parser without PyYAML's YAML 1.1 resolver: resolution happens in ``_Builder``.

    Untagged scalars (and those tagged ``!``) are marked ``_PLAIN_TAG``; ``_Builder`` resolves
    them only if they are also written plain, since libyaml reports ``! "text"`` as implicit
    too. libyaml's marks carry lines as PyYAML's do.
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode:
            return _PLAIN_TAG if implicit[0] else _STR_TAG
        return "tag:yaml.org,2002:seq" if kind is SequenceNode else "tag:yaml.org,2002:map"


class _Builder:
    """Turns composed nodes into plain data, recording lines and the text of scalars."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.lines: dict[FieldPath, int] = {}
        self.texts: dict[FieldPath, str] = {}

    def build(self, node: Node, path: FieldPath) -> Any:
        # ``admit`` measured the document first: no alias cycle, bounded size and depth.
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, MappingNode):
            return self.mapping(node, path)
        if isinstance(node, SequenceNode):
            return self.sequence(node, path)
        raise self._error(node, f"unsupported YAML node {type(node).__name__}", path)

    def scalar(self, node: ScalarNode, path: FieldPath) -> Any:
        text = node.value
        if node.tag == _PLAIN_TAG and not node.style:
            value = resolve_plain(text)
        elif node.tag == _PLAIN_TAG:
            value = text
        else:
            try:
                value = resolve_tagged(node.tag, text)
            except ScalarError as e:
                raise self._error(node, str(e), path) from None
        if value != text or not isinstance(value, str):
            self.texts[path] = text
        return value

    def sequence(self, node: SequenceNode, path: FieldPath) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            self.lines[child] = item.start_mark.line + 1
            items.append(self.build(item, child))
        return items

    def mapping(self, node: MappingNode, path: FieldPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merge: Node | None = None
        merge_line = 0
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if _is_merge_key(key_node):
                if merge is not None:
                    raise self._duplicate("<<", (*path, "<<"), line, merge_line)
                merge, merge_line = value_node, line
                continue
            key = self._key(key_node, path)
            child = (*path, key)
            if key in result:
                raise self._duplicate(key, child, line, self.lines.get(child))
            self.lines[child] = line
            result[key] = self.build(value_node, child)
        if merge is not None:
            self._merge(result, merge, path)
        return result

    def _key(self, node: Node, path: FieldPath) -> str:
        if not isinstance(node, ScalarNode):
            raise self._error(node, "a mapping key must be a scalar", path)
        key = self.scalar(node, (*path, node.value))
        self.texts.pop((*path, node.value), None)
        if not isinstance(key, str):
            raise self._error(
                node,
                f"mapping key {node.value} is read as a {_type_name(key)}, not a string",
                path,
                hint=f'quote it ("{node.value}") if it is a name',
            )
        return key

    def _merge(self, result: dict[str, Any], merge: Node, path: FieldPath) -> None:
        sources = merge.value if isinstance(merge, SequenceNode) else [merge]
        for source in sources:
            if not isinstance(source, MappingNode):
                raise self._error(
                    source,
                    "a merge key (<<) needs a mapping or a list of mappings",
                    path,
                    hint="point it at an anchored mapping, for example <<: *defaults",
                )
            # Lines of merged keys are those in the merged mapping; keys already present
            # (the mapping's own, or an earlier merge's) win and keep their lines.
            inner = _Builder(self.file)
            merged = inner.build(source, path)
            for key, value in merged.items():
                if key not in result:
                    result[key] = value
                    _copy_under(inner.lines, self.lines, (*path, key))
                    _copy_under(inner.texts, self.texts, (*path, key))

    def _duplicate(self, key: str, child: FieldPath, line: int, first: int | None) -> SourceError:
        return SourceError(
            self.file,
            f"duplicate key {key!r} (first at line {first})",
            line=line,
            field=child,
            hint="remove one of them; YAML keeps only one value per key",
        )

    def _error(
        self, node: Node, message: str, path: FieldPath, hint: str | None = None
    ) -> SourceError:
        return SourceError(self.file, message, line=node.start_mark.line + 1, field=path, hint=hint)


def _is_merge_key(node: Node) -> bool:
    if not isinstance(node, ScalarNode) or node.value != "<<":
        return False
    return node.tag == _MERGE_TAG or (node.tag == _PLAIN_TAG and not node.style)


def _copy_under(
    source: dict[FieldPath, Any], target: dict[FieldPath, Any], prefix: FieldPath
) -> None:
    size = len(prefix)
    for path, value in source.items():
        if path[:size] == prefix:
            target[path] = value


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else "timestamp"
