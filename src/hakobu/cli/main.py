"""Entry point of the ``hakobu`` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from hakobu import __version__
from hakobu.cli import (
    build,
    cluster,
    health,
    images,
    init,
    releases,
    render,
    schema,
    secret,
    sync,
)
from hakobu.errors import HakobuError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hakobu",
        description="GitOps delivery for Kubernetes: git holds the truth; hakobu carries it "
        "to clusters.",
    )
    parser.add_argument("--version", action="version", version=f"hakobu {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build.register(subparsers)
    cluster.register(subparsers)
    health.register(subparsers)
    images.register(subparsers)
    init.register(subparsers)
    releases.register(subparsers)
    render.register(subparsers)
    schema.register(subparsers)
    secret.register(subparsers)
    sync.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    passthrough = _passthrough_start(words)
    args = parser.parse_args(words[:passthrough])
    if hasattr(args, "args"):
        # argparse would read kubectl's own flags (`-n`, `-o`) as hakobu's.
        args.args = words[passthrough:]
    try:
        code: int = args.handler(args)
    except HakobuError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`hakobu … | head`): not an error worth a traceback. Point
        # stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return code


def _passthrough_start(words: list[str]) -> int:
    """Where the words for a wrapped tool begin (after `cluster … kubectl`), else the end."""
    if "cluster" in words and "kubectl" in words[words.index("cluster") :]:
        return words.index("kubectl", words.index("cluster")) + 1
    return len(words)


if __name__ == "__main__":
    sys.exit(main())
