"""Options the commands share, defined once: the project directory, the output format, and
loading the project they name. Cluster options (``--kubeconfig``, ``--request-timeout``)
are in ``kube.py``.

The project directory has two documented spellings: ``-C DIR`` for the commands that act on
one environment (diff, sync, status, history, rollback, promote), and ``-C/--directory`` for
render and images. Both read the same way: the directory, or its nearest parent holding
``hakobu.yaml``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hakobu.model.project import Project, find_root, load_project

OUTPUT_FORMATS = ("text", "json")


def add_output_option(parser: argparse.ArgumentParser) -> None:
    """``-o/--output text|json``, read back as ``args.output``."""
    parser.add_argument("-o", "--output", choices=list(OUTPUT_FORMATS), default="text")


def add_project_option(
    parser: argparse.ArgumentParser, *, long_name: bool = False, inherited: bool = False
) -> None:
    """``-C``, read back as ``args.directory`` (with ``project_root``, ``load``).

    ``long_name`` adds ``--directory``. ``inherited``: a subcommand's option that keeps what
    was given before the subcommand's name, which a default of its own would overwrite.
    """
    default = argparse.SUPPRESS if inherited else Path()
    if long_name:
        parser.add_argument(
            "-C", "--directory", type=Path, default=default, help="project directory"
        )
        return
    parser.add_argument(
        "-C",
        dest="directory",
        type=Path,
        default=default,
        metavar="DIR",
        help="the project directory (default: the current one, or a parent with hakobu.yaml)",
    )


def project_root(args: argparse.Namespace) -> Path:
    """The directory holding ``hakobu.yaml``: ``-C``'s, or the nearest parent's."""
    return find_root(args.directory)


def load(args: argparse.Namespace) -> Project:
    """The project ``-C`` names, loaded and validated."""
    return load_project(project_root(args))
