"""What an automatic rollback removes, and how its result counts it (pure parts)."""

from __future__ import annotations

from hakobu.agent.restore import Removed, added, with_removed
from hakobu.model.objects import ObjectId
from hakobu.sync import DesiredState
from hakobu.sync.manifests import AppManifests, Manifest
from hakobu.sync.run import AppResult, Outcome, SyncResult


def obj(kind: str, name: str) -> Manifest:
    api = {"Deployment": "apps/v1", "HorizontalPodAutoscaler": "autoscaling/v2"}.get(kind, "v1")
    return Manifest(
        {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "ns"}}, "f"
    )


def state(revision: str, **apps: list[Manifest]) -> DesiredState:
    return DesiredState(
        "dev", revision, tuple(AppManifests(a, tuple(m)) for a, m in sorted(apps.items()))
    )


def test_added_is_what_the_bad_revision_holds_and_the_restored_one_does_not() -> None:
    good = state("g", web=[obj("Deployment", "web")], api=[obj("ConfigMap", "api")])
    bad = state(
        "b",
        web=[obj("Deployment", "web"), obj("HorizontalPodAutoscaler", "web")],
        worker=[obj("Deployment", "worker")],
    )
    assert added(bad, good) == {
        ObjectId("autoscaling", "HorizontalPodAutoscaler", "ns", "web"),
        ObjectId("apps", "Deployment", "ns", "worker"),
    }
    assert added(good, good) == frozenset()


def app(name: str, pruned: int = 0) -> AppResult:
    return AppResult(name, Outcome.SUCCEEDED, 0, 1, 2, pruned, 0, ())


def result(*apps: AppResult) -> SyncResult:
    return SyncResult(
        "shop", "dev", "r", "t", False, Outcome.SUCCEEDED, 1, sum(a.pruned for a in apps), 2, apps
    )


def test_the_result_counts_what_was_removed_and_fails_where_a_delete_failed() -> None:
    before = result(app("web", pruned=1), app("api"))
    after = with_removed(
        before,
        {
            "web": Removed(("HorizontalPodAutoscaler/ns/web",), ()),
            "api": Removed((), ("ConfigMap/ns/x: delete failed: forbidden",)),
        },
    )
    web, api = after.apps
    assert (web.pruned, web.result) == (2, Outcome.SUCCEEDED)
    assert web.messages == (
        "pruned HorizontalPodAutoscaler/ns/web: the rolled-back revision added it",
    )
    assert (api.pruned, api.result, api.messages) == (
        0,
        Outcome.FAILED,
        ("ConfigMap/ns/x: delete failed: forbidden",),
    )
    assert (after.pruned, after.result) == (2, Outcome.FAILED)
    assert with_removed(before, {}) is before
