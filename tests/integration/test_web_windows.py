"""The dashboard's syncs are manual syncs: a closed sync window refuses them unless the
request gives a reason to override it, which the sync record keeps with the user."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hakobu.cluster.client import KubeClient
from hakobu.model.project import load_project
from hakobu.sync import history
from hakobu.web.actions import REQUESTED_BY
from hakobu.web.local import LocalDashboard
from tests.browser.test_dashboard import Clone, clone, sync_env
from tests.integration.test_sync_windows import deny_now
from tests.integration.test_web_api import hand_edit

__all__ = ["clone"]

pytestmark = pytest.mark.cluster


@pytest.fixture
def closed(kube: KubeClient, clone: Clone) -> Iterator[httpx.Client]:
    """The dashboard of a project whose dev environment a deny window closes now."""
    sync_env(kube, clone.root, "dev")
    deny_now(clone.root)
    clone.commit("dev: a deny window")
    local = LocalDashboard(load_project(clone.root), kube, port=0, interval=0.2)
    local.start()
    headers = {"Authorization": f"Bearer {local.key}"}
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{local.port}", headers=headers, timeout=60
        ) as client:
            yield client
    finally:
        local.stop()


def records(kube: KubeClient, namespace: str, seconds: float = 60) -> list[dict[str, Any]]:
    """The sync records, once there are two (the first sync's and the dashboard's)."""
    deadline = time.monotonic() + seconds
    while True:
        found = history(kube, namespace, "shop", "dev")
        if len(found) >= 2 or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_dashboard_sync_in_a_closed_window_needs_a_reason(
    closed: httpx.Client, kube: KubeClient, namespace: str
) -> None:
    hand_edit(kube, namespace, "red")
    body = {"app": "web", "force_conflicts": True}
    preview = closed.post("/api/v1/environments/dev/sync/preview", json=body).json()
    refused = closed.post("/api/v1/environments/dev/sync", json={**body, "basis": preview["basis"]})
    assert refused.status_code == 409
    answer = refused.json()
    assert answer["error"] == "window-closed"
    assert answer["message"].startswith("sync of dev refused: deny window syncWindows[0]")
    assert "override_window" in answer["hint"]
    time.sleep(1)
    assert kube.get("v1", "ConfigMap", "web-settings", namespace)["data"] == {"colour": "red"}

    started = closed.post(
        "/api/v1/environments/dev/sync",
        json={**body, "basis": preview["basis"], "override_window": "red is wrong"},
    )
    assert started.status_code == 202, started.text
    last = records(kube, namespace)[-1]
    assert last["window_override"]["reason"] == "red is wrong"
    # Who asked is marked on the record just after it is written.
    deadline = time.monotonic() + 30
    marks: dict[str, str] = {}
    while REQUESTED_BY not in marks and time.monotonic() < deadline:
        record = kube.get("v1", "ConfigMap", last["record"], namespace)
        marks = record["metadata"].get("annotations") or {}
        time.sleep(0.2)
    assert last["window_override"]["by"] == marks[REQUESTED_BY]
    assert kube.get("v1", "ConfigMap", "web-settings", namespace)["data"] == {"colour": "blue"}
