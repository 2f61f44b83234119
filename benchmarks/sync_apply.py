"""Benchmark: applying 1,000 objects with `kubectl apply --server-side` and `hakobu sync`.

Deployments, Services and ConfigMaps across 50 namespaces, applied to the local control
plane three ways, each into its own fresh namespaces: kubectl (the one built with the
cluster), hakobu's sync (as `hakobu sync` runs it, waiting until Healthy), and a raw loop of
concurrent server-side applies over httpx with no logic at all — the machine's limit. Then
a no-op re-apply of each. With --scale N it also syncs N objects with hakobu alone, times a
no-op sync of them (the library call, as the agent makes it with the manifests already
read, and the whole `hakobu sync` command) and measures an agent process's resident memory
while it manages them.

    python benchmarks/sync_apply.py [--objects 1000] [--namespaces 50] [--scale 10000]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.kubeconfig import load
from hakobu.cluster.retry import Backoff, Retrying
from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.toolchain import KUBERNETES
from hakobu.model.project import load_project
from hakobu.model.usercache import cache_root
from hakobu.sync import SyncOptions, read_desired, sync

STATE_DIR = cache_root() / "bench-cluster"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
_KUBECTL_REQUEST = re.compile(r'"Response" verb="(GET|POST|PUT|PATCH|DELETE)"')


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


def create_namespaces(kube: KubeClient, prefix: str, count: int) -> None:
    for n in range(count):
        kube.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"{prefix}-{n:02d}"}},
            field_manager="bench",
        )


def run_kubectl(kubectl: Path, kubeconfig: str, manifest: Path) -> tuple[float, Counter[str]]:
    started = time.monotonic()
    done = subprocess.run(
        [
            str(kubectl),
            "--kubeconfig",
            kubeconfig,
            "apply",
            "--server-side",
            "-v=6",
            "--field-manager=kubectl-bench",
            "-f",
            str(manifest),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.monotonic() - started
    return elapsed, Counter(m.group(1) for m in _KUBECTL_REQUEST.finditer(done.stderr))


def write_project(root: Path, items: list[dict[str, Any]], namespace: str) -> None:
    """One app per namespace, as a team with one service per namespace would have it."""
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


def run_hakobu(kube: KubeClient, root: Path) -> tuple[float, float, Counter[str]]:
    """(seconds reading the manifests, seconds syncing, requests) for one `hakobu sync`."""
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


def run_raw(kubeconfig: str, items: list[dict[str, Any]], workers: int) -> tuple[float, int]:
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
        return time.monotonic() - started, len(items)


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


def writes(requests: Counter[str]) -> int:
    return sum(requests[v] for v in WRITES)


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
    args = parser.parse_args()
    hakobu = [sys.executable, "-m", "hakobu", "cluster", "--state-dir", str(STATE_DIR)]
    subprocess.run([*hakobu, "up"], check=True, stdout=subprocess.DEVNULL)
    info = json.loads((STATE_DIR / "state.json").read_text())
    kubeconfig = info["kubeconfig"]
    kubectl = ensure_tool(KUBERNETES, lambda m: print(m, file=sys.stderr)).binary("kubectl")
    try:
        # As `hakobu agent` runs it: transient failures are retried and logged.
        retry = Retrying(Backoff(), lambda line: print(f"retry: {line}", file=sys.stderr))
        with (
            KubeClient(load(Path(kubeconfig)), retry=retry) as kube,
            tempfile.TemporaryDirectory() as tmp,
        ):
            for prefix in ("k", "h", "r"):
                create_namespaces(kube, prefix, args.namespaces)
            manifest = Path(tmp) / "all.yaml"
            manifest.write_text(
                yaml.safe_dump_all(objects("k", args.objects, args.namespaces, args.replicas))
            )
            k_first, k_first_req = run_kubectl(kubectl, kubeconfig, manifest)
            k_again, k_again_req = run_kubectl(kubectl, kubeconfig, manifest)

            root = Path(tmp) / "project"
            root.mkdir()
            write_project(root, objects("h", args.objects, args.namespaces, args.replicas), "h-00")
            h_read, h_first, h_first_req = run_hakobu(kube, root)
            h_read_again, h_again, h_again_req = run_hakobu(kube, root)

            raw_items = objects("r", args.objects, args.namespaces, args.replicas)
            r_first, r_count = run_raw(kubeconfig, raw_items, args.workers)
            r_again, _ = run_raw(kubeconfig, raw_items, args.workers)

            n = args.objects
            print(f"{n} objects in {args.namespaces} namespaces, {args.replicas} replicas each")
            print(
                f"kubectl apply --server-side   first {k_first:6.2f}s  requests "
                f"{sum(k_first_req.values()):5d} (writes {writes(k_first_req)})   no-op "
                f"{k_again:6.2f}s  requests {sum(k_again_req.values()):5d} (writes "
                f"{writes(k_again_req)})"
            )
            print(
                f"hakobu sync                   first {h_first:6.2f}s  requests "
                f"{sum(h_first_req.values()):5d} (writes {writes(h_first_req)})   no-op "
                f"{h_again:6.2f}s  requests {sum(h_again_req.values()):5d} (writes "
                f"{writes(h_again_req)})   + reading manifests {h_read:.2f}s / "
                f"{h_read_again:.2f}s"
            )
            print(
                f"raw concurrent apply x{args.workers}     first {r_first:6.2f}s  requests "
                f"{r_count:5d}                 again {r_again:6.2f}s"
            )
            print(
                f"first apply: kubectl/hakobu {k_first / h_first:.2f}x (target >= 5), "
                f"hakobu/raw {h_first / r_first:.2f}x (target <= 1.3)"
            )
            print(f"no-op: kubectl/hakobu {k_again / h_again:.2f}x")
            if args.scale:
                scale(
                    kube,
                    Path(tmp),
                    kubeconfig,
                    args.scale,
                    namespaces=args.namespaces,
                    replicas=args.replicas,
                )
    finally:
        subprocess.run([*hakobu, "down"], check=True, stdout=subprocess.DEVNULL)


def scale(
    kube: KubeClient, tmp: Path, kubeconfig: str, count: int, *, namespaces: int, replicas: int
) -> None:
    create_namespaces(kube, "s", namespaces)
    root = tmp / "scale"
    root.mkdir()
    write_project(root, objects("s", count, namespaces, replicas), "s-00")
    read, first, first_req = run_hakobu(kube, root)
    # Three no-ops: the first runs while the controllers still create the ReplicaSets and
    # EndpointSlices of the objects just applied, which shares the machine's cores.
    noops = [run_hakobu(kube, root) for _ in range(3)]
    read_again, again, again_req = min(noops, key=lambda run: run[1])
    print(
        f"{count} objects: hakobu sync first {first:.2f}s ({sum(first_req.values())} requests), "
        f"no-op {' / '.join(f'{run[1]:.2f}s' for run in noops)} (best: {again:.2f}s, "
        f"{sum(again_req.values())} requests, {writes(again_req)} writes; target < 1 s, "
        f"0 writes), reading manifests {read:.2f}s / {read_again:.2f}s"
    )
    # The same no-op as a person runs it: a new process that starts, reads the manifests
    # from git, syncs and prints.
    command = [sys.executable, "-m", "hakobu", "sync", "bench", "-C", str(root)]
    command += ["--kubeconfig", kubeconfig, "--rev", "HEAD"]
    runs = []
    for _ in range(3):
        started = time.monotonic()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        runs.append(time.monotonic() - started)
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
