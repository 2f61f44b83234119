"""Which cluster a command talks to: ``--kubeconfig``, else ``$KUBECONFIG``, else the local
cluster started by ``hakobu cluster up``; and how long to try to reach it
(``--request-timeout``, as kubectl names it)."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from pathlib import Path

from hakobu.cluster.client import KubeClient
from hakobu.cluster.kubeconfig import kubeconfig_paths
from hakobu.cluster.retry import Backoff, Retrying
from hakobu.errors import InvalidInput
from hakobu.model.clusters import Cluster
from hakobu.secrets.keystore import DEFAULT_NAMESPACE as DEFAULT_KEYS_NAMESPACE

NO_CLUSTER_HINT = "pass --kubeconfig, set KUBECONFIG, or start one with `hakobu cluster up`"

# Long enough for a TLS handshake across the world, short enough that a wrong address or a
# stopped cluster is said within moments rather than after a minute.
DEFAULT_REQUEST_TIMEOUT = 5.0

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")


def duration(text: str) -> float:
    """Seconds from ``30s``, ``2m``, ``1m30s``, ``1h`` or a plain number of seconds, as
    kubectl's duration flags read them."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        match = _DURATION.fullmatch(value)
        if not value or match is None:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a duration: use e.g. 30s, 2m, 1m30s or a number of seconds"
            ) from None
        hours, minutes, secs = (float(part) if part else 0.0 for part in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: a duration is a finite time, not negative")
    return seconds


def add_kubeconfig_option(parser: argparse.ArgumentParser) -> None:
    """``--kubeconfig`` and ``--context``; read back with ``connect`` or ``client``."""
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help="default: the files of $KUBECONFIG merged as kubectl merges them, else the local "
        "cluster started by `hakobu cluster up`",
    )
    parser.add_argument(
        "--context",
        default=None,
        metavar="NAME",
        help="the kubeconfig context to use (default: its current-context)",
    )


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """``--kubeconfig`` and ``--request-timeout``; read back with ``connect``."""
    add_kubeconfig_option(parser)
    parser.add_argument(
        "--request-timeout",
        type=duration,
        default=DEFAULT_REQUEST_TIMEOUT,
        metavar="DURATION",
        help="how long to try to reach the API server (connect, TLS, retries) before giving "
        f"up with exit code 3, e.g. 10s or 1m (default {DEFAULT_REQUEST_TIMEOUT:g}s); an "
        "answer is then awaited up to 30s",
    )


def add_keys_namespace_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keys-namespace",
        default=None,
        metavar="NAMESPACE",
        help="where the sealing keys are kept, for an environment with `sealedSecrets: "
        "hakobu` in hakobu.yaml, whose SealedSecrets hakobu opens (default: the "
        f"environment's keysNamespace, else {DEFAULT_KEYS_NAMESPACE})",
    )


def connect(args: argparse.Namespace, *, log: Callable[[str], None] = lambda _: None) -> KubeClient:
    """A client for the options of ``add_cluster_options``. A server that has answered is
    ridden out through a restart; one that never answered is given up on after the
    request timeout (``Unreachable``, exit 3)."""
    return _client(args, args.context, log)


def connect_cluster(
    args: argparse.Namespace, cluster: Cluster, *, log: Callable[[str], None] = lambda _: None
) -> KubeClient:
    """A client for one of an environment's ``clusters``: its context in the kubeconfig of
    ``add_cluster_options``, with its request timeout."""
    return _client(args, cluster.context, log)


def _client(
    args: argparse.Namespace, context: str | None, log: Callable[[str], None]
) -> KubeClient:
    timeout: float = args.request_timeout
    retry = Retrying(Backoff(), log, reach=timeout)
    return KubeClient.from_kubeconfig(
        kubeconfig_path(args.kubeconfig),
        context,
        retry=retry,
        connect_timeout=max(timeout, 0.001),
    )


def client(
    option: Path | None, context: str | None = None, *, hint: str = NO_CLUSTER_HINT
) -> KubeClient:
    """A client for ``--kubeconfig`` (read by ``kubeconfig_path``) and ``--context``, with
    the default retries."""
    return KubeClient.from_kubeconfig(kubeconfig_path(option, hint=hint), context)


def kubeconfig_path(option: Path | None, *, hint: str = NO_CLUSTER_HINT) -> Path | list[Path]:
    """The kubeconfig file, or the files of ``$KUBECONFIG`` (merged by the loader as kubectl
    merges them); ``hint`` tells what to do when there is none."""
    if option is not None:
        return option
    if os.environ.get("KUBECONFIG"):
        return kubeconfig_paths()
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
