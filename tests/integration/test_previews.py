"""Preview environments of branches pushed to a bare git remote, on the real control plane."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.project import Project, load_project
from hakobu.releases.previewpass import Step, follow_remote
from hakobu.releases.previews import down, expire, list_previews, up

pytestmark = pytest.mark.cluster


class Remote:
    """A bare remote; a clone where branches are pushed from; and a second clone, the
    operator's, which knows the branches only as fetched."""

    def __init__(self, root: Path, namespace: str, prefix: str) -> None:
        self.bare = root / "remote.git"
        self.work = root / "work"
        self.ops = root / "ops"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True)
        self.work.mkdir()
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "ci@example.com")
        self.git("config", "user.name", "CI")
        self.git("remote", "add", "origin", str(self.bare))
        project = {
            "apiVersion": "hakobu.dev/v1alpha1",
            "kind": "Project",
            # Each test's own project: another test's previews, still ending, count for theirs.
            "name": prefix,
            "environments": {"dev": {"namespace": namespace}},
            "previews": {
                "from": "dev",
                "branches": "feature/*",
                "namespace": prefix + "-{{branch}}",
                "host": "{{branch}}.preview.example.com",
                "ttl": "1h",
                "maxCount": 2,
            },
        }
        (self.work / "hakobu.yaml").write_text(yaml.safe_dump(project))
        self.put("hello")
        self.commit("main line")
        self.git("push", "-q", "origin", "main")
        subprocess.run(["git", "clone", "-q", str(self.bare), str(self.ops)], check=True)

    def git(self, *args: str, where: Path | None = None) -> str:
        return subprocess.run(
            ["git", "-C", str(where or self.work), *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def put(self, greeting: str) -> None:
        app = self.work / "apps" / "web"
        app.mkdir(parents=True, exist_ok=True)
        (app / "kustomization.yaml").write_text("resources: [configmap.yaml]\n")
        configmap = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "web"},
            "data": {"greeting": greeting},
        }
        (app / "configmap.yaml").write_text(yaml.safe_dump(configmap))

    def commit(self, message: str, date: datetime | None = None) -> str:
        self.git("add", "-A")
        dated = {}
        if date is not None:
            stamp = date.strftime("%Y-%m-%dT%H:%M:%S+0000")
            dated = {"GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": stamp}
        subprocess.run(
            ["git", "-C", str(self.work), "commit", "-q", "-m", message],
            check=True,
            env={**os.environ, **dated},
        )
        return self.git("rev-parse", "HEAD")

    def push_branch(self, branch: str, greeting: str, date: datetime | None = None) -> str:
        """A commit on ``branch`` (made from main the first time; dated ``date``), pushed,
        then fetched by the operator's clone."""
        if branch not in self.git("branch", "--list", branch):
            self.git("branch", branch, "main")
        self.git("checkout", "-q", branch)
        self.put(greeting)
        revision = self.commit(f"{branch}: {greeting}", date)
        self.git("push", "-q", "origin", branch)
        self.git("checkout", "-q", "main")
        self.git("fetch", "-q", "--prune", "origin", where=self.ops)
        return revision

    def delete_branch(self, branch: str) -> None:
        self.git("push", "-q", "origin", "--delete", branch)
        self.git("fetch", "-q", "--prune", "origin", where=self.ops)

    def project(self) -> Project:
        return load_project(self.ops)


@pytest.fixture
def remote(tmp_path: Path, namespace: str, kube: KubeClient) -> Iterator[Remote]:
    yield from previews_remote(tmp_path, namespace, kube)


def previews_remote(tmp_path: Path, namespace: str, kube: KubeClient) -> Iterator[Remote]:
    """A ``Remote`` whose previews' namespaces are deleted once the test is done."""
    prefix = f"pv{uuid.uuid4().hex[:6]}"
    made = Remote(tmp_path, namespace, prefix)
    yield made
    for item in kube.list("v1", "Namespace").items:
        name = item["metadata"]["name"]
        if name.startswith(prefix):
            kube.delete("v1", "Namespace", name, propagation="Background")


def _greeting(kube: KubeClient, namespace: str) -> str:
    return str(kube.get("v1", "ConfigMap", "web", namespace)["data"]["greeting"])


def _gone(kube: KubeClient, namespace: str) -> bool:
    try:
        kube.get("v1", "Namespace", namespace)
    except NotFound:
        return True
    return False


def test_a_preview_follows_its_branch_and_goes_with_it(remote: Remote, kube: KubeClient) -> None:
    first = remote.push_branch("feature/Login_Page", "hi")
    project = remote.project()
    now = datetime.now(UTC)
    done = up(kube, project, "feature/Login_Page", now=now, timeout=60)
    namespace = done.preview.namespace
    assert done.created and done.sync.succeeded
    assert namespace.endswith("-feature-login-page")
    assert done.preview.url == "https://feature-login-page.preview.example.com"
    assert _greeting(kube, namespace) == "hi"
    # The copied environment's namespace is not touched.
    with pytest.raises(NotFound):
        kube.get("v1", "ConfigMap", "web", project.environment("dev").namespace)
    marks = kube.get("v1", "Namespace", namespace)["metadata"]
    assert marks["annotations"]["hakobu.dev/preview"] == "feature/Login_Page"
    assert marks["annotations"]["hakobu.dev/preview-revision"] == first

    second = remote.push_branch("feature/Login_Page", "hello again")
    again = up(kube, remote.project(), "feature/Login_Page", now=now + timedelta(minutes=5))
    assert not again.created and again.sync.succeeded
    assert _greeting(kube, namespace) == "hello again"
    (listed,) = list_previews(kube, project)
    assert (listed.branch, listed.revision, listed.state(now)) == (
        "feature/Login_Page",
        second,
        "Active",
    )
    # The expiry counts from the first deploy, not the latest push.
    assert listed.expires == now.replace(microsecond=0) + timedelta(hours=1)
    # The branch is committed to by its owner only: the preview added nothing.
    assert remote.git("rev-parse", "origin/feature/Login_Page", where=remote.ops) == second

    remote.delete_branch("feature/Login_Page")
    gone = down(kube, remote.project(), "feature/Login_Page", timeout=120)
    assert gone.namespace == namespace
    assert _gone(kube, namespace)
    assert list_previews(kube, project) == []


def test_an_expired_preview_is_taken_down(remote: Remote, kube: KubeClient) -> None:
    remote.push_branch("feature/old", "old")
    remote.push_branch("feature/new", "new")
    project = remote.project()
    now = datetime.now(UTC)
    old = up(kube, project, "feature/old", now=now - timedelta(hours=2), timeout=60)
    new = up(kube, project, "feature/new", now=now, timeout=60)
    assert [p.state(now) for p in list_previews(kube, project)] == ["Active", "Expired"]
    gone = expire(kube, project, now=now, timeout=120)
    assert [p.branch for p in gone] == ["feature/old"]
    assert _gone(kube, old.preview.namespace)
    assert _greeting(kube, new.preview.namespace) == "new"


def test_more_previews_than_max_count_are_refused(remote: Remote, kube: KubeClient) -> None:
    for branch in ("feature/a", "feature/b", "feature/c"):
        remote.push_branch(branch, branch)
    project = remote.project()
    now = datetime.now(UTC)
    up(kube, project, "feature/a", now=now, timeout=60)
    up(kube, project, "feature/b", now=now, timeout=60)
    with pytest.raises(OperationFailed, match="has 2 previews, its maxCount"):
        up(kube, project, "feature/c", now=now, timeout=60)
    assert project.previews is not None
    assert _gone(kube, project.previews.namespace("feature/c"))
    # An update of one that runs is not a new one.
    assert up(kube, project, "feature/a", now=now, timeout=60).sync.succeeded


def test_a_namespace_that_is_no_preview_is_never_touched(remote: Remote, kube: KubeClient) -> None:
    remote.push_branch("feature/taken", "mine")
    project = remote.project()
    assert project.previews is not None
    namespace = project.previews.namespace("feature/taken")
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "web", "namespace": namespace},
            "data": {"greeting": "someone else's"},
        }
    )
    with pytest.raises(OperationFailed, match=r"is not project 'pv.*'s preview"):
        up(kube, project, "feature/taken", now=datetime.now(UTC), timeout=60)
    with pytest.raises(OperationFailed, match=r"is not project 'pv.*'s preview"):
        down(kube, project, "feature/taken")
    assert expire(kube, project, now=datetime.now(UTC) + timedelta(days=999)) == []
    assert _greeting(kube, namespace) == "someone else's"
    assert "annotations" not in kube.get("v1", "Namespace", namespace)["metadata"]


def test_bad_branches_are_refused_with_nothing_deployed(
    remote: Remote, kube: KubeClient, local_cluster: ClusterInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    remote.push_branch("feature/x", "x")
    project = remote.project()
    with pytest.raises(InvalidInput, match=r"does not match previews\.branches"):
        up(kube, project, "main", now=datetime.now(UTC))
    where = ["-C", str(remote.ops), "--kubeconfig", str(local_cluster.kubeconfig)]
    code = main(["preview", "up", "feature/missing", *where])
    assert code == 2
    assert "there is no branch 'feature/missing'" in capsys.readouterr().err
    assert list_previews(kube, project) == []


def test_the_command_line_brings_up_lists_and_takes_down(
    remote: Remote, local_cluster: ClusterInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    remote.push_branch("feature/cli", "cli")
    where = ["-C", str(remote.ops), "--kubeconfig", str(local_cluster.kubeconfig)]
    assert main(["preview", "up", "feature/cli", *where]) == 0
    assert "https://feature-cli.preview.example.com" in capsys.readouterr().out
    assert main(["preview", "list", *where]) == 0
    listing = capsys.readouterr().out
    assert "feature/cli" in listing and "Active" in listing
    assert main(["preview", "down", "feature/cli", *where]) == 0
    assert "preview of feature/cli deleted" in capsys.readouterr().out
    assert main(["preview", "list", *where]) == 0
    assert capsys.readouterr().out.strip() == "no previews"


def test_a_pass_over_the_remote_brings_previews_up_along_and_down(
    remote: Remote, kube: KubeClient
) -> None:
    now = datetime.now(UTC)
    url = str(remote.bare)
    # Pushed 80 minutes ago, seen by a pass 70 minutes ago: its hour runs out 10 minutes ago.
    remote.push_branch("feature/stale", "stale", date=now - timedelta(minutes=80))
    project = remote.project()
    events = follow_remote(kube, project, url, now=now - timedelta(minutes=70), timeout=60)
    assert [(e.step, e.branch) for e in events] == [(Step.UP, "feature/stale")]
    remote.push_branch("feature/live", "one")
    events = follow_remote(kube, project, url, now=now, timeout=120)
    assert [(e.step, e.branch) for e in events] == [
        (Step.EXPIRED, "feature/stale"),
        (Step.UP, "feature/live"),
    ]
    assert events[1].url == "https://feature-live.preview.example.com"
    assert project.previews is not None
    stale, live = (project.previews.namespace(b) for b in ("feature/stale", "feature/live"))
    assert _gone(kube, stale)
    assert _greeting(kube, live) == "one"
    # Expired, it is not brought back until someone pushes to it again.
    assert follow_remote(kube, project, url, now=now, timeout=60) == []

    second = remote.push_branch("feature/live", "two")
    remote.push_branch("main", "main moves")
    events = follow_remote(kube, project, url, now=now, timeout=60)
    assert [(e.step, e.branch, e.revision) for e in events] == [
        (Step.UPDATE, "feature/live", second)
    ]
    assert _greeting(kube, live) == "two"

    remote.delete_branch("feature/live")
    events = follow_remote(kube, project, url, now=now, timeout=120)
    assert [(e.step, e.branch) for e in events] == [(Step.DELETED, "feature/live")]
    assert _gone(kube, live)
    assert list_previews(kube, project) == []
