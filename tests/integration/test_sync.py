"""``hakobu sync`` against the real control plane, from real git repositories."""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cli import sync as sync_cli
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.errors import HakobuError, InvalidInput
from hakobu.health import HealthRules, HealthStatus, assess
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.project import load_project
from hakobu.sync import SyncOptions, SyncResult, read_desired, sync
from tests.integration.conftest import widget_crd

pytestmark = pytest.mark.cluster

WRITES = ("POST", "PUT", "PATCH", "DELETE")


class Repo:
    """A project in a git repository: hakobu.yaml plus generated/dev/<app>/*.yaml."""

    def __init__(self, root: Path, namespace: str) -> None:
        self.root = root
        self.namespace = namespace
        root.mkdir(parents=True, exist_ok=True)
        (root / "hakobu.yaml").write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "hakobu.dev/v1alpha1",
                    "kind": "Project",
                    "name": "shop",
                    "environments": {"dev": {"namespace": namespace}},
                }
            )
        )
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "ci@example.com")
        self.git("config", "user.name", "CI")

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.root), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    def put(self, app: str, obj: dict[str, Any]) -> None:
        directory = self.root / "generated" / "dev" / app
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        (directory / name).write_text(yaml.safe_dump(obj))

    def remove(self, app: str, kind: str, name: str) -> None:
        (self.root / "generated" / "dev" / app / f"{kind.lower()}-{name}.yaml").unlink()

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


def deployment(name: str, image: str, **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "annotations": annotations} if annotations else {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }


def job(name: str, hook: str, *, fail: bool = False) -> dict[str, Any]:
    labels = {"pod-container-running-failed.stage.kwok.x-k8s.io": "true"} if fail else {}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "annotations": {"hakobu.dev/hook": hook}},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox:1.36"}],
                },
            },
        },
    }


@pytest.fixture
def repo(tmp_path: Path, namespace: str) -> Repo:
    return Repo(tmp_path / "project", namespace)


def run_sync(kube: KubeClient, repo: Repo, rev: str | None = None, **options: Any) -> SyncResult:
    project = load_project(repo.root)
    env = project.environment("dev")
    desired = read_desired(project, env, rev)
    return sync(kube, project, env, desired, options=SyncOptions(timeout=90, **options))


def cli(info: ClusterInfo, repo: Repo, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="hakobu")
    sync_cli.register(parser.add_subparsers(required=True))
    args = parser.parse_args(
        [argv[0], "dev", "-C", str(repo.root), "--kubeconfig", info.kubeconfig, *argv[1:]]
    )
    try:
        code: int = args.handler(args)
    except HakobuError as e:
        print(f"error: {e}")
        return e.exit_code
    return code


def live(kube: KubeClient, namespace: str, kind: str, name: str) -> dict[str, Any]:
    api_version = {"Deployment": "apps/v1", "Job": "batch/v1"}.get(kind, "v1")
    return kube.get(api_version, kind, name, namespace)


def test_first_sync_rollout_and_noop_resync(kube: KubeClient, repo: Repo, namespace: str) -> None:
    repo.put("web", deployment("web", "nginx:1.27"))
    repo.put("web", service("web"))
    repo.put("web", configmap("web-settings", mode="fast"))
    first = repo.commit("web")

    result = run_sync(kube, repo, first)

    assert result.succeeded, result
    assert result.revision == first
    assert (result.applied, result.unchanged) == (3, 0)
    web = live(kube, namespace, "Deployment", "web")
    assert assess(web, HealthRules()).status is HealthStatus.HEALTHY
    assert web["metadata"]["labels"]["hakobu.dev/app"] == "web"
    inventory = kube.get("v1", "ConfigMap", "hakobu-inventory-web", namespace)
    assert "web-settings" in inventory["data"]["objects"]

    repo.put("web", deployment("web", "nginx:1.28"))
    second = repo.commit("new image")
    rollout = run_sync(kube, repo, second)

    assert rollout.succeeded, rollout
    assert (rollout.applied, rollout.unchanged) == (1, 2)
    web = live(kube, namespace, "Deployment", "web")
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert assess(web, HealthRules()).status is HealthStatus.HEALTHY
    assert web["status"]["updatedReplicas"] == 2

    before = {verb: kube.requests[verb] for verb in WRITES}
    again = run_sync(kube, repo, second)

    assert again.succeeded, again
    assert (again.applied, again.unchanged, again.pruned) == (0, 3, 0)
    assert {verb: kube.requests[verb] for verb in WRITES} == before


def test_failing_presync_hook_stops_the_rollout_and_runs_syncfail(
    kube: KubeClient, repo: Repo, namespace: str
) -> None:
    repo.put("api", job("migrate", "PreSync", fail=True))
    repo.put("api", job("notify-failure", "SyncFail"))
    repo.put("api", deployment("api", "api:2"))
    rev = repo.commit("api with a failing migration")

    result = run_sync(kube, repo, rev)

    assert not result.succeeded
    (app,) = result.apps
    assert any("Job/" in m and "migrate" in m and "failed" in m for m in app.messages), app
    assert "Sync" not in app.durations
    assert "SyncFail" in app.durations
    with pytest.raises(NotFound):
        live(kube, namespace, "Deployment", "api")
    notified = live(kube, namespace, "Job", "notify-failure")
    assert assess(notified, HealthRules()).status is HealthStatus.HEALTHY
    assert (
        assess(live(kube, namespace, "Job", "migrate"), HealthRules()).status
        is HealthStatus.DEGRADED
    )


def test_successful_hooks_run_around_the_waves(
    kube: KubeClient, repo: Repo, namespace: str
) -> None:
    repo.put("api", job("migrate", "PreSync"))
    cleanup = job("cleanup", "PostSync")
    cleanup["metadata"]["annotations"]["hakobu.dev/hook-delete-policy"] = "HookSucceeded"
    repo.put("api", cleanup)
    first_wave = configmap("first", v="1")
    first_wave["metadata"]["annotations"] = {"hakobu.dev/sync-wave": "-1"}
    repo.put("api", first_wave)
    repo.put("api", deployment("api", "api:1"))
    rev = repo.commit("api")

    result = run_sync(kube, repo, rev)

    assert result.succeeded, result
    (app,) = result.apps
    assert app.hooks == 2
    assert (
        assess(live(kube, namespace, "Job", "migrate"), HealthRules()).status
        is HealthStatus.HEALTHY
    )
    with pytest.raises(NotFound):
        wait_deleted(kube, namespace, "Job", "cleanup")
    first = live(kube, namespace, "ConfigMap", "first")
    api = live(kube, namespace, "Deployment", "api")
    # Wave -1 was applied (and waited on) before wave 0.
    assert first["metadata"]["creationTimestamp"] <= api["metadata"]["creationTimestamp"]


def test_prune_deletes_exactly_what_left_git(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("keep", "drop", "taken"):
        repo.put("web", configmap(name, v="1"))
    repo.put("web", deployment("web", "nginx:1.27"))
    assert run_sync(kube, repo, repo.commit("three")).succeeded
    unrelated = configmap("unrelated", v="1")
    unrelated["metadata"]["namespace"] = namespace
    kube.create(unrelated)
    # Someone else takes one over: it is theirs now, whatever the inventory says.
    kube.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}/configmaps/taken",
        params={"fieldManager": "other-team"},
        body={"metadata": {"labels": {"hakobu.dev/app": "billing"}}},
        content_type="application/merge-patch+json",
    )
    repo.remove("web", "ConfigMap", "drop")
    repo.remove("web", "ConfigMap", "taken")
    repo.remove("web", "Deployment", "web")
    rev = repo.commit("drop two")

    without = run_sync(kube, repo, rev)
    assert without.succeeded and without.pruned == 0
    # drop and the Deployment would be pruned; taken is someone else's now.
    assert without.left == 2
    capsys.readouterr()
    assert cli(local_cluster, repo, "sync") == 0
    assert "2 objects left git and stay in the cluster; run with --prune" in capsys.readouterr().out
    assert any("taken" in m and "left alone" in m for m in without.apps[0].messages)
    live(kube, namespace, "ConfigMap", "drop")

    result = run_sync(kube, repo, rev, prune=True)

    assert result.succeeded, result
    assert result.pruned == 2
    for gone in (("ConfigMap", "drop"), ("Deployment", "web")):
        with pytest.raises(NotFound):
            wait_deleted(kube, namespace, *gone)
    for kept in ("keep", "taken", "unrelated"):
        live(kube, namespace, "ConfigMap", kept)
    inventory = kube.get("v1", "ConfigMap", "hakobu-inventory-web", namespace)
    assert '"name": "keep"' in inventory["data"]["objects"]
    assert '"name": "taken"' not in inventory["data"]["objects"]


def wait_deleted(kube: KubeClient, namespace: str, kind: str, name: str) -> None:
    """Foreground deletion finishes once dependents are gone: wait a little for it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        live(kube, namespace, kind, name)
        time.sleep(0.2)
    raise AssertionError(f"{kind}/{namespace}/{name} still exists")


def test_prune_refuses_to_empty_an_environment(
    kube: KubeClient, repo: Repo, namespace: str
) -> None:
    repo.put("web", configmap("only", v="1"))
    assert run_sync(kube, repo, repo.commit("one")).succeeded
    repo.remove("web", "ConfigMap", "only")
    rev = repo.commit("nothing left")

    with pytest.raises(InvalidInput, match="no objects"):
        run_sync(kube, repo, rev, prune=True)
    live(kube, namespace, "ConfigMap", "only")

    assert run_sync(kube, repo, rev, prune=True, allow_empty=True).pruned == 1


def test_drift_is_shown_and_repaired(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.put("web", deployment("web", "nginx:1.27"))
    repo.put("web", configmap("web-settings", mode="fast"))
    repo.commit("web")
    assert cli(local_cluster, repo, "sync") == 0
    assert cli(local_cluster, repo, "diff") == 0
    capsys.readouterr()
    # What `kubectl edit` does: an update by another field manager.
    kube.request(
        "PATCH",
        f"/apis/apps/v1/namespaces/{namespace}/deployments/web",
        params={"fieldManager": "kubectl-edit"},
        body={
            "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:hot"}]}}}
        },
        content_type="application/strategic-merge-patch+json",
    )

    assert cli(local_cluster, repo, "diff") == 1
    shown = capsys.readouterr().out
    assert "update Deployment/" in shown
    lines = shown.splitlines()
    assert any(line.startswith("-") and "image: nginx:hot" in line for line in lines), shown
    assert any(line.startswith("+") and "image: nginx:1.27" in line for line in lines), shown
    assert "kubectl-edit" in shown
    # Drifted is not in sync: status says so in its exit code too.
    assert cli(local_cluster, repo, "status") == 1
    assert "web: Drifted" in capsys.readouterr().out

    assert cli(local_cluster, repo, "sync") == 1
    refused = capsys.readouterr().out
    assert '"kubectl-edit"' in refused and "--force-conflicts" in refused

    assert cli(local_cluster, repo, "sync", "--force-conflicts") == 0
    capsys.readouterr()
    web = live(kube, namespace, "Deployment", "web")
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert cli(local_cluster, repo, "diff") == 0
    assert cli(local_cluster, repo, "status") == 0
    assert "web: Synced, Healthy" in capsys.readouterr().out


def test_rejected_object_fails_its_app_only(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = deployment("broken", "nginx:1.27")
    broken["spec"]["replicas"] = -1
    repo.put("bad", broken)
    repo.put("good", configmap("good", v="1"))
    repo.commit("one good app, one bad")

    assert cli(local_cluster, repo, "sync") == 1

    out = capsys.readouterr().out
    assert "bad: Failed" in out and "good: Succeeded" in out
    assert "Deployment/" in out and "spec.replicas" in out
    live(kube, namespace, "ConfigMap", "good")
    assert cli(local_cluster, repo, "history") == 0
    assert "Failed" in capsys.readouterr().out


def test_unknown_revision_and_environment_are_invalid_input(
    repo: Repo, local_cluster: ClusterInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.put("web", configmap("c", v="1"))
    repo.commit("c")
    assert cli(local_cluster, repo, "sync", "--rev", "no-such-branch") == 2
    assert "no-such-branch" in capsys.readouterr().out
    parser = argparse.ArgumentParser()
    sync_cli.register(parser.add_subparsers(required=True))
    args = parser.parse_args(["diff", "staging", "-C", str(repo.root)])
    with pytest.raises(InvalidInput, match="staging"):
        args.handler(args)


def test_definition_and_its_custom_objects_in_one_wave(
    kube: KubeClient, repo: Repo, namespace: str
) -> None:
    group = f"{namespace}.example.com"
    repo.put(
        "widgets",
        widget_crd(group, {"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
    )
    repo.put(
        "widgets",
        {
            "apiVersion": f"{group}/v1",
            "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"n": 1},
        },
    )
    rev = repo.commit("a kind and one of it")

    dry = run_sync(kube, repo, rev, dry_run=True)
    assert dry.succeeded, dry
    with pytest.raises(NotFound):
        kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"widgets.{group}")

    result = run_sync(kube, repo, rev)

    assert result.succeeded, result
    assert result.applied == 2
    assert kube.get(f"{group}/v1", "Widget", "w", namespace)["spec"] == {"n": 1}
    kube.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", f"widgets.{group}")
