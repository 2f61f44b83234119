"""Key Secrets and backups: the controller's format, order and staleness rules."""

from __future__ import annotations

import base64
import datetime
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hakobu.errors import InvalidInput
from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.toolchain import SEALED_SECRETS
from hakobu.secrets.keys import load_private_keys
from hakobu.secrets.keystore import (
    KEY_LABEL,
    SealingKey,
    backup_list,
    backup_predates,
    key_secret,
    new_key,
    newest_backup,
    newest_first,
    parse_key_secret,
    read_backup,
    rotation_due,
)
from hakobu.secrets.sealedsecret import seal_secret

DAY = datetime.timedelta(days=1)
START = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


def stored(key: SealingKey, name: str) -> SealingKey:
    return parse_key_secret(key_secret(key, "kube-system", name=name, prefix="p"), name)


@pytest.fixture(scope="module")
def keys() -> list[SealingKey]:
    return [
        stored(new_key("k", key_size=2048, now=START + i * DAY), f"sealed-secrets-key{i}")
        for i in range(3)
    ]


def test_newest_first_is_the_certificates_order(keys: list[SealingKey]) -> None:
    assert [k.name for k in newest_first(keys)] == [
        "sealed-secrets-key2",
        "sealed-secrets-key1",
        "sealed-secrets-key0",
    ]


def test_a_new_key_secret_is_named_by_the_api_server() -> None:
    key = new_key(key_size=2048)
    secret = key_secret(key, "ns", name=None, prefix="sealed-secrets-key")
    assert secret["metadata"] == {
        "namespace": "ns",
        "generateName": "sealed-secrets-key",
        "labels": {KEY_LABEL: "active"},
    }
    assert secret["type"] == "kubernetes.io/tls"
    assert base64.b64decode(secret["data"]["tls.key"]).startswith(b"-----BEGIN RSA PRIVATE KEY")


def test_backup_round_trip(keys: list[SealingKey], tmp_path: Path) -> None:
    path = tmp_path / "backup.yaml"
    path.write_text(yaml.safe_dump(backup_list(keys)))
    assert [k.fingerprint for k in read_backup(path)] == [k.fingerprint for k in newest_first(keys)]
    # The same file is a key file for unsealing.
    assert len(load_private_keys(path.read_bytes(), "backup")) == 3


def test_staleness(keys: list[SealingKey], tmp_path: Path) -> None:
    assert not backup_predates(keys, keys)
    assert backup_predates(keys[:2], keys)
    assert not backup_predates(keys[1:], keys[:2] + keys[2:])
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    assert newest_backup([(new, tuple(keys)), (old, tuple(keys[:1]))])[0] == new
    assert rotation_due([], DAY, START)
    assert rotation_due(keys, DAY, START + 4 * DAY)
    assert not rotation_due(keys, 30 * DAY, START + 4 * DAY)


def test_a_certificate_of_another_key_is_refused(keys: list[SealingKey]) -> None:
    secret = key_secret(keys[0], "ns", name="k", prefix="p")
    secret["data"]["tls.crt"] = base64.b64encode(keys[1].certificate_pem).decode()
    with pytest.raises(InvalidInput, match="certificate of another key"):
        parse_key_secret(secret, "k")


def test_kubeseal_recovers_with_a_hakobu_backup(keys: list[SealingKey], tmp_path: Path) -> None:
    kubeseal = ensure_tool(SEALED_SECRETS, lambda m: print(m, file=sys.stderr)).binary("kubeseal")
    backup = tmp_path / "backup.yaml"
    backup.write_text(yaml.safe_dump(backup_list(keys)))
    # Sealed with an older key than the newest: every key of the backup is tried.
    sealed = seal_secret(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db", "namespace": "prod"},
            "stringData": {"password": "hunter2"},
        },
        keys[0].certificate_pem,
    )
    result = subprocess.run(
        [str(kubeseal), "--recovery-unseal", "--recovery-private-key", str(backup), "-o", "yaml"],
        input=yaml.safe_dump(sealed).encode(),
        capture_output=True,
        env={"KUBECONFIG": str(tmp_path / "none"), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert yaml.safe_load(result.stdout)["data"] == {"password": "aHVudGVyMg=="}
