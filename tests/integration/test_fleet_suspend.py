"""A fleet's suspend and maintenance switches on the real control plane: a suspended
instance keeps its objects exactly as they were (same resourceVersion) through syncs that
change the others, even with prune after its objects left git, and is reported Suspended;
resuming it and syncing applies git's state again. An instance in maintenance runs with the
fleet's maintenance values (replicas 0)."""

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
{% if values.service %}
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
{% endif %}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ app }}
spec:
  replicas: {{ values.replicas }}
  selector:
    matchLabels: {shop: {{ instance }}}
  template:
    metadata:
      labels: {shop: {{ instance }}}
    spec:
      containers:
      - name: shop
        image: {{ values.image }}
"""

FLEET = """\
tiers: [canary, stable]
values:
  host: ''
  service: true
  replicas: 2
  image: nginx:1.27
maintenance:
  values:
    replicas: 0
"""


@pytest.fixture
def repo(tmp_path: Path, namespace: str) -> Repo:
    repo = Repo(tmp_path / "project", namespace)
    fleet = repo.root / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "fleet.yaml").write_text(FLEET)
    (fleet / "template" / "shop.yaml.j2").write_text(TEMPLATE)
    return repo


def hakobu(repo: Repo, *words: str) -> int:
    return main([*words[:1], "-C", str(repo.root), *words[1:]])


def test_a_suspended_instance_is_left_alone_until_resumed(
    kube: KubeClient,
    repo: Repo,
    namespace: str,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for shop in ("berlin", "rome"):
        assert hakobu(repo, "fleet", "add", "shops", shop, "stable", f"host={shop}.test") == 0
    assert hakobu(repo, "render") == 0
    repo.commit("two shops")
    sync = ["sync", "dev", "--kubeconfig", local_cluster.kubeconfig, "--prune"]
    assert hakobu(repo, *sync) == 0
    before = {
        kind: live(kube, namespace, kind, "shops-berlin")["metadata"]["resourceVersion"]
        for kind in ("ConfigMap", "Service", "Deployment")
    }

    assert hakobu(repo, "fleet", "suspend", "shops", "berlin") == 0
    for shop in ("berlin", "rome"):
        assert hakobu(repo, "fleet", "set", "shops", shop, "host=new.test", "service=false") == 0
    assert hakobu(repo, "render") == 0
    repo.commit("berlin suspended; both change, their Services leave git")
    capsys.readouterr()
    assert hakobu(repo, *sync, "-o", "json") == 0
    apps = {a["app"]: a for a in json.loads(capsys.readouterr().out)["apps"]}
    assert apps["shops-berlin"]["result"] == "Suspended"
    assert (apps["shops-berlin"]["pruned"], apps["shops-rome"]["pruned"]) == (0, 1)
    assert live(kube, namespace, "ConfigMap", "shops-rome")["data"] == {"host": "new.test"}
    with pytest.raises(NotFound):
        wait_deleted(kube, namespace, "Service", "shops-rome")
    for kind, version in before.items():
        berlin = live(kube, namespace, kind, "shops-berlin")["metadata"]
        assert berlin["resourceVersion"] == version, f"{kind} shops-berlin was touched"

    status = ["status", "dev", "--kubeconfig", local_cluster.kubeconfig, "-o", "json"]
    assert hakobu(repo, *status) == 0
    out = json.loads(capsys.readouterr().out)
    by_app = {a["app"]: a for a in (out["apps"] if isinstance(out, dict) else out)}
    assert (by_app["shops-berlin"]["sync"], by_app["shops-rome"]["sync"]) == (
        "Suspended",
        "Synced",
    )

    assert hakobu(repo, "fleet", "resume", "shops", "berlin") == 0
    assert hakobu(repo, "render") == 0
    repo.commit("berlin resumed")
    assert hakobu(repo, *sync) == 0
    assert live(kube, namespace, "ConfigMap", "shops-berlin")["data"] == {"host": "new.test"}
    with pytest.raises(NotFound):
        wait_deleted(kube, namespace, "Service", "shops-berlin")


def test_maintenance_applies_the_fleets_maintenance_values(
    kube: KubeClient, repo: Repo, namespace: str, local_cluster: ClusterInfo
) -> None:
    assert hakobu(repo, "fleet", "add", "shops", "oslo", "canary", "host=oslo.test") == 0
    assert hakobu(repo, "render") == 0
    repo.commit("oslo")
    sync = ["sync", "dev", "--kubeconfig", local_cluster.kubeconfig]
    assert hakobu(repo, *sync) == 0
    assert live(kube, namespace, "Deployment", "shops-oslo")["spec"]["replicas"] == 2

    assert hakobu(repo, "fleet", "maintenance", "shops", "oslo", "on") == 0
    assert hakobu(repo, "render") == 0
    repo.commit("oslo in maintenance")
    assert hakobu(repo, *sync) == 0
    assert live(kube, namespace, "Deployment", "shops-oslo")["spec"]["replicas"] == 0
