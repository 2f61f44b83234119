"""``hakobu sync`` inside a closed sync window, against the real control plane."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.sync import history
from tests.integration.test_sync import Repo, cli, configmap

pytestmark = pytest.mark.cluster


@pytest.fixture
def project(tmp_path: Path, namespace: str) -> Repo:
    return Repo(tmp_path / "project", namespace)


def deny_now(root: Path, *, manual: bool = False) -> None:
    """A daily deny window in Europe/Berlin that opened five minutes ago, for an hour."""
    opened = datetime.now(UTC).astimezone(ZoneInfo("Europe/Berlin")) - timedelta(minutes=5)
    project = yaml.safe_load((root / "hakobu.yaml").read_text())
    project["environments"]["dev"]["syncWindows"] = [
        {
            "kind": "deny",
            "schedule": f"{opened.minute} {opened.hour} * * *",
            "duration": "1h",
            "timeZone": "Europe/Berlin",
            "manualSync": manual,
        }
    ]
    (root / "hakobu.yaml").write_text(yaml.safe_dump(project))


def test_a_sync_in_a_deny_window_is_refused_until_overridden_and_the_record_says_who(
    kube: KubeClient,
    project: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = project
    deny_now(repo.root)
    repo.put("web", configmap("web-settings", mode="fast"))
    repo.commit("web, and a deny window")
    capsys.readouterr()

    assert cli(local_cluster, repo, "sync") == 1
    refused = capsys.readouterr().out
    assert refused.startswith("error: sync of dev refused: deny window syncWindows[0] ('")
    assert "for 1h, Europe/Berlin) is open from" in refused
    assert "syncs run again at" in refused
    assert "hakobu sync dev --override-window" in refused
    with pytest.raises(NotFound):
        kube.get("v1", "ConfigMap", "web-settings", namespace)

    assert cli(local_cluster, repo, "sync", "--override-window", " ") == 2
    assert "--override-window needs a reason" in capsys.readouterr().out
    assert cli(local_cluster, repo, "status", "-o", "json") == 1
    status = json.loads(capsys.readouterr().out)
    assert status["syncWindows"]["state"] == "closed"
    assert status["syncWindows"]["closing"] == ["syncWindows[0]"]
    assert status["syncWindows"]["manualSync"] is False
    assert [app["app"] for app in status["apps"]] == ["web"]

    assert cli(local_cluster, repo, "sync", "--override-window", "the checkout is down") == 0
    assert kube.get("v1", "ConfigMap", "web-settings", namespace)["data"] == {"mode": "fast"}
    (record,) = history(kube, namespace, "shop", "dev")
    override = record["window_override"]
    assert (override["by"], override["reason"]) == (getpass.getuser(), "the checkout is down")
    assert override["windows"].startswith("deny window syncWindows[0]")
    capsys.readouterr()
    assert cli(local_cluster, repo, "history") == 0
    shown = capsys.readouterr().out
    assert f"sync window overridden by {getpass.getuser()}: the checkout is down" in shown

    # A window that lets manual syncs through needs no override; automatic ones still wait.
    deny_now(repo.root, manual=True)
    repo.put("web", configmap("web-settings", mode="slow"))
    repo.commit("slower, in a window open to manual syncs")
    assert cli(local_cluster, repo, "status") == 1
    assert "manual syncs allowed (manualSync)" in capsys.readouterr().out
    assert cli(local_cluster, repo, "sync") == 0
    assert kube.get("v1", "ConfigMap", "web-settings", namespace)["data"] == {"mode": "slow"}
