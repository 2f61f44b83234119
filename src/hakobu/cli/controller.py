"""``hakobu controller``: the delivery service (see hakobu.controller)."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from types import FrameType

from hakobu.cli.kube import add_kubeconfig_option, kubeconfig_path
from hakobu.cluster import incluster
from hakobu.cluster.client import KubeClient
from hakobu.cluster.retry import Backoff, Retrying
from hakobu.controller import logs
from hakobu.controller.delivery import DeliveryRef
from hakobu.controller.service import ServiceSettings, serve
from hakobu.errors import InvalidInput
from hakobu.model.usercache import state_root
from hakobu.web.incluster import DashboardSettings, controller_dashboard

DEFAULT_NAMESPACE = "hakobu-system"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "controller",
        help="reconcile Delivery resources: the always-on delivery service",
        description="Keep every Delivery this replica's shards hold applied: follow git "
        "(webhooks, polling), repair drift, report status. Run several replicas: they share "
        "the Deliveries through Leases. In a Pod it uses the Pod's ServiceAccount.",
    )
    add_kubeconfig_option(parser)
    parser.add_argument(
        "--shard-namespace",
        default=None,
        metavar="NAMESPACE",
        help="where the replicas' Leases live (default: the Pod's namespace, else "
        f"{DEFAULT_NAMESPACE})",
    )
    parser.add_argument(
        "--namespace",
        default=None,
        metavar="NAMESPACE",
        help="reconcile the Deliveries of this namespace only (default: every namespace)",
    )
    parser.add_argument(
        "--listen",
        default="0.0.0.0:8080",
        metavar="HOST:PORT",
        help="where webhooks, /metrics, /healthz, /readyz and the dashboard are served "
        "(default 0.0.0.0:8080; port 0 picks a free one)",
    )
    parser.add_argument(
        "--dashboard",
        default="auto",
        metavar="{auto,off,NAMESPACE/NAME}",
        help="the web dashboard and its HTTP API, signed in to with a token the API server "
        "accepts: auto (the default) shows the repository every Delivery follows; "
        "NAMESPACE/NAME the repository of that Delivery; off serves none",
    )
    parser.add_argument("--workers", type=int, default=4, help="passes run at once (default 4)")
    parser.add_argument(
        "--shards",
        type=int,
        default=32,
        help="how many shards the Deliveries are divided into; every replica must agree "
        "(default 32)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the clones are kept (default $XDG_STATE_HOME/hakobu/controller)",
    )
    parser.set_defaults(handler=_controller)


def _listen(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    if not colon or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InvalidInput(f"--listen {text}: expected HOST:PORT, e.g. 0.0.0.0:8080")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104


def _controller(args: argparse.Namespace) -> int:
    host, port = _listen(args.listen)
    for option, value in (("--workers", args.workers), ("--shards", args.shards)):
        if value < 1:
            raise InvalidInput(f"{option} {value}: expected 1 or more")
    shown = _shown(args.dashboard)
    retry = Retrying(Backoff(patience=float("inf")), lambda m: logs.log(m, level="warning"))
    in_pod = args.kubeconfig is None and args.context is None and incluster.in_pod()
    if in_pod:
        kube = KubeClient(incluster.connection(), retry=retry)
        lease_namespace = args.shard_namespace or incluster.namespace()
    else:
        kube = KubeClient.from_kubeconfig(
            kubeconfig_path(args.kubeconfig), args.context, retry=retry
        )
        lease_namespace = args.shard_namespace or DEFAULT_NAMESPACE
    workdir = args.workdir or state_root() / "controller"
    settings = ServiceSettings(
        lease_namespace=lease_namespace,
        workdir=workdir,
        host=host,
        port=port,
        workers=args.workers,
        shards=args.shards,
        namespace=args.namespace,
    )
    stop = threading.Event()

    def request_stop(signum: int, _: FrameType | None) -> None:
        logs.log(f"{signal.Signals(signum).name}: giving up shards and stopping")
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with kube:
        board = None
        if args.dashboard != "off":
            board = controller_dashboard(
                kube,
                DashboardSettings(
                    workdir=workdir,
                    namespace=lease_namespace,
                    choice=shown,
                    deliveries_namespace=args.namespace,
                ),
                lambda message: logs.log(message, component="dashboard"),
            )
        try:
            serve(kube, settings, stop, routes=[board.route] if board else [])
        finally:
            if board is not None:
                board.close()
    return 0


def _shown(choice: str) -> DeliveryRef | None:
    """The Delivery --dashboard names; None for auto (and off)."""
    if choice in ("auto", "off"):
        return None
    namespace, slash, name = choice.partition("/")
    if not slash or not namespace or not name or "/" in name:
        raise InvalidInput(
            f"--dashboard {choice}: expected auto, off or a Delivery as NAMESPACE/NAME"
        )
    return DeliveryRef(namespace, name)
