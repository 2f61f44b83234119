"""``hakobu health``: the health of live objects read from a file or stdin."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hakobu.cli.options import add_output_option
from hakobu.cli.output import print_json
from hakobu.health import Health, HealthRules, assess, settled
from hakobu.model.objects import Object, object_ref
from hakobu.model.project import find_root, load_project
from hakobu.model.readobjects import read_objects
from hakobu.model.source import SourceError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "health",
        help="assess the health of live objects (exit 1 unless all are Healthy or Suspended)",
        description="Read live Kubernetes objects (several YAML documents, or a List such "
        "as `kubectl get deploy,svc -o yaml` prints) and say for each whether it is "
        "Healthy, Progressing, Degraded, Suspended or Unknown, and why. Custom resources are "
        "judged by the project's health rules (hakobu.yaml's `health`), then by hakobu's "
        "own. Exits 0 when every object is Healthy or Suspended, 1 otherwise.",
    )
    parser.add_argument(
        "-f",
        "--filename",
        required=True,
        metavar="FILE",
        help="YAML file of live objects; `-` reads standard input",
    )
    parser.add_argument(
        "-C",
        dest="directory",
        type=Path,
        metavar="DIR",
        help="the project whose health rules apply (default: the current directory, or a "
        "parent with hakobu.yaml; outside a project, hakobu's own rules only)",
    )
    add_output_option(parser)
    parser.set_defaults(handler=_health)


@dataclass(frozen=True)
class Assessed:
    obj: Object
    health: Health


def _health(args: argparse.Namespace) -> int:
    rules = _rules(args.directory)
    results = [Assessed(obj, assess(obj, rules)) for obj in read_objects(args.filename)]
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


def _rules(directory: Path | None) -> HealthRules:
    """The rules of the project ``-C`` names; without ``-C``, of the one around, if any."""
    if directory is not None:
        return load_project(find_root(directory)).health
    try:
        around = find_root(Path())
    except SourceError:
        return HealthRules()
    return load_project(around).health
