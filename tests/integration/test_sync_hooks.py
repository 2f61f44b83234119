"""Hooks run when their app changes, are recreated rather than applied over, and a dry run
models that."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.test_sync import Repo, cli, deployment, job, live, run_sync

pytestmark = pytest.mark.cluster


@pytest.fixture
def repo(tmp_path: Path, namespace: str) -> Repo:
    return Repo(tmp_path / "project", namespace)


def uid(kube: KubeClient, namespace: str, name: str) -> str:
    return str(live(kube, namespace, "Job", name)["metadata"]["uid"])


def test_a_changed_hook_job_is_a_recreate_in_dry_run_diff_and_sync(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.put("api", job("migrate", "PreSync"))
    repo.put("api", deployment("api", "api:1"))
    assert run_sync(kube, repo, repo.commit("api 1")).succeeded
    before = uid(kube, namespace, "migrate")

    changed = job("migrate", "PreSync")
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.37"
    repo.put("api", changed)
    repo.put("api", deployment("api", "api:2"))
    repo.commit("api 2")
    capsys.readouterr()

    # A Job's pod template is immutable: only deleting and creating it again changes it.
    assert cli(local_cluster, repo, "sync", "--dry-run") == 0
    dry = capsys.readouterr().out
    assert "immutable" not in dry, dry
    assert uid(kube, namespace, "migrate") == before

    assert cli(local_cluster, repo, "diff") == 1
    shown = capsys.readouterr().out
    assert f"# api: recreate Job/{namespace}/migrate" in shown, shown
    assert "+      - image: busybox:1.37" in shown, shown

    assert cli(local_cluster, repo, "sync") == 0
    capsys.readouterr()
    assert uid(kube, namespace, "migrate") != before


def test_a_dry_run_still_reports_a_hook_the_server_would_refuse(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.put("api", job("migrate", "PreSync"))
    assert run_sync(kube, repo, repo.commit("api 1")).succeeded
    broken = job("migrate", "PreSync")
    broken["spec"]["backoffLimit"] = -1
    repo.put("api", broken)
    repo.commit("a negative backoffLimit")
    capsys.readouterr()

    assert cli(local_cluster, repo, "sync", "--dry-run") == 1
    assert "backoffLimit" in capsys.readouterr().out


def test_a_noop_sync_runs_no_hooks_unless_a_hook_asks_for_always(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.put("api", job("migrate", "PreSync"))
    always = job("smoke", "PostSync")
    always["metadata"]["annotations"]["hakobu.dev/hook-policy"] = "Always"
    repo.put("api", always)
    repo.put("api", deployment("api", "api:1"))
    rev = repo.commit("api")
    first = run_sync(kube, repo, rev)
    assert first.succeeded, first
    assert first.apps[0].hooks == 2
    migrate, smoke = uid(kube, namespace, "migrate"), uid(kube, namespace, "smoke")

    again = run_sync(kube, repo, rev)

    assert again.succeeded, again
    assert again.apps[0].hooks == 1
    assert uid(kube, namespace, "migrate") == migrate
    assert uid(kube, namespace, "smoke") != smoke
    # Nothing to do, and an Always hook does not make it look otherwise.
    assert cli(local_cluster, repo, "diff") == 0
    assert cli(local_cluster, repo, "status") == 0
    capsys.readouterr()


def test_a_change_of_a_hook_alone_is_shown_and_runs_it(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.put("api", job("migrate", "PreSync"))
    repo.put("api", deployment("api", "api:1"))
    assert run_sync(kube, repo, repo.commit("api")).succeeded
    migrate = uid(kube, namespace, "migrate")
    changed = job("migrate", "PreSync")
    changed["spec"]["template"]["spec"]["containers"][0]["args"] = ["--all"]
    repo.put("api", changed)
    rev = repo.commit("migrate everything")
    capsys.readouterr()

    assert cli(local_cluster, repo, "status") == 1
    assert "api: OutOfSync" in capsys.readouterr().out
    assert cli(local_cluster, repo, "diff") == 1
    shown = capsys.readouterr().out
    assert f"recreate Job/{namespace}/migrate" in shown
    assert "--all" in shown

    result = run_sync(kube, repo, rev)
    assert result.succeeded, result
    assert result.apps[0].hooks == 1
    assert uid(kube, namespace, "migrate") != migrate
    assert cli(local_cluster, repo, "status") == 0
    capsys.readouterr()
