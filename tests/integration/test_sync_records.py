"""Which syncs are recorded: every change, and every new revision even when it writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.sync.record import history, record_sync
from tests.integration.test_sync import Repo, cli, configmap, deployment, run_sync

pytestmark = pytest.mark.cluster


@pytest.fixture
def shop(tmp_path: Path, namespace: str) -> Repo:
    return Repo(tmp_path / "project", namespace)


def test_a_new_revision_is_recorded_even_when_nothing_changes(
    kube: KubeClient, shop: Repo, namespace: str
) -> None:
    shop.put("settings", configmap("settings", level="info"))
    first = shop.commit("settings")
    assert record_sync(kube, namespace, run_sync(kube, shop, first)) is not None

    # The same revision again, nothing to do: not history.
    assert record_sync(kube, namespace, run_sync(kube, shop, first)) is None

    # A new revision whose objects are what already runs (a rollback of a change that
    # never applied): nothing is written to the cluster, but it is now what runs.
    second = shop.commit("an empty change")
    again = run_sync(kube, shop, second)
    assert not again.changed
    assert record_sync(kube, namespace, again) is not None
    revisions = [entry["revision"] for entry in history(kube, namespace, "shop", "dev")]
    assert revisions == [first, second]


def test_history_marks_as_running_only_what_the_last_successful_sync_applied(
    kube: KubeClient,
    shop: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shop.put("settings", configmap("settings", level="info"))
    good = shop.commit("settings")
    assert cli(local_cluster, shop, "sync", "--rev", good) == 0
    rejected = deployment("worker", "worker:1")
    rejected["spec"]["replicas"] = -1
    shop.put("settings", rejected)
    bad = shop.commit("a Deployment the server refuses")
    assert cli(local_cluster, shop, "sync", "--rev", bad) == 1
    capsys.readouterr()

    assert cli(local_cluster, shop, "history", "-o", "json") == 0
    shown = json.loads(capsys.readouterr().out)
    rows = {row["id"]: row for row in shown["commits"]}
    assert rows[bad]["running"] is False and rows[bad]["health"] is None
    assert [s["result"] for s in rows[bad]["syncs"]] == ["Failed"]
    assert rows[bad]["syncs"][0]["failed_apps"] == ["settings"]
    assert rows[good]["running"] is True and rows[good]["health"] == "Healthy"
    assert shown["running"] == good
    assert shown["last_sync_failed"]

    assert cli(local_cluster, shop, "history") == 0
    text = capsys.readouterr().out
    bad_part = text[text.index(bad[:12]) : text.index(good[:12])]
    assert "running now" not in bad_part
    assert "Failed (failed: settings)" in bad_part
    assert "running now: Healthy" in text[text.index(good[:12]) :]
    assert "the last sync" in text and "failed" in text
