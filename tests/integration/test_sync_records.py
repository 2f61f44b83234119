"""Which syncs are recorded: every change, and every new revision even when it writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.sync.record import history, record_sync
from tests.integration.test_sync import Repo, configmap, run_sync

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
