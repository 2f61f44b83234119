"""Which cluster a command talks to: ``--kubeconfig``, else ``$KUBECONFIG``, else the local
cluster started by ``hakobu cluster up``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from hakobu.errors import InvalidInput

NO_CLUSTER_HINT = "pass --kubeconfig, set KUBECONFIG, or start one with `hakobu cluster up`"


def add_kubeconfig_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help="default: $KUBECONFIG, else the local cluster started by `hakobu cluster up`",
    )


def kubeconfig_path(option: Path | None, *, hint: str = NO_CLUSTER_HINT) -> Path:
    """The kubeconfig to use; ``hint`` tells what to do when there is none."""
    if option is not None:
        return option
    if os.environ.get("KUBECONFIG"):
        # One file is read, not kubectl's merge of the whole list: the first.
        return Path(os.environ["KUBECONFIG"].split(os.pathsep)[0])
    # Only here: the control plane's module (certificates, processes) costs a command
    # that is told its cluster a tenth of a second to import.
    from hakobu.localcluster.controlplane import default_state_dir, read_info  # noqa: PLC0415

    info = read_info(default_state_dir())
    if info is None:
        raise InvalidInput(
            "no cluster to talk to: --kubeconfig is not given, KUBECONFIG is not set and "
            "no local cluster is running",
            hint=hint,
        )
    return Path(info.kubeconfig)
