"""``hakobu init``: write a small working example project."""

from __future__ import annotations

import argparse
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from hakobu.model.example import write_example


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "init",
        help="write an example project (hakobu.yaml and three apps) to start from",
        description="Write hakobu.yaml with two environments and three apps — an app spec, "
        "a Jinja template app and a kustomize app — into DIR. Existing files are never "
        "overwritten.",
    )
    parser.add_argument("directory", nargs="?", type=Path, default=Path(), metavar="DIR")
    parser.set_defaults(handler=_init)


def _init(args: argparse.Namespace) -> int:
    target: Path = args.directory
    files = dict(_walk(resources.files("hakobu") / "example", Path()))
    write_example(target, files)
    print(f"wrote an example project to {target.resolve()}:")
    for relative in sorted(files):
        print(f"  {relative}")
    # Image tags are hashes of committed trees, so the first render needs a first commit.
    print("next: git init && git add -A && git commit -m 'A new hakobu project'")
    print("      hakobu render --commit        (and in CI: hakobu render --check)")
    return 0


def _walk(node: Traversable, prefix: Path) -> list[tuple[Path, bytes]]:
    found: list[tuple[Path, bytes]] = []
    for child in node.iterdir():
        if child.name == "__pycache__":
            continue
        if child.is_dir():
            found += _walk(child, prefix / child.name)
        else:
            found.append((prefix / child.name, child.read_bytes()))
    return found
