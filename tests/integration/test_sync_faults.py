"""Sync under faults, against the real control plane: a killed sync, a restarting server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.cluster.kubeconfig import load
from hakobu.cluster.retry import Backoff, Retrying
from hakobu.localcluster.controlplane import ClusterInfo, restart_component
from hakobu.model.project import load_project
from hakobu.sync import SyncOptions, SyncResult, read_desired, sync
from tests.integration.test_sync import Repo, configmap, deployment, service

pytestmark = pytest.mark.cluster

WRITES = ("POST", "PUT", "PATCH", "DELETE")
KINDS = (("apps/v1", "Deployment"), ("v1", "Service"), ("v1", "ConfigMap"))
WAVES = 4


@pytest.fixture
def repo(tmp_path: Path, namespace: str) -> Repo:
    return Repo(tmp_path / "project", namespace)


def waved(obj: dict[str, Any], wave: int) -> dict[str, Any]:
    obj["metadata"].setdefault("annotations", {})["hakobu.dev/sync-wave"] = str(wave)
    return obj


def put_waves(repo: Repo, image: str, *, dropped_wave: int | None = None) -> None:
    """200 objects in four waves of 50: 10 Deployments, 20 Services, 20 ConfigMaps each."""
    for wave in range(WAVES):
        for i in range(10):
            d = deployment(f"d{wave}-{i}", image)
            d["spec"]["replicas"] = 1
            repo.put("web", waved(d, wave))
        for i in range(20):
            repo.put("web", waved(service(f"s{wave}-{i}"), wave))
            if wave != dropped_wave:
                repo.put("web", waved(configmap(f"c{wave}-{i}", v=str(i)), wave))


def hakobu(info: ClusterInfo, repo: Repo, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hakobu",
            *argv,
            "-C",
            str(repo.root),
            "--kubeconfig",
            info.kubeconfig,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def managed(kube: KubeClient, namespace: str) -> dict[str, dict[str, str]]:
    """Every Deployment, Service and ConfigMap of the namespace but hakobu's own records,
    by Kind/name, with its labels."""
    found = {}
    for api_version, kind in KINDS:
        for item in kube.list(api_version, kind, namespace).items:
            name = item["metadata"]["name"]
            if name == "kube-root-ca.crt" or name.startswith("hakobu-"):
                continue
            found[f"{kind}/{name}"] = item["metadata"].get("labels") or {}
    return found


def settled(kube: KubeClient, namespace: str, wanted: set[str]) -> dict[str, dict[str, str]]:
    """What ``managed`` finds once pruned objects are gone: foreground deletion is finished
    by the garbage collector shortly after the sync."""
    deadline = time.monotonic() + 30
    while True:
        found = managed(kube, namespace)
        if found.keys() == wanted or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def in_git(repo: Repo) -> set[str]:
    project = load_project(repo.root)
    desired = read_desired(project, project.environment("dev"))
    return {
        f"{m.obj['kind']}/{m.obj['metadata']['name']}" for a in desired.apps for m in a.manifests
    }


def inventory(kube: KubeClient, namespace: str) -> set[str]:
    listing = json.loads(
        kube.get("v1", "ConfigMap", "hakobu-inventory-web", namespace)["data"]["objects"]
    )
    return {f"{entry['kind']}/{entry['name']}" for entry in listing}


def test_a_sync_killed_half_way_is_completed_by_the_next_without_orphans(
    kube: KubeClient, repo: Repo, namespace: str, local_cluster: ClusterInfo
) -> None:
    put_waves(repo, "nginx:1.27")
    first = repo.commit("200 objects in four waves")
    running = hakobu(local_cluster, repo, "sync", "dev", "--rev", first)
    assert running.stderr is not None
    for line in running.stderr:
        if "Sync wave 2: applying" in line:
            os.kill(running.pid, signal.SIGKILL)
            break
    running.wait()
    assert running.returncode == -signal.SIGKILL

    half = managed(kube, namespace)
    # Waves 0 and 1 were applied and waited on; wave 3 cannot have begun.
    assert {f"ConfigMap/c1-{i}" for i in range(20)} <= half.keys()
    assert not any(name.endswith(("3-0", "3-1")) for name in half)
    # What the killed sync was about to create is already in the inventory.
    assert inventory(kube, namespace) >= in_git(repo)

    # The next revision drops wave 1's ConfigMaps and changes every image.
    for i in range(20):
        repo.remove("web", "ConfigMap", f"c1-{i}")
    repo.put("web", waved(configmap("late", v="1"), 3))
    for wave in range(WAVES):
        for i in range(10):
            d = deployment(f"d{wave}-{i}", "nginx:1.28")
            d["spec"]["replicas"] = 1
            repo.put("web", waved(d, wave))
    second = repo.commit("drop wave 1's settings, new image")
    # The killed sync's lock is taken over once it expires.
    rerun = hakobu(
        local_cluster, repo, "sync", "dev", "--rev", second, "--prune", "--wait-lock", "60s"
    )
    out, err = rerun.communicate()
    assert rerun.returncode == 0, out + err

    assert "20 pruned" in out, out
    wanted = in_git(repo)
    now = settled(kube, namespace, wanted)
    assert now.keys() == wanted
    for name, labels in now.items():
        assert labels.get("hakobu.dev/app") == "web", name
        assert labels.get("hakobu.dev/environment") == "dev", name
    assert inventory(kube, namespace) == wanted
    web = kube.get("apps/v1", "Deployment", "d3-9", namespace)
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"

    before = {verb: kube.requests[verb] for verb in WRITES}
    project = load_project(repo.root)
    env = project.environment("dev")
    again = sync(
        kube, project, env, read_desired(project, env, second), options=SyncOptions(prune=True)
    )
    assert (again.applied, again.pruned, again.unchanged) == (0, 0, len(wanted))
    assert {verb: kube.requests[verb] for verb in WRITES} == before


def test_a_sync_rides_out_an_api_server_restart(
    repo: Repo, namespace: str, local_cluster: ClusterInfo
) -> None:
    put_waves(repo, "nginx:1.27")
    rev = repo.commit("200 objects in four waves")
    project = load_project(repo.root)
    env = project.environment("dev")
    desired = read_desired(project, env, rev)
    outages: list[str] = []
    second_wave = threading.Event()
    results: list[SyncResult] = []

    def progress(message: str) -> None:
        if "Sync wave 1: applying" in message:
            second_wave.set()

    retrying = Retrying(Backoff(patience=120.0), outages.append)
    with KubeClient(load(Path(local_cluster.kubeconfig)), retry=retrying) as kube:

        def run() -> None:
            results.append(
                sync(
                    kube, project, env, desired, options=SyncOptions(timeout=240), progress=progress
                )
            )

        syncing = threading.Thread(target=run)
        syncing.start()
        assert second_wave.wait(120)
        restart_component(Path(local_cluster.state_dir), "kube-apiserver", lambda _: None)
        syncing.join()
        (result,) = results
        assert outages[0].startswith("API server unavailable")
        assert outages[-1].startswith("API server answering again")
        if not result.succeeded:
            # Under load the restarting server can answer a request with an error of its own
            # (its controllers' "connection refused"); the sync then ends Failed, cleanly,
            # and the next one must converge with nothing lost.
            assert all(a.messages for a in result.apps if a.result != "Succeeded"), result
            result = sync(kube, project, env, desired, options=SyncOptions(timeout=240))
    assert result.succeeded, result
    with KubeClient(load(Path(local_cluster.kubeconfig))) as kube:
        again = sync(kube, project, env, desired, options=SyncOptions(timeout=60))
    assert again.succeeded and again.applied == 0 and again.unchanged == 200
