"""``hakobu health``: the health of live objects read from a file or stdin."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from hakobu.cli.options import add_output_option
from hakobu.cli.output import print_json
from hakobu.health import Health, assess, settled
from hakobu.model.objects import Object, object_ref
from hakobu.model.readobjects import read_objects


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
    add_output_option(parser)
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
    return 0 if all(settled(result.health.status) for result in results) else 1


def _as_json(result: Assessed) -> dict[str, Any]:
    metadata = result.obj["metadata"]
    return {
        "kind": result.obj["kind"],
        "namespace": metadata.get("namespace") or None,
        "name": metadata["name"],
        "status": result.health.status.value,
        "message": result.health.message,
    }
