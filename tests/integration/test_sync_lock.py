"""Two ``hakobu sync`` processes on one environment: the Lease lets one act at a time."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.test_sync import Repo, configmap, deployment, job

pytestmark = pytest.mark.cluster

LEASE = "hakobu-sync-dev"
OBJECTS = 40


def unschedulable(name: str) -> dict[str, Any]:
    """A Deployment that stays Progressing: its pods fit no node, so a sync waits on it."""
    obj = deployment(name, "nginx:1.27")
    obj["spec"]["template"]["spec"]["nodeSelector"] = {"hakobu.dev/no-such-node": "true"}
    return obj


def revision(repo: Repo, value: str, *, slow: bool = False) -> str:
    for i in range(OBJECTS):
        repo.put("web", configmap(f"settings-{i:02d}", revision=value))
    if slow:
        repo.put("web", unschedulable("stuck"))
    else:
        (repo.root / "generated" / "dev" / "web" / "deployment-stuck.yaml").unlink(missing_ok=True)
    return repo.commit(f"revision {value}")


def start(info: ClusterInfo, repo: Repo, rev: str, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hakobu",
            "sync",
            "dev",
            "-C",
            str(repo.root),
            "--kubeconfig",
            info.kubeconfig,
            "--rev",
            rev,
            *argv,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def lease(kube: KubeClient, namespace: str) -> dict[str, Any] | None:
    try:
        return kube.get("coordination.k8s.io/v1", "Lease", LEASE, namespace)
    except NotFound:
        return None


def wait_held_by(kube: KubeClient, namespace: str, pid: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = lease(kube, namespace)
        if found and f"pid {pid} " in (found["spec"].get("holderIdentity") or ""):
            return found
        time.sleep(0.1)
    raise AssertionError(f"the Lease was never held by pid {pid}: {found}")


def values(kube: KubeClient, namespace: str) -> set[str]:
    found = kube.list("v1", "ConfigMap", namespace, label_selector="hakobu.dev/app=web")
    return {
        item["data"]["revision"]
        for item in found.items
        if item["metadata"]["name"].startswith("settings-")
    }


def test_a_second_sync_fails_at_once_naming_the_holder_or_waits_for_it(
    kube: KubeClient, local_cluster: ClusterInfo, tmp_path: Path, namespace: str
) -> None:
    repo = Repo(tmp_path / "project", namespace)
    first = revision(repo, "one", slow=True)
    second = revision(repo, "two")

    holder = start(local_cluster, repo, first, "--timeout", "8")
    try:
        held = wait_held_by(kube, namespace, holder.pid)

        started = time.monotonic()
        refused = start(local_cluster, repo, second)
        output, _ = refused.communicate(timeout=60)
        assert refused.returncode == 1, output
        assert time.monotonic() - started < 5, output
        assert f"pid {holder.pid} " in output
        assert f"since {held['spec']['acquireTime']}" in output
        assert "--wait-lock" in output

        waiting = start(local_cluster, repo, second, "--wait-lock", "60s")
        waited, _ = waiting.communicate(timeout=120)
        held_output, _ = holder.communicate(timeout=60)
    finally:
        holder.kill()
    assert holder.returncode == 1, held_output  # its Deployment never became Healthy
    assert waiting.returncode == 0, waited
    assert "waiting up to 60s" in waited
    assert values(kube, namespace) == {"two"}
    released = lease(kube, namespace)
    assert released is not None and not released["spec"].get("holderIdentity")


def test_a_killed_holder_is_taken_over_once_its_lease_expires(
    kube: KubeClient, local_cluster: ClusterInfo, tmp_path: Path, namespace: str
) -> None:
    repo = Repo(tmp_path / "project", namespace)
    first = revision(repo, "one", slow=True)
    second = revision(repo, "two")
    holder = start(local_cluster, repo, first, "--timeout", "120")
    try:
        held = wait_held_by(kube, namespace, holder.pid)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()

    started = time.monotonic()
    taker = start(local_cluster, repo, second, "--wait-lock", "60s")
    output, _ = taker.communicate(timeout=120)
    took = time.monotonic() - started

    assert taker.returncode == 0, output
    # Not before the lease's duration has passed on the taker's own clock.
    assert took >= held["spec"]["leaseDurationSeconds"], output
    assert took < 45, output
    assert values(kube, namespace) == {"two"}
    after = lease(kube, namespace)
    assert after is not None and after["spec"]["leaseTransitions"] >= 1


def test_two_syncs_started_together_leave_exactly_one_revision(
    kube: KubeClient, local_cluster: ClusterInfo, tmp_path: Path, namespace: str
) -> None:
    repo = Repo(tmp_path / "project", namespace)
    # A PreSync hook (a Job takes a second or two) keeps each sync busy long enough for
    # the two to overlap.
    repo.put("web", job("migrate", "PreSync"))
    first = revision(repo, "one")
    second = revision(repo, "two")

    syncs = [start(local_cluster, repo, rev, "--wait-lock", "60s") for rev in (first, second)]
    outputs = [p.communicate(timeout=120)[0] for p in syncs]

    assert [p.returncode for p in syncs] == [0, 0], outputs
    # One waited for the other: the later one's revision is everywhere, never a mix.
    assert sum("waiting up to" in o for o in outputs) == 1, outputs
    assert len(values(kube, namespace)) == 1
