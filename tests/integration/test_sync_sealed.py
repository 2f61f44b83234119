"""``sealedSecrets: hakobu``: a sync opens SealedSecrets itself, against the real control plane.

The sealing key lives in the cluster (a key Secret in the test's namespace, passed as the
keys namespace); no Sealed Secrets controller runs (in controller mode the test stands in
for it), and in hakobu mode not even its CRD is needed.
"""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.health import HealthRules, HealthStatus, assess
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.secrets.keystore import KeyStore, SealingKey, new_key
from hakobu.secrets.sealedsecret import seal_secret
from tests.integration.test_secrets_controller import eventually, install_crd
from tests.integration.test_sync import Repo, cli, configmap, live, run_sync, wait_deleted

pytestmark = pytest.mark.cluster


def use_mode(repo: Repo, mode: str, keys_namespace: str | None = None) -> None:
    env = {"namespace": repo.namespace, "sealedSecrets": mode}
    if keys_namespace is not None:
        env["keysNamespace"] = keys_namespace
    (repo.root / "hakobu.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "hakobu.dev/v1alpha1",
                "kind": "Project",
                "name": "shop",
                "environments": {"dev": env},
            }
        )
    )


@pytest.fixture
def repo(tmp_path: Path, namespace: str) -> Repo:
    created = Repo(tmp_path / "project", namespace)
    use_mode(created, "hakobu")
    return created


@pytest.fixture
def key(kube: KubeClient, namespace: str) -> SealingKey:
    return KeyStore(kube, namespace).add(new_key(key_size=2048))


def sealed(key: SealingKey, namespace: str, name: str, **items: str) -> dict[str, Any]:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": {"tier": "db"}},
        "stringData": items,
    }
    return seal_secret(secret, key.certificate_pem)


def reading(name: str, secret: str) -> dict[str, Any]:
    """A Deployment whose container takes a value from the Secret."""
    env = [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": "api:1", "env": env}]},
            },
        },
    }


def _exists(kube: KubeClient, namespace: str, name: str) -> bool:
    try:
        kube.get("bitnami.com/v1alpha1", "SealedSecret", name, namespace)
    except NotFound:
        return False
    return True


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_hakobu_opens_updates_and_prunes_the_secret(
    kube: KubeClient,
    *,
    repo: Repo,
    namespace: str,
    key: SealingKey,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.put("api", sealed(key, namespace, "db", password="first-pw", user="svc-user"))
    repo.put("api", reading("api", "db"))
    repo.commit("api with its database password")

    assert cli(local_cluster, repo, "sync", "--keys-namespace", namespace) == 0
    capsys.readouterr()

    secret = live(kube, namespace, "Secret", "db")
    assert secret["data"] == {"password": b64("first-pw"), "user": b64("svc-user")}
    assert secret["metadata"]["labels"]["hakobu.dev/app"] == "api"
    assert secret["metadata"]["labels"]["tier"] == "db"
    assert "ownerReferences" not in secret["metadata"]
    assert (
        assess(live(kube, namespace, "Deployment", "api"), HealthRules()).status
        is HealthStatus.HEALTHY
    )
    inventory = kube.get("v1", "ConfigMap", "hakobu-inventory-api", namespace)
    assert '"kind": "Secret"' in inventory["data"]["objects"]
    assert "SealedSecret" not in inventory["data"]["objects"]
    assert "first-pw" not in str(inventory) and b64("first-pw") not in str(inventory)
    assert cli(local_cluster, repo, "diff", "--keys-namespace", namespace) == 0
    assert cli(local_cluster, repo, "status", "--keys-namespace", namespace) == 0
    assert "api: Synced, Healthy" in capsys.readouterr().out

    repo.put("api", sealed(key, namespace, "db", password="second-pw", user="svc-user"))
    repo.commit("new password")

    assert cli(local_cluster, repo, "diff", "--keys-namespace", namespace) == 1
    shown = capsys.readouterr().out
    assert "update Secret/" in shown
    assert "password: (hidden, before)" in shown and "password: (hidden, changed)" in shown
    for value in ("first-pw", "second-pw", "svc-user"):
        assert value not in shown and b64(value) not in shown
    assert cli(local_cluster, repo, "status", "--keys-namespace", namespace) == 1
    assert "api: OutOfSync" in capsys.readouterr().out

    assert cli(local_cluster, repo, "sync", "--keys-namespace", namespace) == 0
    assert live(kube, namespace, "Secret", "db")["data"]["password"] == b64("second-pw")

    repo.remove("api", "SealedSecret", "db")
    rev = repo.commit("no more password")
    result = run_sync(kube, repo, rev, prune=True, keys_namespace=namespace)

    assert result.succeeded, result
    assert result.pruned == 1
    with pytest.raises(NotFound):
        wait_deleted(kube, namespace, "Secret", "db")


def test_a_secret_hakobu_does_not_own_is_left_alone_unless_marked_managed(
    kube: KubeClient,
    *,
    repo: Repo,
    namespace: str,
    key: SealingKey,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db", "namespace": namespace},
            "data": {"password": b64("theirs")},
        }
    )
    repo.put("api", sealed(key, namespace, "db", password="ours"))
    repo.put("api", configmap("api-settings", mode="fast"))
    repo.commit("a Secret someone else already made")

    assert cli(local_cluster, repo, "sync", "--keys-namespace", namespace) == 1
    out = capsys.readouterr().out
    assert f"Secret/{namespace}/db already exists" in out
    assert "left alone" in out and "sealedsecrets.bitnami.com/managed" in out
    theirs = live(kube, namespace, "Secret", "db")
    assert theirs["data"] == {"password": b64("theirs")}
    assert "hakobu.dev/app" not in (theirs["metadata"].get("labels") or {})
    # Nothing of the app was applied.
    with pytest.raises(NotFound):
        live(kube, namespace, "ConfigMap", "api-settings")
    assert cli(local_cluster, repo, "diff", "--keys-namespace", namespace) == 1
    assert "rejected" in capsys.readouterr().out

    kube.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}/secrets/db",
        params={"fieldManager": "other-team"},
        body={"metadata": {"annotations": {"sealedsecrets.bitnami.com/managed": "true"}}},
        content_type="application/merge-patch+json",
    )

    assert cli(local_cluster, repo, "sync", "--keys-namespace", namespace) == 0
    ours = live(kube, namespace, "Secret", "db")
    assert ours["data"] == {"password": b64("ours")}
    assert ours["metadata"]["labels"]["hakobu.dev/app"] == "api"
    live(kube, namespace, "ConfigMap", "api-settings")


def test_a_sealed_secret_no_key_opens_fails_its_app_only(
    kube: KubeClient, repo: Repo, namespace: str, key: SealingKey
) -> None:
    stranger = new_key(key_size=2048)
    repo.put("api", sealed(stranger, namespace, "db", password="x"))
    repo.put("api", configmap("api-settings", mode="fast"))
    repo.put("web", configmap("web-settings", mode="slow"))
    rev = repo.commit("sealed with a key the cluster does not have")

    result = run_sync(kube, repo, rev, keys_namespace=namespace)

    assert not result.succeeded
    api, web = result.apps
    assert (api.app, api.result, web.result) == ("api", "Failed", "Succeeded")
    (message,) = api.messages
    assert f"SealedSecret/{namespace}/db" in message
    assert f"'{namespace}/db'" in message
    assert f"sealing keys of namespace {namespace}" in message
    for absent in (("ConfigMap", "api-settings"), ("Secret", "db")):
        with pytest.raises(NotFound):
            live(kube, namespace, *absent)
    with pytest.raises(NotFound):
        kube.get("v1", "ConfigMap", "hakobu-inventory-api", namespace)
    live(kube, namespace, "ConfigMap", "web-settings")

    elsewhere = run_sync(kube, repo, rev, keys_namespace=f"{namespace}-none", only_app="api")
    (message,) = elsewhere.apps[0].messages
    assert f"cannot open SealedSecret/{namespace}/db: no key in namespace {namespace}-none" in (
        message
    )


def test_the_environment_names_where_its_keys_are(
    kube: KubeClient,
    *,
    repo: Repo,
    namespace: str,
    key: SealingKey,
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo.put("api", sealed(key, namespace, "db", password="pw"))
    repo.commit("api with a password")
    # Without a keys namespace nothing opens it: the status says so, not "Drifted".
    assert cli(local_cluster, repo, "sync") == 1
    capsys.readouterr()
    assert cli(local_cluster, repo, "status") == 1
    shown = capsys.readouterr().out
    assert "api: Unknown" in shown
    assert f"cannot open SealedSecret/{namespace}/db: no key in namespace kube-system" in shown
    assert "set keysNamespace for the environment in hakobu.yaml" in shown

    use_mode(repo, "hakobu", keys_namespace=namespace)
    repo.commit("the keys are in the environment's namespace")
    for command in ("sync", "status", "diff"):
        assert cli(local_cluster, repo, command) == 0, capsys.readouterr().out
    assert live(kube, namespace, "Secret", "db")["data"]["password"] == b64("pw")


def test_controller_mode_applies_the_sealed_secret_as_it_is(
    kube: KubeClient, repo: Repo, namespace: str, key: SealingKey, local_cluster: ClusterInfo
) -> None:
    install_crd(kube)
    use_mode(repo, "controller")
    repo.put("api", sealed(key, namespace, "db", password="x"))
    repo.commit("left to the controller")

    def controller() -> None:
        # A sync waits until the controller reports the SealedSecret Synced (as Argo CD's
        # health check for it does); none runs here, so this stands in for it.
        eventually("the SealedSecret applied", lambda: _exists(kube, namespace, "db"))
        path = kube.resource("bitnami.com/v1alpha1", "SealedSecret").object_path("db", namespace)
        synced = {"type": "Synced", "status": "True", "message": "unsealed by the test"}
        kube.request(
            "PATCH",
            f"{path}/status",
            body={"status": {"conditions": [synced]}},
            content_type="application/merge-patch+json",
        )

    with ThreadPoolExecutor(max_workers=1) as pool:
        standing_in = pool.submit(controller)
        # The command line's client waits out the moments a new kind's storage is starting.
        assert cli(local_cluster, repo, "sync", "--keys-namespace", namespace) == 0
        standing_in.result()

    applied = kube.get("bitnami.com/v1alpha1", "SealedSecret", "db", namespace)
    assert applied["metadata"]["labels"]["hakobu.dev/app"] == "api"
    assert set(applied["spec"]["encryptedData"]) == {"password"}
    with pytest.raises(NotFound):
        live(kube, namespace, "Secret", "db")
