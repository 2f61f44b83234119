"""``hakobu secret keys``: sealing keys as Secrets in the cluster, backups and restores."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.localcluster.controlplane import ClusterInfo

pytestmark = pytest.mark.cluster


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        code = main(["secret", *argv])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def keys(self, namespace: str) -> list[dict[str, object]]:
        code, out, err = self("keys", "list", "-n", namespace, "-o", "json")
        assert code == 0, err
        listed: list[dict[str, object]] = json.loads(out)
        return listed


@pytest.fixture
def cli(
    local_cluster: ClusterInfo,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    monkeypatch.setenv("KUBECONFIG", local_cluster.kubeconfig)
    return Cli(capsys)


def test_create_list_cert_backup_restore(
    cli: Cli, kube: KubeClient, namespace: str, tmp_path: Path
) -> None:
    assert cli.keys(namespace) == []
    for _ in range(2):
        code, out, err = cli("keys", "create", "-n", namespace, "--key-size", "2048")
        assert code == 0, err
    listed = cli.keys(namespace)
    assert [k["seals"] for k in listed] == [True, False]
    assert all(str(k["name"]).startswith("sealed-secrets-key") for k in listed)
    stored = kube.get("v1", "Secret", str(listed[0]["name"]), namespace)
    assert stored["type"] == "kubernetes.io/tls"
    assert stored["metadata"]["labels"] == {
        "sealedsecrets.bitnami.com/sealed-secrets-key": "active"
    }

    # Seal with the exported certificate; open with the backup.
    code, certificate, _ = cli("keys", "cert", "-n", namespace)
    assert code == 0
    (tmp_path / "cert.pem").write_text(certificate)
    backup = tmp_path / "backup.yaml"
    code, _, err = cli("keys", "backup", "-n", namespace, str(backup))
    assert code == 0, err
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    document = yaml.safe_load(backup.read_text())
    assert document["kind"] == "List"
    assert [item["metadata"]["name"] for item in document["items"]] == [
        k["name"] for k in reversed(listed)
    ]
    sealed = tmp_path / "sealed.yaml"
    code, _, err = cli(
        "seal", "--name", "db", "--namespace", "prod", "--from-literal", "pw=x",
        "--cert", str(tmp_path / "cert.pem"), "-w", str(sealed),
    )  # fmt: skip
    assert code == 0, err
    code, out, err = cli("unseal", "-f", str(sealed), "--key", str(backup))
    assert code == 0, err
    assert yaml.safe_load(out)["data"] == {"pw": "eA=="}

    # A newer key makes the backup stale.
    # The newest key is minutes old: a scheduled rotation has nothing to do.
    code, out, _ = cli("keys", "rotate", "-n", namespace, "--key-size", "2048")
    assert code == 0
    assert "not renewed" in out
    assert len(cli.keys(namespace)) == 2
    code, _, err = cli(
        "keys", "rotate", "-n", namespace, "--force", "--key-size", "2048",
        "--check-backup", str(backup),
    )  # fmt: skip
    assert code == 0
    assert "predates the newest key" in err
    code, _, err = cli("keys", "list", "-n", namespace, "--check-backup", str(backup))
    assert "predates the newest key" in err


def test_restore_keeps_names_and_skips_what_is_there(
    cli: Cli, namespace: str, tmp_path: Path, kube: KubeClient
) -> None:
    for _ in range(2):
        assert cli("keys", "create", "-n", namespace, "--key-size", "2048")[0] == 0
    backup = tmp_path / "backup.yaml"
    assert cli("keys", "backup", "-n", namespace, str(backup))[0] == 0
    original = cli.keys(namespace)

    target = f"{namespace[:50]}-restore"
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}})
    try:
        code, out, err = cli("keys", "restore", str(backup), "-n", target)
        assert code == 0, err
        assert out.count("restored Secret/") == 2
        assert "predates" not in err
        restored = cli.keys(target)
        assert [(k["name"], k["fingerprint"]) for k in restored] == [
            (k["name"], k["fingerprint"]) for k in original
        ]
        code, out, _ = cli("keys", "restore", str(backup), "-n", target)
        assert code == 0
        assert "already present" in out

        # The target got a newer key since: restoring the old backup warns.
        assert cli("keys", "create", "-n", target, "--key-size", "2048")[0] == 0
        code, _, err = cli("keys", "restore", str(backup), "-n", target)
        assert code == 0
        assert "predates the newest key" in err
    finally:
        kube.delete("v1", "Namespace", target, propagation="Background")


def test_empty_namespace_says_what_to_do(cli: Cli, namespace: str) -> None:
    code, _, err = cli("keys", "cert", "-n", namespace)
    assert code == 1
    assert "holds no sealing key" in err
    assert "hakobu secret keys create" in err


def test_keys_in_a_namespace_that_does_not_exist_are_refused_clearly(
    cli: Cli, namespace: str, tmp_path: Path
) -> None:
    missing = f"{namespace}-missing"
    code, _, err = cli("keys", "create", "-n", missing, "--key-size", "2048")
    assert code == 2
    assert f"namespace {missing} does not exist" in err
    assert f"kubectl create namespace {missing}" in err
