"""A real Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok with simulated nodes, so Deployments get Pods that become Ready.

``up`` is idempotent (a healthy cluster is left running; leftovers of a crashed run are
stopped and replaced), ``down`` stops every process of the cluster and removes its state.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import ApiError, NotFound, Unreachable
from hakobu.cluster.kubeconfig import load as load_kubeconfig
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.localcluster import processes
from hakobu.localcluster.gobuild import BuiltTool, Progress, ensure_tool, is_built
from hakobu.localcluster.kubeconfigs import write_kubeconfig
from hakobu.localcluster.pki import ADMIN, CONTROLLER_MANAGER, SCHEDULER, Pki, create_pki
from hakobu.localcluster.toolchain import CONTROL_PLANE_TOOLS, ETCD, KUBERNETES, KWOK, GoTool
from hakobu.model.usercache import cache_root, state_root

CONTEXT_NAME = "hakobu-local"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NODE_NAMES = ("kwok-node-0",)
SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16"
_STATE_FILE = "state.json"


def default_state_dir() -> Path:
    """``$HAKOBU_CLUSTER_DIR``, else ``$XDG_STATE_HOME/hakobu/cluster``."""
    explicit = os.environ.get("HAKOBU_CLUSTER_DIR")
    if explicit:
        return Path(explicit)
    return state_root() / "cluster"


def named_state_dir(name: str) -> Path:
    """Where the cluster called ``name`` keeps its state: ``$XDG_STATE_HOME/hakobu/clusters/
    <name>``, beside the default cluster's, so several run side by side."""
    if not _NAME.match(name) or len(name) > 63:
        raise InvalidInput(
            f"--name {name!r}: expected a DNS label (lower-case letters, digits and '-', "
            "at most 63)",
            hint="the name becomes the kubeconfig context of the cluster",
        )
    return state_root() / "clusters" / name


@dataclass(frozen=True)
class ClusterInfo:
    """What ``up`` records about a running cluster (``state.json``)."""

    state_dir: str
    server: str
    kubeconfig: str
    kubernetes_version: str
    etcd_version: str
    kwok_version: str
    pids: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterStatus:
    state_dir: str
    running: bool
    ready: bool
    server: str | None
    kubernetes_version: str | None
    components: dict[str, bool]
    nodes_ready: list[str]
    message: str


_STATE_ENTRIES = frozenset(
    {
        _STATE_FILE,
        "pki",
        "etcd",
        "logs",
        "kubeconfig",
        "controller-manager.kubeconfig",
        "scheduler.kubeconfig",
        "kwok.yaml",
    }
)


class _Layout:
    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir
        self.pki = Pki(state_dir / "pki")
        self.etcd_data = state_dir / "etcd"
        self.logs = state_dir / "logs"
        self.state_file = state_dir / _STATE_FILE
        self.admin_kubeconfig = state_dir / "kubeconfig"
        self.controller_manager_kubeconfig = state_dir / "controller-manager.kubeconfig"
        self.scheduler_kubeconfig = state_dir / "scheduler.kubeconfig"
        self.kwok_config = state_dir / "kwok.yaml"


def read_info(state_dir: Path) -> ClusterInfo | None:
    try:
        data = json.loads((state_dir / _STATE_FILE).read_text())
        return ClusterInfo(**data)
    except (FileNotFoundError, json.JSONDecodeError, TypeError):
        return None


def ensure_binaries(
    progress: Progress,
    *,
    tools: tuple[GoTool, ...] = CONTROL_PLANE_TOOLS,
    root: Path | None = None,
) -> dict[str, BuiltTool]:
    """Build (once) and return every tool the control plane runs."""
    missing = [tool for tool in tools if not is_built(tool, root)]
    if missing:
        # The first run is silent work for minutes without this: say what comes and why.
        names = ", ".join(f"{tool.name} {tool.version}" for tool in missing)
        progress(
            f"first run: building {names} with Go; this takes several minutes once, "
            "later runs reuse the binaries"
        )
    started = time.monotonic()
    built = {tool.name: ensure_tool(tool, progress, root) for tool in tools}
    if missing:
        progress(f"control-plane binaries ready in {time.monotonic() - started:.0f}s")
    return built


def up(
    state_dir: Path,
    progress: Progress,
    *,
    port: int | None = None,
    timeout: float = 120.0,
    token_auth_file: Path | None = None,
    authentication_config: Path | None = None,
    context: str = CONTEXT_NAME,
) -> tuple[ClusterInfo, bool]:
    """Start the cluster unless a healthy one runs; return its info and whether it started.

    ``token_auth_file`` (a static token CSV: ``token,user,uid,"group1,group2"``) lets the
    API server authenticate those bearer tokens besides client certificates and
    ServiceAccount tokens: for testing other credentials. ``authentication_config`` (an
    ``AuthenticationConfiguration``: JWT issuers such as an OIDC provider) likewise. They
    are read once at start; a cluster already running keeps the authenticators it was
    started with. ``context`` names the cluster, its admin and its context in the admin
    kubeconfig, so the kubeconfigs of clusters running side by side merge."""
    if port is not None and not 1 <= port <= 65535:
        raise InvalidInput(f"--port {port} is not a TCP port (expected 1-65535)")
    current = status(state_dir)
    info = read_info(state_dir)
    if current.ready and info is not None:
        return info, False

    leftovers = _components(state_dir)
    if leftovers:
        progress(f"stopping {len(leftovers)} leftover processes of an earlier run")
    _stop_and_clean(state_dir, leftovers)
    # Checked before the build so a taken port is reported at once, not after it.
    api_port = _claim_port(port)
    started_at = time.monotonic()
    tools = ensure_binaries(progress)
    timings = {"build": round(time.monotonic() - started_at, 1)}

    layout = _Layout(state_dir)
    layout.logs.mkdir(parents=True)
    start = time.monotonic()
    create_pki(layout.pki.directory)
    etcd_client_port, etcd_peer_port = _free_port(), _free_port()
    pids: dict[str, int] = {}
    try:
        pids["etcd"] = _start_etcd(tools["etcd"], layout, etcd_client_port, etcd_peer_port)
        _wait(
            lambda: _etcd_healthy(etcd_client_port),
            timeout,
            "etcd",
            layout.logs / "etcd.log",
            pids["etcd"],
        )
        server = f"https://127.0.0.1:{api_port}"
        pids["kube-apiserver"] = _start_apiserver(
            tools["kubernetes"],
            layout,
            api_port,
            etcd_client_port,
            token_auth_file=token_auth_file,
            authentication_config=authentication_config,
        )
        for path, identity, embed in (
            (layout.admin_kubeconfig, ADMIN, True),
            (layout.controller_manager_kubeconfig, CONTROLLER_MANAGER, False),
            (layout.scheduler_kubeconfig, SCHEDULER, False),
        ):
            write_kubeconfig(
                path,
                server=server,
                pki=layout.pki,
                identity=identity,
                context=context,
                embed=embed,
            )
        with KubeClient(load_kubeconfig(layout.admin_kubeconfig), timeout=5.0) as client:
            _wait(
                lambda: _apiserver_ready(client),
                timeout,
                "kube-apiserver",
                layout.logs / "kube-apiserver.log",
                pids["kube-apiserver"],
            )
            progress(f"kube-apiserver ready at {server} ({time.monotonic() - start:.1f}s)")
            pids["kube-controller-manager"] = _start_controller_manager(tools["kubernetes"], layout)
            pids["kube-scheduler"] = _start_scheduler(tools["kubernetes"], layout)
            pids["kwok"] = _start_kwok(tools["kwok"], layout)
            for name in NODE_NAMES:
                _create_node(client, name)
            _wait(
                lambda: _nodes_ready(client) == list(NODE_NAMES),
                timeout,
                "kwok",
                layout.logs / "kwok.log",
                pids["kwok"],
            )
            _wait(
                lambda: _default_service_account(client),
                timeout,
                "kube-controller-manager",
                layout.logs / "kube-controller-manager.log",
                pids["kube-controller-manager"],
            )
    except BaseException:
        # A half-started cluster is worse than none: stop what was started, keep the logs.
        processes.terminate(list(pids.values()))
        raise
    timings["start"] = round(time.monotonic() - start, 1)
    info = ClusterInfo(
        state_dir=str(state_dir),
        server=server,
        kubeconfig=str(layout.admin_kubeconfig),
        kubernetes_version=KUBERNETES.version,
        etcd_version=ETCD.version,
        kwok_version=KWOK.version,
        pids=pids,
        timings=timings,
    )
    layout.state_file.write_text(json.dumps(asdict(info), indent=2) + "\n")
    return info, True


def down(state_dir: Path) -> list[int]:
    """Stop every process of the cluster at ``state_dir`` and remove its state; return pids."""
    # Recorded pids are not trusted on their own (a pid may have been reused since); every
    # component's command line names the state directory, so search by that instead.
    pids = _components(state_dir)
    _stop_and_clean(state_dir, pids)
    return pids


def status(state_dir: Path) -> ClusterStatus:
    info = read_info(state_dir)
    if info is None:
        leftovers = _components(state_dir)
        message = (
            f"not running; {len(leftovers)} leftover processes (run `hakobu cluster down`)"
            if leftovers
            else "not running"
        )
        return ClusterStatus(str(state_dir), bool(leftovers), False, None, None, {}, [], message)
    components = {name: processes.alive(pid) for name, pid in info.pids.items()}
    nodes: list[str] = []
    ready = False
    message = "running"
    if all(components.values()):
        try:
            with KubeClient(load_kubeconfig(Path(info.kubeconfig)), timeout=3.0) as client:
                ready = _apiserver_ready(client)
                nodes = _nodes_ready(client) if ready else []
        except (ApiError, Unreachable, InvalidInput) as e:
            message = f"API server not answering: {e.message}"
        if ready and not nodes:
            ready = False
            message = "no node is Ready"
    else:
        stopped = ", ".join(name for name, up_ in components.items() if not up_)
        message = f"degraded: {stopped} not running (run `hakobu cluster up` to restart)"
    return ClusterStatus(
        str(state_dir),
        any(components.values()),
        ready,
        info.server,
        info.kubernetes_version,
        components,
        nodes,
        message,
    )


# Components with an endpoint that says when they are ready again after a restart; the
# controller-manager and scheduler serve none here (--secure-port=0), kwok's nodes stay
# Ready while it is away.
_RESTARTABLE = ("etcd", "kube-apiserver")


def restart_component(
    state_dir: Path, component: str, progress: Progress, *, timeout: float = 120.0
) -> None:
    """Stop one component and start it again with the same command line; return once it is
    ready. Clients see what a restarting server looks like: refused connections, then
    answers again."""
    if component not in _RESTARTABLE:
        raise InvalidInput(
            f"cannot restart {component!r}",
            hint=f"components that can be restarted: {', '.join(_RESTARTABLE)}",
        )
    info = read_info(state_dir)
    running = [pid for pid in _components(state_dir) if processes.executable_name(pid) == component]
    if info is None or not running:
        raise OperationFailed(
            f"{component} of the cluster at {state_dir} is not running",
            hint="start the cluster with `hakobu cluster up`",
        )
    argv = _command_line(running[0])
    layout = _Layout(state_dir)
    log = layout.logs / f"{component}.log"
    processes.terminate(running)
    progress(f"{component} stopped; starting it again")
    started = time.monotonic()
    pid = processes.spawn(argv, log)
    if component == "etcd":
        port = int(_flag(argv, "--listen-client-urls").rsplit(":", 1)[1])
        _wait(lambda: _etcd_healthy(port), timeout, component, log, pid)
    else:
        with KubeClient(load_kubeconfig(layout.admin_kubeconfig), timeout=5.0) as client:
            _wait(lambda: _apiserver_ready(client), timeout, component, log, pid)
    progress(f"{component} ready again ({time.monotonic() - started:.1f}s)")
    restarted = ClusterInfo(**{**asdict(info), "pids": {**info.pids, component: pid}})
    layout.state_file.write_text(json.dumps(asdict(restarted), indent=2) + "\n")


def _command_line(pid: int) -> list[str]:
    raw = (Path("/proc") / str(pid) / "cmdline").read_bytes()
    return [part.decode() for part in raw.split(b"\0") if part]


def _flag(argv: list[str], name: str) -> str:
    for arg in argv:
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    raise OperationFailed(f"the running component was started without {name}")


# -- components ---------------------------------------------------------------------------


def _start_etcd(tool: BuiltTool, layout: _Layout, client_port: int, peer_port: int) -> int:
    peer = f"http://127.0.0.1:{peer_port}"
    client = f"http://127.0.0.1:{client_port}"
    argv = [
        str(tool.binary("etcd")),
        "--name=hakobu-local",
        f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=hakobu-local={peer}",
        # A throw-away development cluster: durability across power loss is not wanted,
        # speed is (fsync dominates etcd's write latency on small machines).
        "--unsafe-no-fsync",
        "--log-level=warn",
    ]
    return processes.spawn(argv, layout.logs / "etcd.log")


def _start_apiserver(
    tool: BuiltTool,
    layout: _Layout,
    port: int,
    etcd_port: int,
    *,
    token_auth_file: Path | None,
    authentication_config: Path | None,
) -> int:
    pki = layout.pki
    argv = [
        str(tool.binary("kube-apiserver")),
        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        f"--cert-dir={pki.directory}",
        f"--tls-cert-file={pki.serving_cert}",
        f"--tls-private-key-file={pki.serving_key}",
        f"--client-ca-file={pki.ca_cert}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={port}",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki.service_account_public_key}",
        f"--service-account-signing-key-file={pki.service_account_key}",
        "--authorization-mode=RBAC",
        "--allow-privileged=true",
        # Endpoints on loopback addresses are invalid; nothing routes to this server anyway.
        "--endpoint-reconciler-type=none",
        "--profiling=false",
    ]
    if token_auth_file is not None:
        argv.append(f"--token-auth-file={token_auth_file.resolve()}")
    if authentication_config is not None:
        argv.append(f"--authentication-config={authentication_config.resolve()}")
    return processes.spawn(argv, layout.logs / "kube-apiserver.log")


def _start_controller_manager(tool: BuiltTool, layout: _Layout) -> int:
    kubeconfig = str(layout.controller_manager_kubeconfig)
    argv = [
        str(tool.binary("kube-controller-manager")),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        "--secure-port=0",
        f"--service-account-private-key-file={layout.pki.service_account_key}",
        f"--root-ca-file={layout.pki.ca_cert}",
        # Each controller acts as its own service account, as in a real cluster; the
        # controller-manager's own identity is only allowed to mint their tokens.
        "--use-service-account-credentials=true",
        "--controllers=*",
    ]
    return processes.spawn(argv, layout.logs / "kube-controller-manager.log")


def _start_scheduler(tool: BuiltTool, layout: _Layout) -> int:
    argv = [
        str(tool.binary("kube-scheduler")),
        f"--kubeconfig={layout.scheduler_kubeconfig}",
        "--leader-elect=false",
        "--bind-address=127.0.0.1",
        "--secure-port=0",
    ]
    return processes.spawn(argv, layout.logs / "kube-scheduler.log")


def _start_kwok(tool: BuiltTool, layout: _Layout) -> int:
    shutil.copyfile(tool.binary("stages.yaml"), layout.kwok_config)
    argv = [
        str(tool.binary("kwok")),
        f"--kubeconfig={layout.admin_kubeconfig}",
        f"--config={layout.kwok_config}",
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        "--cidr=10.244.0.1/16",
        "--node-ip=127.0.0.1",
    ]
    return processes.spawn(argv, layout.logs / "kwok.log")


def _create_node(client: KubeClient, name: str) -> None:
    capacity = {"cpu": "64", "memory": "256Gi", "pods": "1000", "ephemeral-storage": "1Ti"}
    node: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
        "status": {"allocatable": capacity, "capacity": capacity},
    }
    client.create(node)


# -- readiness ----------------------------------------------------------------------------


def _etcd_healthy(port: int) -> bool:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.json().get("health") == "true"


def _apiserver_ready(client: KubeClient) -> bool:
    try:
        client.request("GET", "/readyz", accept="text/plain")
    except (ApiError, Unreachable):
        return False
    return True


def _nodes_ready(client: KubeClient) -> list[str]:
    ready = []
    for node in client.list("v1", "Node").items:
        conditions = (node.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            ready.append(node["metadata"]["name"])
    return sorted(ready)


def _default_service_account(client: KubeClient) -> bool:
    try:
        client.get("v1", "ServiceAccount", "default", "default")
    except NotFound:
        return False
    return True


def _wait(
    condition: Callable[[], bool], timeout: float, component: str, log: Path, pid: int
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not processes.alive(pid):
            raise _component_failed(component, "exited during start-up", log)
        try:
            if condition():
                return
        except (ApiError, Unreachable):
            pass
        time.sleep(0.1)
    raise _component_failed(component, f"was not ready after {timeout:.0f}s", log)


def _component_failed(component: str, what: str, log: Path) -> OperationFailed:
    tail = processes.log_tail(log)
    hint = f"its full log is {log}"
    if "address already in use" in tail:
        hint = "a port it needs is taken by another program; run again to pick free ports"
    return OperationFailed(f"{component} {what}; last lines of its log:\n{tail}", hint=hint)


# -- state and ports ----------------------------------------------------------------------


def _components(state_dir: Path) -> list[int]:
    # Every component names a file inside the state directory; the trailing separator keeps
    # a cluster at /x/a from matching the processes of one at /x/ab.
    return processes.find(str(state_dir) + os.sep, cache_root() / "tools")


# Stopped in the reverse of start order: an API server whose etcd is already gone spends
# its whole shutdown grace period retrying it.
_STOP_ORDER = ("kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd")


def _stop_and_clean(state_dir: Path, pids: list[int]) -> None:
    names = {pid: processes.executable_name(pid) for pid in pids}
    for component in _STOP_ORDER:
        processes.terminate([pid for pid in pids if names[pid] == component])
    processes.terminate([pid for pid in pids if names[pid] not in _STOP_ORDER])
    if not state_dir.exists():
        return
    if not state_dir.is_dir():
        raise InvalidInput(f"cluster state directory {state_dir} is a file, not a directory")
    foreign = sorted(p.name for p in state_dir.iterdir() if p.name not in _STATE_ENTRIES)
    if foreign:
        # Never delete what this module did not write: a mistyped --state-dir must not
        # cost anyone their files.
        raise InvalidInput(
            f"{state_dir} is not a hakobu cluster directory (it holds {', '.join(foreign[:5])})",
            hint="choose an empty or new directory with --state-dir",
        )
    shutil.rmtree(state_dir)


def _claim_port(port: int | None) -> int:
    if port is None:
        return _free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise InvalidInput(
                f"port {port} on 127.0.0.1 is already in use by another program",
                hint="choose another with --port, or leave --port out to pick a free one",
            ) from None
    return port


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
