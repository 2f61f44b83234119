"""The controller follows a remote's branches with previews, against the real control plane:
a preview appears on a branch's push, follows the next push, and goes with the branch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.controllerkit import (
    Controller,
    create_delivery,
    running_controller,
    wait_until,
)
from tests.integration.test_previews import Remote, _gone, previews_remote

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def controller(
    local_cluster: ClusterInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Controller]:
    with running_controller(local_cluster, tmp_path_factory.mktemp("controller")) as running:
        yield running


@pytest.fixture
def remote(tmp_path: Path, namespace: str, kube: KubeClient) -> Iterator[Remote]:
    yield from previews_remote(tmp_path, namespace, kube)


def _greeting(kube: KubeClient, namespace: str) -> str | None:
    found = kube.list("v1", "ConfigMap", namespace).items
    return next((str(c["data"]["greeting"]) for c in found if c["metadata"]["name"] == "web"), None)


def _told(kube: KubeClient, namespace: str, reason: str) -> list[str]:
    events = kube.list("v1", "Event", namespace).items
    return [str(e.get("message", "")) for e in events if e.get("reason") == reason]


def test_the_controller_brings_previews_up_along_and_down(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str
) -> None:
    # The environment a Delivery delivers is its committed output.
    assert main(["render", "-C", str(remote.work), "--commit"]) == 0
    remote.git("push", "-q", "origin", "main")
    create_delivery(
        kube,
        namespace,
        "shop",
        repository={"url": str(remote.bare)},
        environment="dev",
        interval="2s",
    )
    wait_until("the environment is delivered", lambda: _greeting(kube, namespace) == "hello")
    project = remote.project()
    assert project.previews is not None
    preview = project.previews.namespace("feature/one")

    remote.push_branch("feature/one", "first")
    wait_until(
        "the preview is up",
        lambda: not _gone(kube, preview) and _greeting(kube, preview) == "first",
    )
    url = "https://feature-one.preview.example.com"
    wait_until(
        "its URL is told", lambda: any(url in m for m in _told(kube, namespace, "PreviewUp"))
    )

    remote.push_branch("feature/one", "second")
    wait_until("the preview follows the push", lambda: _greeting(kube, preview) == "second")

    remote.delete_branch("feature/one")
    wait_until("the preview is gone with its branch", lambda: _gone(kube, preview), seconds=120)
    wait_until("its end is told", lambda: _told(kube, namespace, "PreviewDown"))
    # The environment the previews copy is left as it was.
    assert _greeting(kube, namespace) == "hello"
