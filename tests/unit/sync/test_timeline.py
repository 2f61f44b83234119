"""An environment's history: git's commits joined with the syncs the cluster recorded."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from hakobu.cluster.errors import Unreachable
from hakobu.errors import InvalidInput
from hakobu.model.project import load_project
from hakobu.sync.ownership import ENVIRONMENT_LABEL, PROJECT_LABEL, RECORD_LABEL
from hakobu.sync.timeline import environment_history
from tests.fakes.kube import FakeKube
from tests.unit.releases.test_rollback import Shop


def record(kube: FakeKube, name: str, revision: str, result: str, **extra: Any) -> None:
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": "shop-dev",
                "labels": {RECORD_LABEL: "true", PROJECT_LABEL: "shop", ENVIRONMENT_LABEL: "dev"},
            },
            "data": {
                "result.json": json.dumps(
                    {"revision": revision, "result": result, "started": name[-6:], **extra}
                )
            },
        }
    )


def no_cluster() -> Any:
    raise InvalidInput("no kubeconfig")


def test_without_a_cluster_git_alone_is_given_with_why(tmp_path: Path) -> None:
    shop = Shop(tmp_path / "shop")
    shop.render_and_commit("web 1.27")
    shop.set_image("nginx:1.28")
    shop.render_and_commit("web 1.28")
    project = load_project(shop.root)
    past = environment_history(project, project.environment("dev"), limit=1, connect=no_cluster)
    assert [row.change.subject for row in past.commits] == ["web 1.28"]
    assert past.path == "generated/dev"
    assert past.cluster_note == "no cluster, git history only: no kubeconfig"
    assert not past.unreachable and past.running is None


def test_syncs_join_their_commits_and_the_rest_are_kept_apart(tmp_path: Path) -> None:
    shop = Shop(tmp_path / "shop")
    first = shop.render_and_commit("web 1.27")
    shop.set_image("nginx:1.28")
    second = shop.render_and_commit("web 1.28")
    kube = FakeKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop-dev"}})
    record(kube, "hakobu-sync-dev-000001", first, "Succeeded")
    record(kube, "hakobu-sync-dev-000002", "worktree", "Succeeded")
    record(
        kube,
        "hakobu-sync-dev-000003",
        second,
        "Failed",
        apps=[{"app": "web", "result": "Failed"}, {"app": "db", "result": "Succeeded"}],
    )
    project = load_project(shop.root)
    past = environment_history(
        project,
        project.environment("dev"),
        limit=10,
        connect=lambda: contextlib.nullcontext(kube),
    )
    assert [row.change.id for row in past.commits] == [second, first]
    newest, oldest = past.commits
    assert [(s.result, s.failed_apps) for s in newest.syncs] == [("Failed", ("web",))]
    assert [s.record for s in oldest.syncs] == ["hakobu-sync-dev-000001"]
    # The work tree's sync is the newest that succeeded: it runs, no listed commit does.
    assert past.running == "worktree" and not any(row.running for row in past.commits)
    assert [(o.revision, o.sync.record) for o in past.other_syncs] == [
        ("worktree", "hakobu-sync-dev-000002")
    ]
    assert past.last_sync_failed == "000003"
    assert past.cluster_note is None


class NoAnswer:
    def __enter__(self) -> Any:
        raise Unreachable("the API server did not answer")

    def __exit__(self, *_: object) -> None:
        return None


def test_an_unreachable_cluster_is_noted_and_flagged(tmp_path: Path) -> None:
    shop = Shop(tmp_path / "shop")
    shop.render_and_commit("web 1.27")
    project = load_project(shop.root)
    past = environment_history(project, project.environment("dev"), limit=5, connect=NoAnswer)
    assert past.unreachable
    assert past.cluster_note == (
        "cluster not reachable, git history only: the API server did not answer"
    )
    assert [row.syncs for row in past.commits] == [()]
