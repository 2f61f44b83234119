"""``hakobu build``: a kustomize-compatible build of one directory, printed as YAML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hakobu.render.kustomize import LOAD_RESTRICTIONS_NONE, LOAD_RESTRICTIONS_ROOT_ONLY, build
from hakobu.render.yamlout import dump_documents


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "build",
        help="build a kustomization directory (prints what `kustomize build` prints)",
        description="Build DIR's kustomization (resources, bases, components, generators, "
        "patches and transformers) and print the objects as YAML, byte for byte as "
        "`kustomize build DIR` does.",
    )
    parser.add_argument("directory", metavar="DIR", type=Path, help="a kustomization directory")
    parser.add_argument(
        "--load-restrictor",
        choices=[LOAD_RESTRICTIONS_ROOT_ONLY, LOAD_RESTRICTIONS_NONE],
        default=LOAD_RESTRICTIONS_ROOT_ONLY,
        help="whether files must lie in or below each kustomization's directory "
        "(default: %(default)s)",
    )
    parser.set_defaults(handler=_build)


def _build(args: argparse.Namespace) -> int:
    objects = build(args.directory, load_restrictor=args.load_restrictor)
    sys.stdout.write(dump_documents(objects))
    return 0
