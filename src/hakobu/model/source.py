"""Load YAML files while remembering where every field came from.

Errors about user input must name the file, the line and the field. ``load_documents``
returns each YAML document's data together with the line of every mapping key and sequence
item, so any layer can point at ``apps/web.yaml:12: spec.ports[0].port``.

Duplicate keys are refused (PyYAML would silently keep the last one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hakobu.errors import InvalidInput

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


@dataclass(frozen=True)
class Document:
    """One YAML document: its data and the line (1-based) of each field in its file."""

    file: Path
    index: int
    data: Any
    lines: dict[FieldPath, int] = field(repr=False, compare=False)

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
            text = file.read_text()
        except FileNotFoundError:
            raise SourceError(file, "file does not exist") from None
        except UnicodeDecodeError:
            raise SourceError(file, "not a UTF-8 text file") from None
    loader = yaml.SafeLoader(text)
    documents: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            lines: dict[FieldPath, int] = {(): node.start_mark.line + 1}
            data = _construct(loader, node, (), lines, file)
            if data is not None:
                documents.append(Document(file, len(documents), data, lines))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise SourceError(
            file,
            f"invalid YAML: {e.problem or e.context}",
            line=mark.line + 1 if mark else None,
            hint="check the indentation and quoting around that line",
        ) from None
    except yaml.YAMLError as e:
        raise SourceError(file, f"invalid YAML: {e}") from None
    finally:
        loader.dispose()
    return documents


def load_one(file: Path, text: str | None = None) -> Document:
    """Exactly one document (a config file): none or several is an error."""
    documents = load_documents(file, text)
    if len(documents) != 1:
        raise SourceError(file, f"expected exactly one YAML document, found {len(documents)}")
    return documents[0]


def _construct(
    loader: yaml.SafeLoader,
    node: Node,
    path: FieldPath,
    lines: dict[FieldPath, int],
    file: Path,
) -> Any:
    if isinstance(node, MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                raise SourceError(
                    file, "a mapping key must be a scalar", line=key_node.start_mark.line + 1
                )
            child = (*path, str(key))
            if key in result:
                raise SourceError(
                    file,
                    f"duplicate key {key!r} (first at line {lines.get(child)})",
                    line=key_node.start_mark.line + 1,
                    field=child,
                    hint="remove one of them; YAML keeps only one value per key",
                )
            lines[child] = key_node.start_mark.line + 1
            result[key] = _construct(loader, value_node, child, lines, file)
        return result
    if isinstance(node, SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            items.append(_construct(loader, item, child, lines, file))
        return items
    if isinstance(node, ScalarNode):
        return loader.construct_object(node, deep=True)
    return loader.construct_object(node, deep=True)
