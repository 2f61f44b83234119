"""Entry point of the ``hakobu`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hakobu import __version__
from hakobu.cli import cluster, health
from hakobu.errors import HakobuError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hakobu",
        description="GitOps delivery for Kubernetes: git holds the truth; hakobu carries it "
        "to clusters.",
    )
    parser.add_argument("--version", action="version", version=f"hakobu {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cluster.register(subparsers)
    health.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except HakobuError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
