"""``hakobu agent``: keep one environment of a cluster synced with a branch of a git remote."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TypeAlias

from hakobu.agent import Agent, AgentOptions, Checkout
from hakobu.agent.checkout import default_directory
from hakobu.cli.kube import add_keys_namespace_option, add_kubeconfig_option, kubeconfig_path
from hakobu.cluster.client import KubeClient
from hakobu.cluster.retry import Backoff, Retrying
from hakobu.errors import InvalidInput

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(subparsers: Subparsers) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "agent",
        help="follow a branch of a git remote and keep an environment synced with it",
        description="Every --interval seconds: fetch the branch into the agent's own clone, "
        "and sync the environment when generated/<env>/ changed since the last sync or the "
        "cluster drifted from it (fields changed by hand are taken back). Each sync's start, "
        "waits and result are logged on stderr, one line each, and recorded like `hakobu "
        "sync` records it. A difference a sync does not remove (without --prune, objects git "
        "no longer holds) is reported once, not synced again and again. A failed sync is "
        "retried with backoff up to --retry-limit times, then given up until git or the "
        "cluster changes; an unreachable remote or API server is retried with backoff for as "
        "long as it lasts. SIGTERM or Ctrl-C stops the agent between iterations. Run one "
        "agent per environment. With `autoRollback: {window: S}` on the environment in "
        "hakobu.yaml, a sync that fails or an app that turns Degraded within S seconds is "
        "answered with a rollback commit to the last revision that stayed healthy that long "
        "(remembered in the sync records, so across restarts), pushed to the branch (never "
        "forced) and synced; that sync also deletes what the failed revision added, with or "
        "without --prune, so the rollback restores the last good state exactly.",
    )
    parser.add_argument("--env", required=True, help="the environment, as named in hakobu.yaml")
    parser.add_argument(
        "--repo", required=True, metavar="URL|PATH", help="the git remote to follow"
    )
    parser.add_argument("--branch", default="main", help="the branch to follow (default main)")
    parser.add_argument(
        "--interval",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="seconds between iterations (default 30)",
    )
    add_kubeconfig_option(parser)
    add_keys_namespace_option(parser)
    parser.add_argument("--once", action="store_true", help="one iteration, then exit")
    parser.add_argument("--prune", action="store_true", help="delete what git no longer holds")
    parser.add_argument(
        "--retry-limit",
        type=int,
        default=5,
        metavar="N",
        help="times a failed sync of one revision is tried again before giving up on it "
        "(default 5)",
    )
    parser.add_argument(
        "--path",
        default=".",
        metavar="DIR",
        help="the project directory (holding hakobu.yaml) inside the repository (default: .)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the agent's clone (default: one per remote and branch under "
        "$XDG_STATE_HOME/hakobu/agent)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long one sync may wait for objects to become Healthy (default 300)",
    )
    parser.set_defaults(handler=_agent)


def log(message: str) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    print(f"{now} {message}", file=sys.stderr, flush=True)


def _agent(args: argparse.Namespace) -> int:
    if not args.interval > 0:
        raise InvalidInput(f"--interval {args.interval:g}: expected a number of seconds above 0")
    if args.retry_limit < 0:
        raise InvalidInput(f"--retry-limit {args.retry_limit}: expected 0 or more")
    workdir = args.workdir or default_directory(args.repo, args.branch)
    checkout = Checkout(args.repo, args.branch, workdir)
    options = AgentOptions(
        env=args.env,
        interval=args.interval,
        project_path=args.path,
        prune=args.prune,
        timeout=args.timeout,
        retry_limit=args.retry_limit,
        keys_namespace=args.keys_namespace,
    )
    retrying = Retrying(Backoff(patience=max(30.0, args.interval)), log)
    with KubeClient.from_kubeconfig(
        kubeconfig_path(args.kubeconfig), args.context, retry=retrying
    ) as kube:
        agent = Agent(checkout, kube, options, log)
        if args.once:
            return 0 if agent.try_iterate() else 1
        stop = threading.Event()

        def request_stop(signum: int, _: FrameType | None) -> None:
            log(f"{signal.Signals(signum).name}: stopping after the current iteration")
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        agent.run(stop)
    return 0
