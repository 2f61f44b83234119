"""Entry point of the ``hakobu`` command."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence

from hakobu import __version__
from hakobu.errors import HakobuError
from hakobu.model.gcpause import gc_paused

# The module under hakobu.cli that registers each command. A run imports only the module
# of its own command: the others pull in git, HTTP and cryptography libraries, and a
# `hakobu build` in a loop should not pay for them.
COMMANDS = {
    "agent": "agent",
    "bases": "bases",
    "build": "build",
    "chart": "chart",
    "cluster": "cluster",
    "controller": "controller",
    "delivery": "delivery",
    "health": "health",
    "images": "images",
    "init": "init",
    "fleet": "fleet",
    "install": "install",
    "uninstall": "install",
    "rollback": "releases",
    "promote": "releases",
    "render": "render",
    "rollout": "rollout",
    "schema": "schema",
    "source": "source",
    "secret": "secret",
    "sync": "sync",
    "diff": "sync",
    "status": "sync",
    "history": "sync",
    "preview": "preview",
    "ui": "ui",
}


def build_parser(words: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser for ``words``, with the commands they may need (all, when unsure)."""
    parser = argparse.ArgumentParser(
        prog="hakobu",
        description="GitOps delivery for Kubernetes: git holds the truth; hakobu carries it "
        "to clusters.",
    )
    parser.add_argument("--version", action="version", version=f"hakobu {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _modules_for(words):
        importlib.import_module(f"hakobu.cli.{module}").register(subparsers)
    return parser


def _modules_for(words: Sequence[str]) -> list[str]:
    first = words[0] if words else ""
    if first == "--version":
        # argparse prints the version and exits as soon as it reads the flag.
        return []
    if first in COMMANDS:
        return [COMMANDS[first]]
    # Help, errors and the usage line list every command.
    return list(dict.fromkeys(COMMANDS.values()))


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    # Importing a command's modules allocates a hundred thousand objects that live as long
    # as the process: collecting meanwhile frees nothing, and once frozen, no later
    # collection of a long-running command walks them again.
    with gc_paused():
        imported = len(sys.modules)
        parser = build_parser(words)
        if len(sys.modules) > imported:
            gc.freeze()
        passthrough = _passthrough_start(words)
        args = parser.parse_args(words[:passthrough])
    if hasattr(args, "args"):
        # argparse would read kubectl's own flags (`-n`, `-o`) as hakobu's.
        args.args = words[passthrough:]
    if getattr(args, "pause_collector", False):
        # A command that reads a whole environment once and ends: resuming the cyclic
        # collector while its objects are held would walk them all once more, to free
        # nothing (see hakobu.model.gcpause); ended, the process frees them anyway.
        gc.disable()
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
