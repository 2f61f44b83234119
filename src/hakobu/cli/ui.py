"""``hakobu ui``: the web dashboard of the project in this clone, on this machine."""

from __future__ import annotations

import argparse
import signal
import threading
import webbrowser
from types import FrameType

from hakobu.cli.kube import add_cluster_options, connect
from hakobu.cli.options import add_project_option, load
from hakobu.web.local import LocalDashboard


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "ui",
        help="the web dashboard of this clone's environments, on 127.0.0.1",
        description="Serve the dashboard and its HTTP API for the project in this clone and "
        "the cluster of the kubeconfig, on 127.0.0.1 only, and open it in the browser. The "
        "server acts as the kubeconfig's user: the cluster's RBAC for that user applies. "
        "The URL printed holds a one-time key that signs the browser in; anyone else on "
        "this machine without it gets the sign-in page. Stop with Ctrl-C.",
    )
    add_project_option(parser)
    add_cluster_options(parser)
    parser.add_argument(
        "--port", type=int, default=8765, help="the port (default 8765; 0 picks a free one)"
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="print the URL, do not open a browser"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how often every environment is read again for live updates (default 1)",
    )
    parser.add_argument(
        "--shard-namespace",
        default="hakobu-system",
        metavar="NAMESPACE",
        help="where the controller's replicas keep their Leases, shown on the Controller "
        "page (default hakobu-system)",
    )
    parser.set_defaults(handler=_ui)


def _ui(args: argparse.Namespace) -> int:
    project = load(args)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    with connect(args) as kube:
        local = LocalDashboard(
            project,
            kube,
            port=args.port,
            interval=args.interval,
            shard_namespace=args.shard_namespace,
        )
        url = local.start()
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        print(f"hakobu ui: {url}", flush=True)
        if not args.no_browser:
            webbrowser.open(url)
        try:
            stop.wait()
        finally:
            local.stop()
    return 0
