"""Byte compatibility with the real Sealed Secrets tools (kubeseal, built from source).

Values sealed by kubeseal open with hakobu, and SealedSecrets sealed by hakobu open with
kubeseal's own recovery path, which runs the controller's unsealing code without a cluster.
"""

from __future__ import annotations

import base64
import copy
import datetime
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hakobu.errors import InvalidInput
from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.toolchain import SEALED_SECRETS
from hakobu.model.objects import Object
from hakobu.secrets.crypto import CannotUnseal, decode_sealed_value, hybrid_decrypt
from hakobu.secrets.keys import generate_key_pair, load_private_keys
from hakobu.secrets.scope import (
    CLUSTER_WIDE_ANNOTATION,
    NAMESPACE_WIDE_ANNOTATION,
    Scope,
    encryption_label,
    with_scope,
)
from hakobu.secrets.sealedsecret import reseal_items, seal_secret, unseal

# Every byte value, invalid UTF-8 and a trailing newline: what a file item may hold.
BINARY = bytes(range(256)) + b"\xc3\x28 end\n"


@dataclass(frozen=True)
class Kubeseal:
    binary: Path
    workdir: Path

    def run(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        # A kubeconfig that does not exist: with --cert, kubeseal must never need a cluster.
        env = {"KUBECONFIG": str(self.workdir / "no-kubeconfig"), "PATH": "/usr/bin:/bin"}
        return subprocess.run(
            [str(self.binary), *args],
            input=stdin,
            capture_output=True,
            env=env,
            cwd=self.workdir,
            timeout=60,
            check=False,
        )

    def ok(self, *args: str, stdin: bytes = b"") -> bytes:
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, result.stderr.decode()
        return result.stdout


@dataclass(frozen=True)
class KeyFiles:
    key: Path
    cert: Path
    certificate_pem: bytes
    private: list[RSAPrivateKey]


@pytest.fixture(scope="session")
def kubeseal(tmp_path_factory: pytest.TempPathFactory) -> Kubeseal:
    built = ensure_tool(SEALED_SECRETS, lambda m: print(f"[sealed-secrets] {m}", file=sys.stderr))
    return Kubeseal(built.binary("kubeseal"), tmp_path_factory.mktemp("kubeseal"))


@pytest.fixture(scope="module")
def keys(kubeseal: Kubeseal) -> KeyFiles:
    # The controller's shape: RSA 4096 with a self-signed certificate.
    private_pem, certificate_pem = generate_key_pair("sealed-secrets-controller")
    (kubeseal.workdir / "key.pem").write_bytes(private_pem)
    (kubeseal.workdir / "cert.pem").write_bytes(certificate_pem)
    return KeyFiles(
        kubeseal.workdir / "key.pem",
        kubeseal.workdir / "cert.pem",
        certificate_pem,
        load_private_keys(private_pem, "key.pem"),
    )


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def a_secret() -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "prod",
            "labels": {"app": "db", "tier": "data"},
            "annotations": {"owner": "team-data"},
        },
        "type": "Opaque",
        "data": {"binary": b64(BINARY), "empty": ""},
        "stringData": {"password": "hunter2", "unicode": "pässwörd ✓"},
    }


EXPECTED = {
    "binary": BINARY,
    "empty": b"",
    "password": b"hunter2",
    "unicode": "pässwörd ✓".encode(),
}

SCOPES = list(Scope)


def decoded(secret: Object) -> dict[str, bytes]:
    return {key: base64.b64decode(value) for key, value in secret["data"].items()}


def recovery_unseal(
    kubeseal: Kubeseal, keys: KeyFiles, sealed: Object, key: Path | str | None = None
) -> Object:
    out = kubeseal.ok(
        "--recovery-unseal",
        "--recovery-private-key",
        str(key or keys.key),
        "-o",
        "yaml",
        stdin=yaml.safe_dump(sealed).encode(),
    )
    secret: Object = yaml.safe_load(out)
    # Go prints an empty item as null; the API server stores it as "" (as hakobu writes it).
    secret["data"] = {k: "" if v is None else v for k, v in secret["data"].items()}
    return secret


def kubeseal_sealed(kubeseal: Kubeseal, keys: KeyFiles, scope: Scope) -> Object:
    out = kubeseal.ok(
        "--cert", str(keys.cert), "-o", "yaml", "--scope", scope.value,
        stdin=yaml.safe_dump(a_secret()).encode(),
    )  # fmt: skip
    sealed: Object = yaml.safe_load(out)
    return sealed


@pytest.mark.parametrize("scope", SCOPES)
def test_raw_values_from_kubeseal_open_with_hakobu(
    kubeseal: Kubeseal, keys: KeyFiles, scope: Scope
) -> None:
    (kubeseal.workdir / "item").write_bytes(BINARY)
    args = ["--cert", str(keys.cert), "--raw", "--scope", scope.value, "--from-file=item"]
    if scope is not Scope.CLUSTER_WIDE:
        args += ["--namespace", "prod", "--name", "db"]
    value = kubeseal.ok(*args).decode()
    label = encryption_label("prod", "db", scope)
    assert hybrid_decrypt(keys.private, decode_sealed_value(value), label) == BINARY
    # Wrapped in a SealedSecret with the scope's annotation, it unseals as the controller would.
    sealed: Object = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "db", "namespace": "prod", "annotations": with_scope({}, scope)},
        "spec": {"template": {"metadata": {}}, "encryptedData": {"item": value}},
    }
    assert decoded(unseal(sealed, keys.private)) == {"item": BINARY}


@pytest.mark.parametrize("scope", SCOPES)
def test_sealed_secrets_from_kubeseal_open_with_hakobu_as_with_kubeseal(
    kubeseal: Kubeseal, keys: KeyFiles, scope: Scope
) -> None:
    sealed = kubeseal_sealed(kubeseal, keys, scope)
    ours = unseal(sealed, keys.private)
    assert decoded(ours) == EXPECTED
    theirs = recovery_unseal(kubeseal, keys, sealed)
    # kubeseal names the (not yet stored) SealedSecret as owner with an empty uid, which an
    # API server would reject; hakobu leaves the reference out until there is a uid.
    assert theirs["metadata"].pop("ownerReferences")[0]["uid"] == ""
    assert ours == theirs


@pytest.mark.parametrize("scope", SCOPES)
def test_sealed_secrets_from_hakobu_open_with_kubeseal(
    kubeseal: Kubeseal, keys: KeyFiles, scope: Scope
) -> None:
    sealed = seal_secret(a_secret(), keys.certificate_pem, scope)
    theirs = recovery_unseal(kubeseal, keys, sealed)
    assert decoded(theirs) == EXPECTED
    assert theirs["metadata"]["labels"] == {"app": "db", "tier": "data"}
    assert theirs["type"] == "Opaque"


@pytest.mark.parametrize("scope", SCOPES)
def test_the_same_layout_as_kubeseal(kubeseal: Kubeseal, keys: KeyFiles, scope: Scope) -> None:
    theirs = kubeseal_sealed(kubeseal, keys, scope)
    ours = seal_secret(a_secret(), keys.certificate_pem, scope)

    def masked(sealed: Object) -> Object:
        copied = copy.deepcopy(sealed)
        encrypted = copied["spec"]["encryptedData"]
        for key, value in encrypted.items():
            # The length header of a 4096-bit key's block, 0x0200, encodes as "Ag" + A..D.
            assert re.fullmatch(r"Ag[A-D][A-Za-z0-9+/]+=*", value)
            encrypted[key] = "…"
        return copied

    assert masked(ours) == masked(theirs)


def test_the_scope_is_taken_from_the_secrets_annotations_like_kubeseal(
    kubeseal: Kubeseal, keys: KeyFiles
) -> None:
    secret = a_secret()
    secret["metadata"]["annotations"][NAMESPACE_WIDE_ANNOTATION] = "true"
    theirs: Object = yaml.safe_load(
        kubeseal.ok("--cert", str(keys.cert), "-o", "yaml", stdin=yaml.safe_dump(secret).encode())
    )
    ours = seal_secret(secret, keys.certificate_pem)
    assert theirs["metadata"]["annotations"] == ours["metadata"]["annotations"]
    assert ours["metadata"]["annotations"] == {NAMESPACE_WIDE_ANNOTATION: "true"}
    assert decoded(unseal(theirs, keys.private)) == EXPECTED


MOVES: list[tuple[str, dict[str, Any]]] = [
    ("another namespace", {"namespace": "dev"}),
    ("another name", {"name": "cache"}),
    ("wider scope", {"annotations": {CLUSTER_WIDE_ANNOTATION: "true"}}),
    ("namespace-wide", {"annotations": {NAMESPACE_WIDE_ANNOTATION: "true"}}),
]


@pytest.mark.parametrize(("why", "move"), MOVES, ids=[why for why, _ in MOVES])
def test_moved_sealed_secrets_open_with_neither(
    kubeseal: Kubeseal, keys: KeyFiles, why: str, move: dict[str, Any]
) -> None:
    for sealed in (
        kubeseal_sealed(kubeseal, keys, Scope.STRICT),
        seal_secret(a_secret(), keys.certificate_pem, Scope.STRICT),
    ):
        sealed["metadata"].update(move)
        with pytest.raises(CannotUnseal):
            unseal(sealed, keys.private)
        refused = kubeseal.run(
            "--recovery-unseal",
            "--recovery-private-key",
            str(keys.key),
            stdin=yaml.safe_dump(sealed).encode(),
        )
        assert refused.returncode != 0, why
        assert b"no key could decrypt secret" in refused.stderr


def test_another_key_opens_with_neither(kubeseal: Kubeseal, keys: KeyFiles) -> None:
    other_pem, other_certificate = generate_key_pair("other", key_size=2048)
    sealed = seal_secret(a_secret(), other_certificate)
    with pytest.raises(CannotUnseal):
        unseal(sealed, keys.private)
    refused = kubeseal.run(
        "--recovery-unseal",
        "--recovery-private-key",
        str(keys.key),
        stdin=yaml.safe_dump(sealed).encode(),
    )
    assert refused.returncode != 0
    other = kubeseal.workdir / "other.pem"
    other.write_bytes(other_pem)
    both = recovery_unseal(kubeseal, keys, sealed, f"{keys.key},{other}")
    assert decoded(both) == EXPECTED


def test_resealing_one_item_of_a_kubeseal_secret(kubeseal: Kubeseal, keys: KeyFiles) -> None:
    sealed = kubeseal_sealed(kubeseal, keys, Scope.NAMESPACE_WIDE)
    updated = reseal_items(
        sealed, {"password": b"correct horse", "empty": None}, keys.cert.read_bytes()
    )
    before, after = sealed["spec"]["encryptedData"], updated["spec"]["encryptedData"]
    assert after["binary"] == before["binary"]
    assert after["unicode"] == before["unicode"]
    assert after["password"] != before["password"]
    assert "empty" not in after
    # The unchanged lines of the YAML are the same text: a reviewer's diff shows one item.
    old_lines = set(yaml.safe_dump(sealed).splitlines())
    new_lines = yaml.safe_dump(updated).splitlines()
    assert [line for line in new_lines if line not in old_lines] == [
        f"    password: {after['password']}"
    ]
    assert decoded(recovery_unseal(kubeseal, keys, updated)) == {
        "binary": BINARY,
        "password": b"correct horse",
        "unicode": "pässwörd ✓".encode(),
    }


def test_key_secret_backups_open_with_both(kubeseal: Kubeseal, keys: KeyFiles) -> None:
    backup = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/tls",
                "metadata": {"name": "sealed-secrets-keyabcde", "namespace": "kube-system"},
                "data": {
                    "tls.key": b64(keys.key.read_bytes()),
                    "tls.crt": b64(keys.certificate_pem),
                },
            }
        ],
    }
    path = kubeseal.workdir / "backup.yaml"
    path.write_text(yaml.safe_dump(backup))
    sealed = seal_secret(a_secret(), keys.certificate_pem)
    assert decoded(recovery_unseal(kubeseal, keys, sealed, path)) == EXPECTED
    assert decoded(unseal(sealed, load_private_keys(path.read_bytes(), str(path)))) == EXPECTED


def test_an_expired_certificate_is_refused_by_both(kubeseal: Kubeseal, keys: KeyFiles) -> None:
    long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    _, expired = generate_key_pair("old", 1, key_size=2048, now=long_ago)
    path = kubeseal.workdir / "expired.pem"
    path.write_bytes(expired)
    refused = kubeseal.run(
        "--cert", str(path), "-o", "yaml", stdin=yaml.safe_dump(a_secret()).encode()
    )
    assert refused.returncode != 0
    assert b"expired certificate" in refused.stderr
    with pytest.raises(InvalidInput, match="the certificate expired on January 2, 2020"):
        seal_secret(a_secret(), expired)
