"""``hakobu health``: the health of live objects read from a file or stdin."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hakobu.cli.output import print_json
from hakobu.health import Health, HealthStatus, assess
from hakobu.model.files import read_stream, read_text
from hakobu.model.objects import Object, object_ref
from hakobu.model.source import Document, FieldPath, SourceError, load_documents

# What lets a command that waits on these objects go on: nothing left to wait for.
SETTLED = frozenset({HealthStatus.HEALTHY, HealthStatus.SUSPENDED})

STDIN = "<stdin>"

OBJECT_HINT = (
    "give live objects as `kubectl get -o yaml` prints them: YAML documents or a List, "
    "each with apiVersion, kind, metadata.name and, usually, a status"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "health",
        help="assess the health of live objects (exit 1 unless all are Healthy or Suspended)",
        description="Read live Kubernetes objects (several YAML documents, or a List such "
        "as `kubectl get deploy,svc -o yaml` prints) and say for each whether it is "
        "Healthy, Progressing, Degraded, Suspended or Unknown, and why. Exits 0 when every "
        "object is Healthy or Suspended, 1 otherwise.",
    )
    parser.add_argument(
        "-f",
        "--filename",
        required=True,
        metavar="FILE",
        help="YAML file of live objects; `-` reads standard input",
    )
    parser.add_argument("-o", "--output", choices=["text", "json"], default="text")
    parser.set_defaults(handler=_health)


@dataclass(frozen=True)
class Assessed:
    obj: Object
    health: Health


def _health(args: argparse.Namespace) -> int:
    results = [Assessed(obj, assess(obj)) for obj in read_objects(args.filename)]
    if args.output == "json":
        print_json([_as_json(result) for result in results])
    else:
        for result in results:
            line = f"{result.health.status} {object_ref(result.obj)}"
            print(f"{line} — {result.health.message}" if result.health.message else line)
    return 0 if all(result.health.status in SETTLED for result in results) else 1


def _as_json(result: Assessed) -> dict[str, Any]:
    metadata = result.obj["metadata"]
    return {
        "kind": result.obj["kind"],
        "namespace": metadata.get("namespace") or None,
        "name": metadata["name"],
        "status": result.health.status.value,
        "message": result.health.message,
    }


def read_objects(filename: str) -> list[Object]:
    """Every object in ``filename`` (``-``: stdin), Lists flattened, in file order."""
    file = Path(STDIN if filename == "-" else filename)
    try:
        text = read_stream(sys.stdin.buffer, STDIN) if filename == "-" else read_text(file)
    except FileNotFoundError:
        raise SourceError(file, "file does not exist") from None
    except OSError as e:
        raise SourceError(file, f"cannot be read ({e.strerror})") from None
    documents = load_documents(file, text)
    if not documents:
        # An empty List is a fine answer from a cluster; an empty file is a mistake.
        raise SourceError(file, "no objects found", hint=OBJECT_HINT)
    return [obj for document in documents for obj in _objects(document)]


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
