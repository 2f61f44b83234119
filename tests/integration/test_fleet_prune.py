"""A fleet on the real control plane: each instance is an app of its own, so removing one
instance and syncing with prune deletes exactly its objects and leaves the others as they
were (same UID, same resourceVersion); ``hakobu fleet status`` sums up each tier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.test_sync import Repo, live, wait_deleted

pytestmark = pytest.mark.cluster

TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ app }}
data:
  host: {{ values.host }}
  tier: {{ tier }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ app }}
spec:
  selector: {shop: {{ instance }}}
  ports:
  - port: 80
    targetPort: 8080
"""

SHOPS = ("berlin", "paris", "rome")


@pytest.fixture
def repo(tmp_path: Path, namespace: str) -> Repo:
    repo = Repo(tmp_path / "project", namespace)
    fleet = repo.root / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "fleet.yaml").write_text("tiers: [canary, stable]\nvalues:\n  host: ''\n")
    (fleet / "template" / "shop.yaml.j2").write_text(TEMPLATE)
    return repo


def hakobu(repo: Repo, *words: str) -> int:
    return main([*words[:1], "-C", str(repo.root), *words[1:]])


def test_removing_an_instance_prunes_exactly_its_objects(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for shop in SHOPS:
        tier = "canary" if shop == "berlin" else "stable"
        assert hakobu(repo, "fleet", "add", "shops", shop, tier, f"host={shop}.example.com") == 0
    assert hakobu(repo, "render") == 0
    repo.commit("three shops")
    sync = ["sync", "dev", "--kubeconfig", local_cluster.kubeconfig]
    assert hakobu(repo, *sync) == 0
    capsys.readouterr()
    status = ["fleet", "status", "shops", "dev", "--kubeconfig", local_cluster.kubeconfig]
    assert hakobu(repo, *status, "-o", "json") == 0
    tiers = json.loads(capsys.readouterr().out)["tiers"]
    assert [(t["tier"], t["instances"], t["good"]) for t in tiers] == [
        ("canary", 1, 1),
        ("stable", 2, 2),
    ]

    before = {
        (kind, shop): live(kube, namespace, kind, f"shops-{shop}")["metadata"]
        for kind in ("ConfigMap", "Service")
        for shop in SHOPS
    }
    assert live(kube, namespace, "ConfigMap", "shops-paris")["data"] == {
        "host": "paris.example.com",
        "tier": "stable",
    }

    assert hakobu(repo, "fleet", "remove", "shops", "paris") == 0
    assert hakobu(repo, "render") == 0
    assert not (repo.root / "generated" / "dev" / "shops-paris").exists()
    repo.commit("paris closed")
    assert hakobu(repo, *sync, "--prune") == 0

    for kind in ("ConfigMap", "Service"):
        with pytest.raises(NotFound):
            wait_deleted(kube, namespace, kind, "shops-paris")
        for shop in ("berlin", "rome"):
            after = live(kube, namespace, kind, f"shops-{shop}")["metadata"]
            was = before[kind, shop]
            assert (after["uid"], after["resourceVersion"]) == (
                was["uid"],
                was["resourceVersion"],
            ), f"{kind} shops-{shop} was touched"
    assert hakobu(repo, *status) == 0
    # Both tiers render template/, and the version is its tree's id (short).
    tree = repo.git("rev-parse", "HEAD:apps/shops/template")[:12]
    assert capsys.readouterr().out.endswith(
        f"canary (template {tree}): 1/1 Synced and Healthy (1 Healthy)\n"
        f"stable (template {tree}): 1/1 Synced and Healthy (1 Healthy)\n"
    )
