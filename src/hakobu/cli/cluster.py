"""``hakobu cluster``: the embedded local Kubernetes control plane."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from hakobu.cli.options import add_output_option
from hakobu.cli.output import Progress, print_json
from hakobu.errors import OperationFailed
from hakobu.localcluster import controlplane
from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.toolchain import KUBERNETES


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "cluster",
        help="a local Kubernetes control plane (etcd, kube-apiserver, controllers, kwok nodes)",
        description="Run a real Kubernetes control plane on 127.0.0.1 for trying hakobu, "
        "demos and tests. Pods are simulated by kwok: they are scheduled and become Ready "
        "but run no containers. The binaries are built from source with Go on first use.",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where the cluster keeps its data, certificates and logs "
        "(default: $HAKOBU_CLUSTER_DIR or ~/.local/state/hakobu/cluster)",
    )
    _name_option(parser, default=None)
    commands = parser.add_subparsers(dest="cluster_command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="build (first time only) and start the cluster")
    _name_option(up)
    up.add_argument("--port", type=int, help="API server port on 127.0.0.1 (default: a free one)")
    up.add_argument("--timeout", type=float, default=120.0, help="seconds to wait per component")
    add_output_option(up)
    up.set_defaults(handler=_up)

    down = commands.add_parser("down", help="stop every process of the cluster, delete its state")
    _name_option(down)
    down.set_defaults(handler=_down)

    status = commands.add_parser("status", help="is it running and ready? (exit 1 if not ready)")
    _name_option(status)
    add_output_option(status)
    status.set_defaults(handler=_status)

    kubeconfig = commands.add_parser("kubeconfig", help="print the admin kubeconfig")
    kubeconfig.add_argument("--path", action="store_true", help="print the file's path instead")
    _name_option(kubeconfig)
    kubeconfig.set_defaults(handler=_kubeconfig)

    build = commands.add_parser("build", help="build and cache the binaries without starting")
    build.set_defaults(handler=_build)

    kubectl = commands.add_parser(
        "kubectl",
        help="run the cluster's kubectl against it",
        description="Run kubectl (built with the cluster) with the cluster's kubeconfig; "
        "everything after `kubectl` is passed on, e.g. `hakobu cluster kubectl get pods -A`.",
    )
    kubectl.set_defaults(args=[])
    kubectl.set_defaults(handler=_kubectl)


def _name_option(parser: argparse.ArgumentParser, default: object = argparse.SUPPRESS) -> None:
    # SUPPRESS on the subcommands: `hakobu cluster --name a up` keeps the name given before.
    parser.add_argument(
        "--name",
        default=default,
        metavar="NAME",
        help="one of several local clusters side by side: its state is kept under "
        "~/.local/state/hakobu/clusters/NAME and its kubeconfig context is NAME "
        "(default: the one cluster, context hakobu-local)",
    )


def _state_dir(args: argparse.Namespace) -> Path:
    chosen: Path | None = args.state_dir
    if chosen is None:
        name: str | None = args.name
        chosen = (
            controlplane.default_state_dir() if name is None else controlplane.named_state_dir(name)
        )
    return chosen.absolute()


def _up(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    info, started = controlplane.up(
        state_dir,
        Progress(),
        port=args.port,
        timeout=args.timeout,
        context=args.name or controlplane.CONTEXT_NAME,
    )
    if args.output == "json":
        print_json(info)
        return 0
    if started:
        build, start = info.timings.get("build", 0.0), info.timings.get("start", 0.0)
        if args.name:
            print(f"cluster {args.name} is up (context {args.name})")
        print(f"cluster is up: Kubernetes {info.kubernetes_version} at {info.server}")
        print(f"  build {build:.1f}s (cached after the first run), start {start:.1f}s")
    else:
        print(f"cluster is already up: Kubernetes {info.kubernetes_version} at {info.server}")
    print(f"  export KUBECONFIG={info.kubeconfig}")
    return 0


def _down(args: argparse.Namespace) -> int:
    state_dir = _state_dir(args)
    stopped = controlplane.down(state_dir)
    if stopped:
        print(f"cluster is down: stopped {len(stopped)} processes, removed {state_dir}")
    else:
        print("cluster is down (nothing was running)")
    return 0


def _status(args: argparse.Namespace) -> int:
    current = controlplane.status(_state_dir(args))
    if args.output == "json":
        print_json(current)
    else:
        state = "Ready" if current.ready else "NotReady"
        print(f"{state}: {current.message}")
        if current.server:
            print(f"  server      {current.server} (Kubernetes {current.kubernetes_version})")
        for name, running in current.components.items():
            print(f"  {name:<24}{'running' if running else 'stopped'}")
        if current.nodes_ready:
            print(f"  nodes Ready {', '.join(current.nodes_ready)}")
    return 0 if current.ready else 1


def _kubeconfig(args: argparse.Namespace) -> int:
    info = controlplane.read_info(_state_dir(args))
    if info is None:
        raise _not_running(args)
    if args.path:
        print(info.kubeconfig)
    else:
        sys.stdout.write(Path(info.kubeconfig).read_text())
    return 0


def _build(_: argparse.Namespace) -> int:
    tools = controlplane.ensure_binaries(Progress())
    for built in tools.values():
        print(f"{built.tool.name} {built.tool.version}: {built.directory / 'bin'}")
    return 0


def _kubectl(args: argparse.Namespace) -> int:
    info = controlplane.read_info(_state_dir(args))
    if info is None:
        raise _not_running(args)
    kubectl = ensure_tool(KUBERNETES, Progress()).binary("kubectl")
    argv = [str(kubectl), f"--kubeconfig={info.kubeconfig}", *args.args]
    return subprocess.run(argv, check=False).returncode


def _not_running(args: argparse.Namespace) -> OperationFailed:
    named = f" --name {args.name}" if args.name else ""
    which = f"local cluster {args.name}" if args.name else "the local cluster"
    return OperationFailed(f"{which} is not running", hint=f"start it: hakobu cluster up{named}")
