"""``hakobu cluster`` as a person uses it: up, up again, status, kubeconfig, faults, down."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hakobu.localcluster import controlplane, processes
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.usercache import cache_root

pytestmark = pytest.mark.cluster


def hakobu(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hakobu", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def components(state_dir: Path) -> list[int]:
    return processes.find(str(state_dir) + os.sep, cache_root() / "tools")


@pytest.fixture
def state_dir(tmp_path: Path, local_cluster: ClusterInfo) -> Iterator[Path]:
    # local_cluster: the binaries are built once by the session fixture, not by these tests.
    directory = tmp_path / "cluster"
    yield directory
    controlplane.down(directory)


def test_up_twice_status_kubeconfig_down_twice(state_dir: Path) -> None:
    cluster = ["cluster", "--state-dir", str(state_dir)]
    first = hakobu(*cluster, "up")
    assert first.returncode == 0, first.stderr
    assert "cluster is up: Kubernetes v1" in first.stdout

    second = hakobu(*cluster, "up")
    assert second.returncode == 0, second.stderr
    assert "already up" in second.stdout

    status = hakobu(*cluster, "status", "-o", "json")
    assert status.returncode == 0
    reported = json.loads(status.stdout)
    assert reported["ready"] is True
    assert reported["nodes_ready"] == ["kwok-node-0"]
    assert set(reported["components"]) == {
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
    }

    kubeconfig = yaml.safe_load(hakobu(*cluster, "kubeconfig").stdout)
    assert kubeconfig["current-context"] == "hakobu-local"
    assert kubeconfig["clusters"][0]["cluster"]["server"] == reported["server"]

    # kubectl's own flags pass through untouched, even first.
    nodes = hakobu(*cluster, "kubectl", "-n", "default", "get", "nodes", "-o", "name")
    assert nodes.stdout.split() == ["node/kwok-node-0"]

    assert len(components(state_dir)) == 5
    down = hakobu(*cluster, "down")
    assert down.returncode == 0, down.stderr
    assert "stopped 5 processes" in down.stdout
    assert components(state_dir) == []
    assert not state_dir.exists()

    again = hakobu(*cluster, "down")
    assert again.returncode == 0
    assert "nothing was running" in again.stdout
    stopped = hakobu(*cluster, "status")
    assert stopped.returncode == 1
    assert "not running" in stopped.stdout


def test_a_killed_component_and_a_lost_state_file_are_recovered(state_dir: Path) -> None:
    cluster = ["cluster", "--state-dir", str(state_dir)]
    assert hakobu(*cluster, "up").returncode == 0
    info = controlplane.read_info(state_dir)
    assert info is not None
    os.kill(info.pids["kwok"], signal.SIGKILL)

    degraded = hakobu(*cluster, "status")
    assert degraded.returncode == 1
    assert "kwok not running" in degraded.stdout

    # As if `up` had crashed before recording anything: only the processes are left.
    (state_dir / "state.json").unlink()
    leftovers = components(state_dir)
    assert len(leftovers) == 4
    assert "leftover processes" in hakobu(*cluster, "status").stdout

    recovered = hakobu(*cluster, "up")
    assert recovered.returncode == 0, recovered.stderr
    assert "stopping 4 leftover processes" in recovered.stderr
    assert not any(processes.alive(pid) for pid in leftovers)
    assert hakobu(*cluster, "status").returncode == 0


def test_a_port_in_use_is_a_clear_error(state_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = hakobu("cluster", "--state-dir", str(state_dir), "up", "--port", str(port))
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert components(state_dir) == []
