"""``hakobu source pin --to REV``: move the commit of the application repository a system
repository renders its fleets from."""

from __future__ import annotations

import argparse
from typing import TypeAlias

from hakobu.cli.options import add_project_option, load
from hakobu.releases.sourcepin import plan_pin

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(subparsers: Subparsers) -> None:
    source = subparsers.add_parser(
        "source",
        help="the application repository a system repository pins",
        description="A system repository's hakobu.yaml pins the application repository its "
        "fleets render from (source: {repository, revision}). Moving the pin is how a new "
        "template version reaches the fleet; render and commit afterwards.",
    )
    add_project_option(source)
    actions = source.add_subparsers(dest="action", required=True, metavar="ACTION")
    pin = actions.add_parser(
        "pin",
        help="pin another commit of the application repository",
        description="Resolve REV in the application repository, fetch it, and rewrite the "
        "commit id on hakobu.yaml's revision: line (nothing else changes). A REV the "
        "repository does not hold is refused and nothing is written.",
    )
    pin.add_argument("--to", required=True, metavar="REV", help="a branch, tag or full commit id")
    pin.set_defaults(handler=_pin)


def _pin(args: argparse.Namespace) -> int:
    project = load(args)
    move = plan_pin(project, args.to)
    if move.text is None:
        print(f"already pinned to {move.after}")
        return 0
    project.file.write_text(move.text)
    print(f"pinned {move.before[:12]} -> {move.after[:12]} in {project.file}")
    return 0
