"""Opening SealedSecrets for a sync, the ownership rule, and masked diffs (no cluster)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hakobu.model.objects import Object, ObjectId
from hakobu.secrets.keys import generate_key_pair, load_private_keys
from hakobu.secrets.scope import NAMESPACE_WIDE_ANNOTATION
from hakobu.secrets.sealedfor import sealed_for
from hakobu.secrets.sealedsecret import seal_secret
from hakobu.sync.diff import masked, unified
from hakobu.sync.manifests import Manifest
from hakobu.sync.ownership import Owner
from hakobu.sync.sealed import SealingKeys, foreign, open_all

SECRET_ID = ObjectId("", "Secret", "prod", "db")
OWNER = Owner("shop", "prod", "api")


class Keys:
    def __init__(self) -> None:
        private_pem, self.certificate = generate_key_pair("test", key_size=2048)
        self.private: list[RSAPrivateKey] = load_private_keys(private_pem, "key.pem")

    def store(self) -> SealingKeys:
        return SealingKeys("kube-system", tuple(self.private))


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


def sealed(keys: Keys, **annotations: str) -> Object:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "prod"},
        "stringData": {"password": "pw"},
    }
    obj = seal_secret(secret, keys.certificate)
    if annotations:
        obj["metadata"]["annotations"] = annotations
    return obj


def manifest(obj: Object, source: str = "generated/prod/api/sealedsecret-db.yaml") -> Manifest:
    return Manifest(obj, source)


def test_a_sealed_secret_opens_to_its_secret_with_hakobus_annotations(keys: Keys) -> None:
    other = manifest({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    wave = {"hakobu.dev/sync-wave": "-1"}

    opened = open_all([manifest(sealed(keys, **wave)), other], keys.store())

    assert opened.blocked == ()
    assert opened.secrets == {SECRET_ID}
    secret, kept = opened.manifests
    assert kept is other
    assert secret.id == SECRET_ID
    assert secret.source == "generated/prod/api/sealedsecret-db.yaml"
    assert secret.obj["data"] == {"password": base64.b64encode(b"pw").decode()}
    assert secret.obj["metadata"]["annotations"] == wave


def test_without_keys_every_sealed_secret_is_blocked_with_the_reason(keys: Keys) -> None:
    reason = "namespace kube-system holds no sealing key"

    opened = open_all([manifest(sealed(keys))], SealingKeys("kube-system", (), reason))

    (blocked,) = opened.blocked
    assert opened.manifests == ()
    assert (blocked.ref, blocked.id) == ("SealedSecret/prod/db", SECRET_ID)
    assert blocked.message.startswith(
        "generated/prod/api/sealedsecret-db.yaml: cannot open SealedSecret/"
    )
    assert reason in blocked.message


def test_another_key_or_scope_is_named_in_the_message(keys: Keys) -> None:
    stranger = Keys()
    (blocked,) = open_all([manifest(sealed(stranger))], keys.store()).blocked
    assert "label 'prod/db'" in blocked.message
    assert "tried the 1 sealing keys of namespace kube-system" in blocked.message
    assert "open as sealed for" not in blocked.message

    widened = sealed(keys, **{NAMESPACE_WIDE_ANNOTATION: "true"})
    (blocked,) = open_all([manifest(widened)], keys.store()).blocked
    assert "label 'prod'" in blocked.message
    assert 'its values open as sealed for "prod/db" (strict)' in blocked.message
    assert sealed_for(widened, keys.private) == '"prod/db" (strict)'


def test_a_secret_defined_twice_is_blocked(keys: Keys) -> None:
    plain = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "prod"}}

    opened = open_all([manifest(sealed(keys)), manifest(plain, "plain.yaml")], keys.store())

    (blocked,) = opened.blocked
    assert "opens to Secret/prod/db, which plain.yaml also defines" in blocked.message


def live_secret(labels: dict[str, str], annotations: dict[str, str]) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "prod",
            "labels": labels,
            "annotations": annotations,
        },
    }


@pytest.mark.parametrize(
    ("current", "blocked", "taken_over"),
    [
        (None, False, False),
        (live_secret(OWNER.labels, {}), False, False),
        (live_secret({}, {}), True, False),
        (live_secret({**OWNER.labels, "hakobu.dev/app": "web"}, {}), True, False),
        (live_secret({}, {"sealedsecrets.bitnami.com/managed": "true"}), False, True),
    ],
)
def test_only_this_apps_or_managed_secrets_are_applied(
    current: Object | None, blocked: bool, taken_over: bool
) -> None:
    found, adopt = foreign([SECRET_ID], {SECRET_ID: current}, OWNER)

    assert bool(found) is blocked
    assert (SECRET_ID in adopt) is taken_over
    if found:
        assert "left alone" in found[0].message


def test_secret_values_are_masked_but_their_changes_shown() -> None:
    before: dict[str, Any] = {"data": {"same": "YQ==", "changed": "Yg==", "gone": "Yw=="}}
    after: dict[str, Any] = {"data": {"same": "YQ==", "changed": "ZA==", "new": "ZQ=="}}

    old, new = masked(before, after)

    assert old["data"] == {"same": "(hidden)", "changed": "(hidden, before)", "gone": "(hidden)"}
    assert new["data"] == {"same": "(hidden)", "changed": "(hidden, changed)", "new": "(hidden)"}
    assert before["data"]["changed"] == "Yg=="
    text = unified("Secret/prod/db", before, after, secret=True)
    assert "==" not in text
    assert "-  gone: (hidden)" in text and "+  new: (hidden)" in text
    assert "   same: (hidden)" in text
