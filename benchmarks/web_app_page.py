"""Benchmark: the dashboard's page of one app of 2,000 objects, on a real control plane.

The app is a Deployment of ``--replicas`` Pods (so the tree goes Deployment → ReplicaSet →
Pods through ownerReferences) and ConfigMaps making up the rest of ``--objects``; it is
synced with the library, then the dashboard (as ``hakobu ui`` runs it) is asked for the
page. Two figures against the target of 1 s: the server time of
``GET /api/v1/environments/dev/apps/big`` (median of 5) and the page shown in headless
Chromium, from navigation until the tree is drawn.

    python benchmarks/web_app_page.py [--objects 2000] [--replicas 200] [--state-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import yaml
from playwright.sync_api import sync_playwright

from hakobu.cluster.client import KubeClient
from hakobu.cluster.kubeconfig import load
from hakobu.model.project import load_project
from hakobu.model.usercache import cache_root
from hakobu.sync import SyncOptions, read_desired, sync
from hakobu.sync.record import record_sync
from hakobu.web.local import LocalDashboard

CHROMIUM = "/usr/bin/chromium"


def project(root: Path, namespace: str, objects: int, replicas: int) -> None:
    doc = {
        "apiVersion": "hakobu.dev/v1alpha1",
        "kind": "Project",
        "name": "bench",
        "environments": {"dev": {"namespace": namespace}},
    }
    (root / "hakobu.yaml").write_text(yaml.safe_dump(doc))
    app = root / "generated" / "dev" / "big"
    app.mkdir(parents=True)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "big"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "big"}},
            "template": {
                "metadata": {"labels": {"app": "big"}},
                "spec": {"containers": [{"name": "big", "image": "bench/big:1"}]},
            },
        },
    }
    documents: list[Any] = [deployment]
    # The Deployment, its ReplicaSet and its Pods count towards the objects too.
    for i in range(objects - replicas - 2):
        documents.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"big-{i:04d}"},
                "data": {"index": str(i)},
            }
        )
    (app / "objects.yaml").write_text(yaml.safe_dump_all(documents))
    for command in (["init", "-q", "-b", "main"], ["add", "-A"]):
        subprocess.run(["git", "-C", str(root), *command], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "-c",
            "user.name=B",
            "-c",
            "user.email=b@example.com",
            "commit",
            "-q",
            "-m",
            "big",
        ],
        check=True,
    )


def wait_pods(kube: KubeClient, namespace: str, replicas: int) -> None:
    deadline = time.monotonic() + 600
    while len(kube.list("v1", "Pod", namespace).items) < replicas:
        if time.monotonic() > deadline:
            raise SystemExit("the Pods did not all appear within 10 minutes")
        time.sleep(1)


def measure(kube: KubeClient, root: Path, namespace: str, args: argparse.Namespace) -> bool:
    project(root, namespace, args.objects, args.replicas)
    loaded = load_project(root)
    env = loaded.environment("dev")
    result = sync(kube, loaded, env, read_desired(loaded, env), options=SyncOptions(timeout=600))
    record_sync(kube, env.namespace, result)
    wait_pods(kube, env.namespace, args.replicas)
    local = LocalDashboard(loaded, kube, port=0, interval=5.0)
    url = local.start()
    base = f"http://127.0.0.1:{local.port}"
    try:
        headers = {"Authorization": f"Bearer {local.key}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            times = []
            for _ in range(5):
                started = time.perf_counter()
                detail = client.get("/api/v1/environments/dev/apps/big")
                times.append(time.perf_counter() - started)
                detail.raise_for_status()
        count = detail.json()["objects"]
        server_ms = statistics.median(times) * 1000
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox"] if os.geteuid() == 0 else []
            )
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url)
            page.wait_for_selector("#app[data-ready=true]")
            started = time.perf_counter()
            page.goto(base + "/env/dev/app/big")
            page.wait_for_selector("#app[data-ready=true]")
            shown_ms = (time.perf_counter() - started) * 1000
            browser.close()
    finally:
        local.stop()
    print(f"app page of {count} objects ({args.replicas} Pods)")
    print(f"  GET /api/v1/environments/dev/apps/big: {server_ms:.0f} ms median  (target < 1000)")
    print(f"  shown in Chromium:                      {shown_ms:.0f} ms  (target < 1000)")
    return server_ms < 1000 and shown_ms < 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--replicas", type=int, default=200)
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=cache_root() / "bench-cluster",
        help="the control plane's own state directory, started here and stopped at the end "
        "(default: %(default)s)",
    )
    args = parser.parse_args()
    cluster = [sys.executable, "-m", "hakobu", "cluster", "--state-dir", str(args.state_dir)]
    subprocess.run([*cluster, "up"], check=True, stdout=subprocess.DEVNULL)
    info = json.loads((args.state_dir / "state.json").read_text())
    namespace = f"bench-{uuid.uuid4().hex[:6]}"
    try:
        with (
            KubeClient(load(Path(info["kubeconfig"]))) as kube,
            tempfile.TemporaryDirectory() as tmp,
        ):
            kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
            # The namespace goes with the control plane, stopped below.
            return 0 if measure(kube, Path(tmp), namespace, args) else 1
    finally:
        subprocess.run([*cluster, "down"], check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    raise SystemExit(main())
