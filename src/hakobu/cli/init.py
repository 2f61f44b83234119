"""``hakobu init``: write a small working example project."""

from __future__ import annotations

import argparse
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from hakobu.errors import InvalidInput
from hakobu.model.project import PROJECT_FILE
from hakobu.render.cache import CACHE_DIR

_IGNORED = f"/{CACHE_DIR.parts[0]}/"


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
    example = resources.files("hakobu") / "example"
    files = dict(_walk(example, Path()))
    if (target / PROJECT_FILE).exists():
        raise InvalidInput(f"{target / PROJECT_FILE} already exists; this is a project already")
    clashes = sorted(str(target / p) for p in files if (target / p).exists())
    if clashes:
        raise InvalidInput(
            f"hakobu init would overwrite {', '.join(clashes)}",
            hint="run it in an empty directory, or move those files away first",
        )
    for relative, content in sorted(files.items()):
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_bytes(content)
    gitignore = target / ".gitignore"
    existing = gitignore.read_text() if gitignore.exists() else ""
    if _IGNORED not in existing.splitlines():
        separator = "" if not existing or existing.endswith("\n") else "\n"
        gitignore.write_text(f"{existing}{separator}{_IGNORED}\n")
    print(f"wrote an example project to {target.resolve()}:")
    for relative in sorted(files):
        print(f"  {relative}")
    print("next: git init && hakobu render --commit   (then: hakobu render --check in CI)")
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
