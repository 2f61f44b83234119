"""Benchmark: `hakobu sync` against `kubectl apply --server-side` on the same manifests.

Deployments, Services and ConfigMaps across 50 namespaces, written once as a project's
``generated/bench/<namespace>/`` files. Each tool is started as a new process on those same
files and timed by the wall clock, first into empty namespaces and then again with nothing
changed (a no-op):

- kubectl: the one built with the local control plane, ``kubectl apply --server-side -R -f
  generated/bench``: one server-side apply per object, no waiting;
- hakobu: ``hakobu sync bench``: reads the project, applies only what differs from the
  cluster (one app per namespace), waits until every object is Healthy, records the sync.

Before each tool's first apply the namespaces are deleted and created again, so each tool
starts from the same cluster: the same namespaces, none of the objects. After each tool the
objects are read back from the API server and compared (labels, annotations, spec and data,
without what the server or the controllers set and without hakobu's own ``hakobu.dev/``
bookkeeping): the benchmark fails if the tools leave different states. A library-level raw
loop (concurrent server-side applies over httpx from this process, no logic at all: the
machine's limit) runs on the same objects from the same starting point, and the hakobu
library call a running agent makes (manifests read in the process) is timed too; both are
labelled as such. With --scale N it also syncs N objects with hakobu alone, times a no-op
sync of them (the library call and the whole `hakobu sync` command) and measures an agent
process's resident memory while it manages them.

The control plane runs in its own state directory (default ``~/.cache/hakobu/bench-cluster``)
and is stopped at the end.

    python benchmarks/sync_apply.py [--objects 1000] [--namespaces 50] [--scale 10000]
                                    [--state-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from livestate import (
    control_plane,
    create_namespaces,
    differences,
    identities,
    kubectl_requests,
    read_back,
    reset_namespaces,
    writes,
)

from hakobu.cluster.client import KubeClient
from hakobu.cluster.kubeconfig import load
from hakobu.cluster.retry import Backoff, Retrying
from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.toolchain import KUBERNETES
from hakobu.model.project import load_project
from hakobu.model.usercache import cache_root
from hakobu.sync import SyncOptions, read_desired, sync

PREFIX = "b"


def objects(prefix: str, count: int, namespaces: int, replicas: int) -> list[dict[str, Any]]:
    """``count`` objects, a third each of Deployments, Services and ConfigMaps, spread
    over ``namespaces`` namespaces named ``<prefix>-NN``."""
    found = []
    for i in range(count):
        namespace = f"{prefix}-{i % namespaces:02d}"
        name = f"o{i:05d}"
        kind = ("Deployment", "Service", "ConfigMap")[i % 3]
        meta = {"name": name, "namespace": namespace}
        if kind == "Deployment":
            found.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": meta,
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": {"app": name}},
                        "template": {
                            "metadata": {"labels": {"app": name}},
                            "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
                        },
                    },
                }
            )
        elif kind == "Service":
            found.append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": meta,
                    "spec": {"selector": {"app": name}, "ports": [{"port": 80}]},
                }
            )
        else:
            found.append(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": name}}
            )
    return found


def namespace_names(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{n:02d}" for n in range(count)]


def write_project(root: Path, items: list[dict[str, Any]], namespace: str) -> Path:
    """One app per namespace, as a team with one service per namespace would have it;
    returns the directory holding every object's file."""
    (root / "hakobu.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "hakobu.dev/v1alpha1",
                "kind": "Project",
                "name": "bench",
                "environments": {"bench": {"namespace": namespace}},
            }
        )
    )
    for obj in items:
        app = root / "generated" / "bench" / obj["metadata"]["namespace"]
        app.mkdir(parents=True, exist_ok=True)
        (app / f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml").write_text(
            yaml.safe_dump(obj)
        )
    for args in (["init", "-q", "-b", "main"], ["add", "-A"]):
        subprocess.run(["git", "-C", str(root), *args], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "-c",
            "user.name=bench",
            "-c",
            "user.email=b@example.com",
            "commit",
            "-q",
            "-m",
            "objects",
        ],
        check=True,
    )
    return root / "generated" / "bench"


@dataclass(frozen=True)
class Run:
    """One process: its wall-clock time and what it says it did."""

    seconds: float
    summary: str


def run_kubectl(kubectl: Path, kubeconfig: str, manifests: Path) -> Run:
    started = time.monotonic()
    done = subprocess.run(
        [
            str(kubectl),
            "--kubeconfig",
            kubeconfig,
            "apply",
            "--server-side",
            "-v=6",
            "-R",
            "-f",
            str(manifests),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.monotonic() - started
    requests = kubectl_requests(done.stderr)
    return Run(elapsed, f"{sum(requests.values())} requests, {writes(requests)} writes")


def run_hakobu_command(kubeconfig: str, root: Path) -> Run:
    command = [sys.executable, "-m", "hakobu", "sync", "bench", "-C", str(root)]
    command += ["--kubeconfig", kubeconfig, "--timeout", "600", "-o", "json"]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"hakobu sync failed ({done.returncode}):\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    return Run(elapsed, f"{result['applied']} applied, {result['unchanged']} unchanged")


def run_hakobu_library(kube: KubeClient, root: Path) -> tuple[float, float, Counter[str]]:
    """(seconds reading the manifests, seconds syncing, requests) for one sync made by
    calling the library in this process, as a running agent does."""
    project = load_project(root)
    env = project.environment("bench")
    before = Counter(kube.requests)
    started = time.monotonic()
    desired = read_desired(project, env, "HEAD")
    read = time.monotonic() - started
    result = sync(kube, project, env, desired, options=SyncOptions(timeout=600))
    synced = time.monotonic() - started - read
    if not result.succeeded:
        raise SystemExit(f"hakobu sync failed: {[a.messages[:3] for a in result.apps]}")
    return read, synced, Counter(kube.requests) - before


def run_raw(kubeconfig: str, items: list[dict[str, Any]], workers: int) -> Run:
    connection = load(Path(kubeconfig))
    plural = {"Deployment": "/apis/apps/v1/", "Service": "/api/v1/", "ConfigMap": "/api/v1/"}
    with httpx.Client(base_url=connection.server, verify=connection.ssl_context) as http:

        def apply(obj: dict[str, Any]) -> None:
            meta = obj["metadata"]
            path = (
                f"{plural[obj['kind']]}namespaces/{meta['namespace']}/"
                f"{obj['kind'].lower()}s/{meta['name']}"
            )
            http.patch(
                path,
                params={"fieldManager": "raw-bench", "force": "true"},
                content=json.dumps(obj).encode(),
                headers={"Content-Type": "application/apply-patch+yaml"},
            ).raise_for_status()

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(apply, items))
        return Run(time.monotonic() - started, f"{len(items)} requests")


AGENT_MEMORY = textwrap.dedent(
    """
    import resource, sys, threading
    from pathlib import Path
    from hakobu.agent import Agent, AgentOptions, Checkout
    from hakobu.cluster.client import KubeClient
    repo, workdir, kubeconfig = sys.argv[1:4]
    with KubeClient.from_kubeconfig(Path(kubeconfig)) as kube:
        agent = Agent(Checkout(repo, "main", Path(workdir)), kube,
                      AgentOptions(env="bench", interval=1.0), lambda line: None)
        for _ in range(3):
            assert agent.iterate().ok
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--namespaces", type=int, default=50)
    parser.add_argument("--workers", type=int, default=8, help="threads of the raw loop")
    parser.add_argument("--scale", type=int, default=0, help="also N objects, hakobu alone")
    parser.add_argument(
        "--replicas",
        type=int,
        default=0,
        help="Pods per Deployment (default 0: kubectl and the raw loop do not wait for "
        "rollouts, and Pods started for one run would slow the runs after it)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=cache_root() / "bench-cluster",
        help="the control plane's own state directory, started here and stopped at the end "
        "(default: %(default)s)",
    )
    args = parser.parse_args()
    kubectl = ensure_tool(KUBERNETES, lambda m: print(m, file=sys.stderr)).binary("kubectl")
    with control_plane(args.state_dir) as kubeconfig:
        # As `hakobu agent` runs it: transient failures are retried and logged.
        retry = Retrying(Backoff(), lambda line: print(f"retry: {line}", file=sys.stderr))
        with (
            KubeClient(load(Path(kubeconfig)), retry=retry) as kube,
            tempfile.TemporaryDirectory() as tmp,
        ):
            compare(kube, Path(tmp), kubectl, kubeconfig, args)
            if args.scale:
                scale(
                    kube,
                    Path(tmp),
                    kubeconfig,
                    args.scale,
                    namespaces=args.namespaces,
                    replicas=args.replicas,
                )


def compare(
    kube: KubeClient, tmp: Path, kubectl: Path, kubeconfig: str, args: argparse.Namespace
) -> None:
    n, namespaces = args.objects, args.namespaces
    items = objects(PREFIX, n, namespaces, args.replicas)
    root = tmp / "project"
    root.mkdir()
    manifests = write_project(root, items, f"{PREFIX}-00")
    create_namespaces(kube, namespace_names(PREFIX, namespaces))
    # Unmeasured: the fresh API server's first-use costs are paid before any tool is timed.
    run_raw(kubeconfig, items, args.workers)
    resets = [reset_namespaces(kube, namespace_names(PREFIX, namespaces))]

    k_first = run_kubectl(kubectl, kubeconfig, manifests)
    k_again = run_kubectl(kubectl, kubeconfig, manifests)
    k_state = read_back(kube, identities(items))
    resets.append(reset_namespaces(kube, namespace_names(PREFIX, namespaces)))

    h_first = run_hakobu_command(kubeconfig, root)
    h_again = run_hakobu_command(kubeconfig, root)
    h_state = read_back(kube, identities(items))
    lib_read, lib_noop, lib_req = run_hakobu_library(kube, root)
    resets.append(reset_namespaces(kube, namespace_names(PREFIX, namespaces)))

    r_first = run_raw(kubeconfig, items, args.workers)
    r_again = run_raw(kubeconfig, items, args.workers)
    r_state = read_back(kube, identities(items))

    print(f"{n} objects in {namespaces} namespaces, {args.replicas} replicas each")
    print(
        "  kubectl: `kubectl apply --server-side -R -f generated/bench`, a new process: one "
        "apply request per object, no waiting"
    )
    print(
        "  hakobu:  `hakobu sync bench`, a new process: reads the project, applies what "
        "differs, waits until Healthy, records the sync"
    )
    print(
        f"  raw:     library-level loop in this process, {args.workers} threads of httpx "
        "server-side applies, no logic (the machine's limit)"
    )
    print(
        f"  each tool starts from the same {namespaces} empty namespaces (deleted and "
        f"re-created between tools: {' / '.join(f'{s:.0f}s' for s in resets)})"
    )
    print(f"{'':31}{'first apply':>12}   {'no-op':>7}")
    for label, first, again in (
        ("kubectl apply --server-side", k_first, k_again),
        ("hakobu sync", h_first, h_again),
        (f"raw apply loop x{args.workers} (library)", r_first, r_again),
    ):
        print(
            f"{label:<31}{first.seconds:11.2f}s  {again.seconds:7.2f}s   first: {first.summary}; "
            f"no-op: {again.summary}"
        )
    print(
        f"hakobu sync as a library call (no-op, manifests read in the process): "
        f"{lib_noop:.2f}s + reading manifests {lib_read:.2f}s, "
        f"{sum(lib_req.values())} requests ({writes(lib_req)} writes)"
    )
    problems = differences("hakobu", h_state, k_state) + differences("raw", r_state, k_state)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if problems:
        raise SystemExit(1)
    print(
        f"same state: all {len(k_state)} objects read back equal after kubectl, hakobu and "
        "the raw loop"
    )
    print(
        f"whole processes, first apply: kubectl/hakobu {k_first.seconds / h_first.seconds:.2f}x; "
        f"no-op: kubectl/hakobu {k_again.seconds / h_again.seconds:.2f}x"
    )
    print(
        f"against the raw loop (library): hakobu process/raw "
        f"{h_first.seconds / r_first.seconds:.2f}x first, kubectl process/raw "
        f"{k_first.seconds / r_first.seconds:.2f}x first"
    )


def scale(
    kube: KubeClient, tmp: Path, kubeconfig: str, count: int, *, namespaces: int, replicas: int
) -> None:
    create_namespaces(kube, namespace_names("s", namespaces))
    root = tmp / "scale"
    root.mkdir()
    write_project(root, objects("s", count, namespaces, replicas), "s-00")
    read, first, first_req = run_hakobu_library(kube, root)
    # Three no-ops: the first runs while the controllers still create the ReplicaSets and
    # EndpointSlices of the objects just applied, which shares the machine's cores.
    noops = [run_hakobu_library(kube, root) for _ in range(3)]
    read_again, again, again_req = min(noops, key=lambda run: run[1])
    print(
        f"{count} objects, library calls: hakobu sync first {first:.2f}s "
        f"({sum(first_req.values())} requests), no-op "
        f"{' / '.join(f'{run[1]:.2f}s' for run in noops)} (best: {again:.2f}s, "
        f"{sum(again_req.values())} requests, {writes(again_req)} writes; target < 1 s, "
        f"0 writes), reading manifests {read:.2f}s / {read_again:.2f}s"
    )
    # The same no-op as a person runs it: a new process that starts, reads the manifests
    # from git, syncs and prints.
    runs = [run_hakobu_command(kubeconfig, root).seconds for _ in range(3)]
    print(f"`hakobu sync` command, no-op of {count} objects: best of 3 {min(runs):.2f}s")
    done = subprocess.run(
        [sys.executable, "-c", AGENT_MEMORY, str(root), str(tmp / "agent"), kubeconfig],
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"agent managing {count} objects: max resident {done.stdout.strip()} MB (target < 250)")


if __name__ == "__main__":
    main()
