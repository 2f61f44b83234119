"""A fleet's tiered rollout on the real control plane: a new template reaches the first tier,
the next follows by one ``hakobu fleet rollout`` step once the first has been Healthy for the
soak, and a Degraded instance of the first tier halts the rollout with nothing moved."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.releases.tierrollout import record_name
from tests.integration.test_sync import Repo, live

pytestmark = pytest.mark.cluster

CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ app }}
data:
  tier: {{ tier }}
"""

# Its pod fails (kwok's stage for that label), so the Job, and the instance, is Degraded.
FAILING_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ app }}-migrate
spec:
  backoffLimit: 0
  template:
    metadata:
      labels: {pod-container-running-failed.stage.kwok.x-k8s.io: "true"}
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
"""


@pytest.fixture
def repo(tmp_path: Path, namespace: str) -> Repo:
    repo = Repo(tmp_path / "project", namespace)
    fleet = repo.root / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "fleet.yaml").write_text("tiers: [canary, stable]\nrollout: {soak: 3s}\n")
    (fleet / "template" / "config.yaml.j2").write_text(CONFIG)
    return repo


def hakobu(repo: Repo, *words: str) -> int:
    return main([*words[:1], "-C", str(repo.root), *words[1:]])


def start(repo: Repo, info: ClusterInfo, capsys: pytest.CaptureFixture[str]) -> None:
    """Two shops on the first template, synced; the first step pins the later tier."""
    assert hakobu(repo, "fleet", "add", "shops", "berlin", "canary") == 0
    assert hakobu(repo, "fleet", "add", "shops", "paris", "stable") == 0
    assert hakobu(repo, "render") == 0
    repo.commit("two shops")
    assert hakobu(repo, "sync", "dev", "--kubeconfig", info.kubeconfig) == 0
    capsys.readouterr()
    assert rollout(repo, info) == 0
    out = capsys.readouterr().out
    assert "gave the later tiers their own copy of the template in commit" in out, out
    assert "done: every tier runs the same template version" in out
    assert repo.git("status", "--porcelain") == ""
    assert (repo.root / "apps/shops/tiers/stable/config.yaml.j2").read_text() == CONFIG


def rollout(repo: Repo, info: ClusterInfo, *more: str) -> int:
    return hakobu(repo, "fleet", "rollout", "shops", "dev", "--kubeconfig", info.kubeconfig, *more)


def versions(repo: Repo, info: ClusterInfo, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    capsys.readouterr()
    hakobu(repo, "fleet", "status", "shops", "dev", "--kubeconfig", info.kubeconfig, "-o", "json")
    return {t["tier"]: t["version"] for t in json.loads(capsys.readouterr().out)["tiers"]}


def test_the_next_tier_follows_after_the_soak(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    start(repo, local_cluster, capsys)
    first = versions(repo, local_cluster, capsys)
    (repo.root / "apps/shops/template/config.yaml.j2").write_text(CONFIG + "  release: '2'\n")
    assert hakobu(repo, "render") == 0
    repo.commit("release 2")
    assert hakobu(repo, "sync", "dev", "--kubeconfig", local_cluster.kubeconfig) == 0
    assert live(kube, namespace, "ConfigMap", "shops-berlin")["data"]["release"] == "2"
    assert "release" not in live(kube, namespace, "ConfigMap", "shops-paris")["data"]
    second = versions(repo, local_cluster, capsys)
    assert second["canary"] != first["canary"] and second["stable"] == first["stable"]

    capsys.readouterr()
    assert rollout(repo, local_cluster) == 1
    assert "waiting: tier canary soaks 3s more before stable follows" in capsys.readouterr().out
    record = live(kube, namespace, "ConfigMap", record_name("shops"))["data"]
    assert json.loads(record["canary"])["version"] == second["canary"]
    head = repo.git("rev-parse", "HEAD")

    time.sleep(3.5)
    assert rollout(repo, local_cluster, "-o", "json") == 0
    step = json.loads(capsys.readouterr().out)
    assert (step["verdict"], step["tier"], step["target"]) == ("promote", "canary", "stable")
    commit = step["promotion"]["commit"]
    assert repo.git("rev-parse", "HEAD") == commit and repo.git("rev-parse", "HEAD~") == head
    assert repo.git("status", "--porcelain") == ""
    changed = repo.git("show", "--name-only", "--format=%s", commit).splitlines()
    assert changed[0] == "promote fleet shops: canary → stable"
    assert sorted(changed[2:]) == [
        "apps/shops/tiers/stable/config.yaml.j2",
        "generated/dev/shops-paris/configmap-shops-paris.yaml",
    ]

    assert hakobu(repo, "sync", "dev", "--kubeconfig", local_cluster.kubeconfig) == 0
    assert live(kube, namespace, "ConfigMap", "shops-paris")["data"] == {
        "tier": "stable",
        "release": "2",
    }
    assert versions(repo, local_cluster, capsys) == {
        "canary": second["canary"],
        "stable": second["canary"],
    }
    assert rollout(repo, local_cluster) == 0
    assert "done: every tier runs the same template version" in capsys.readouterr().out


def test_a_degraded_first_tier_instance_halts_the_rollout(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    start(repo, local_cluster, capsys)
    (repo.root / "apps/shops/template/migrate.yaml.j2").write_text(FAILING_JOB)
    assert hakobu(repo, "render") == 0
    repo.commit("a migration that fails")
    head = repo.git("rev-parse", "HEAD")
    before = versions(repo, local_cluster, capsys)
    # The sync waits for the Job and reports it failed.
    assert hakobu(repo, "sync", "dev", "--kubeconfig", local_cluster.kubeconfig) == 1

    time.sleep(3.5)
    capsys.readouterr()
    assert rollout(repo, local_cluster) == 1
    out = capsys.readouterr().out
    assert out.startswith("halted: tier canary: instance berlin is Degraded: "), out
    assert f"Job/{namespace}/shops-berlin-migrate" in out
    # Nothing moved: no commit, the stable tier's copy and its instance as they were.
    assert repo.git("rev-parse", "HEAD") == head
    assert versions(repo, local_cluster, capsys) == before
    assert not (repo.root / "apps/shops/tiers/stable/migrate.yaml.j2").exists()
    assert "  it holds until the template of tier canary changes (fix or revert it)" in out
    record = live(kube, namespace, "ConfigMap", record_name("shops"))
    assert "canary" not in record["data"]
    halted = json.loads(record["metadata"]["annotations"]["hakobu.dev/halted"])
    assert (halted["tier"], halted["version"]) == ("canary", before["canary"])
    # A person's promotion is refused for the same reason.
    promote = ["promote", "canary", "stable", "--fleet", "shops", "--env", "dev"]
    assert hakobu(repo, *promote, "--kubeconfig", local_cluster.kubeconfig) == 1
    assert "tier canary of fleet 'shops' is not Synced and Healthy: berlin: Synced, Degraded" in (
        capsys.readouterr().err
    )
    assert repo.git("rev-parse", "HEAD") == head

    # Resuming while berlin is still Degraded halts again at once.
    assert rollout(repo, local_cluster, "--resume") == 1
    assert capsys.readouterr().out.startswith("halted: tier canary: instance berlin")
    # Reverting the template is a person acting: the halt ends, and canary runs what
    # stable runs again.
    repo.git("revert", "--no-edit", "HEAD")
    assert hakobu(repo, "sync", "dev", "--prune", "--kubeconfig", local_cluster.kubeconfig) == 0
    assert rollout(repo, local_cluster) == 0
    assert "done: every tier runs the same template version" in capsys.readouterr().out
    record = live(kube, namespace, "ConfigMap", record_name("shops"))
    assert "hakobu.dev/halted" not in (record["metadata"].get("annotations") or {})
