"""Objects from a file or from standard input, named ``-`` as ``kubectl apply -f -`` names it.

Both go through ``model.files``' bounds: a FIFO or a device given as the file is refused
without blocking, and standard input is read up to the same size as a file. Errors name the
file (``<stdin>`` for standard input) and the line of the field at fault.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from hakobu.model.files import MAX_FILE_BYTES, FileRefused, read_stream, read_text
from hakobu.model.objects import Object
from hakobu.model.source import Document, FieldPath, SourceError, load_documents

STDIN = "-"
# How documents read from standard input are located in errors: `<stdin>:3: kind: …`.
STDIN_PATH = Path("<stdin>")

OBJECT_HINT = (
    "give live objects as `kubectl get -o yaml` prints them: YAML documents or a List, "
    "each with apiVersion, kind, metadata.name and, usually, a status"
)


def read_documents(
    source: str, *, stdin: IO[Any] | None = None, stdin_name: str = str(STDIN_PATH)
) -> list[Document]:
    """Every YAML document of the file ``source`` (``-``: ``stdin``, else standard input).

    ``stdin_name`` names standard input where its bytes are refused (too large, not UTF-8).
    No document at all is not an error here: what that means is the caller's to say.
    """
    if source == STDIN:
        return load_documents(STDIN_PATH, _read_stdin(stdin or sys.stdin, stdin_name))
    try:
        text = read_text(Path(source))
    except FileNotFoundError:
        raise SourceError(source, "file does not exist") from None
    except OSError as e:
        raise SourceError(source, f"cannot be read ({e.strerror})") from None
    return load_documents(Path(source), text)


def read_objects(source: str, *, stdin: IO[Any] | None = None) -> list[Object]:
    """Every Kubernetes object in ``source``, Lists flattened, in file order; none is an error."""
    documents = read_documents(source, stdin=stdin)
    if not documents:
        # An empty List is a fine answer from a cluster; an empty file is a mistake.
        file = STDIN_PATH if source == STDIN else Path(source)
        raise SourceError(file, "no objects found", hint=OBJECT_HINT)
    return [obj for document in documents for obj in _objects(document)]


def _read_stdin(stream: IO[Any], name: str) -> str:
    binary = getattr(stream, "buffer", None)
    if binary is not None:
        return read_stream(binary, name)
    # A text stream put in place of standard input (by a program that embeds the command):
    # the same bound, counted in characters.
    text = str(stream.read(MAX_FILE_BYTES + 1))
    if len(text) > MAX_FILE_BYTES:
        raise FileRefused(name, f"is larger than {MAX_FILE_BYTES >> 20} MiB")
    return text


def _objects(document: Document) -> Iterator[Object]:
    data = document.data
    if isinstance(data, dict) and str(data.get("kind", "")).endswith("List") and "items" in data:
        items = data["items"]
        if not isinstance(items, list):
            raise document.error(("items",), "expected a list of objects", OBJECT_HINT)
        for index, item in enumerate(items):
            yield _checked(document, ("items", index), item)
    else:
        yield _checked(document, (), data)


def _checked(document: Document, path: FieldPath, obj: object) -> Object:
    if not isinstance(obj, dict):
        raise document.error(
            path, f"expected a Kubernetes object, found {type(obj).__name__}", OBJECT_HINT
        )
    for key in ("apiVersion", "kind"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            raise document.error((*path, key), f"expected {key} to be set", OBJECT_HINT)
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise document.error((*path, "metadata"), "expected metadata.name", OBJECT_HINT)
    if not isinstance(metadata.get("namespace", ""), str):
        raise document.error(
            (*path, "metadata", "namespace"), "expected a namespace name (a string)", OBJECT_HINT
        )
    return obj
