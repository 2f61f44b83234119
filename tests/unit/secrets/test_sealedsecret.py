"""Building SealedSecrets as kubeseal does, resealing items, opening them as the controller."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.secrets.crypto import CannotUnseal, CorruptSealedValue, decode_sealed_value
from hakobu.secrets.keys import generate_key_pair, load_private_keys
from hakobu.secrets.scope import CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION, Scope
from hakobu.secrets.sealedsecret import (
    SKIP_OWNER_REFERENCES_ANNOTATION,
    InvalidObject,
    reseal_items,
    seal_secret,
    secret_items,
    unseal,
)


class Keys:
    def __init__(self) -> None:
        private_pem, self.certificate = generate_key_pair("test", key_size=2048)
        self.private: list[RSAPrivateKey] = load_private_keys(private_pem, "key.pem")


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def other_keys() -> Keys:
    return Keys()


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def a_secret(**extra: Any) -> Object:
    secret: Object = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "prod",
            "labels": {"app": "db"},
            "annotations": {
                "team": "data",
                "kubectl.kubernetes.io/last-applied-configuration": '{"data":"in clear"}',
            },
            "uid": "1234",
            "resourceVersion": "7",
            "creationTimestamp": "2024-01-01T00:00:00Z",
            "managedFields": [{"manager": "kubectl"}],
            "ownerReferences": [{"kind": "X", "name": "x", "uid": "9"}],
        },
        "type": "Opaque",
        "data": {"password": b64(b"hunter2"), "blob": b64(bytes(range(256)))},
        "stringData": {"user": "admin"},
    }
    secret.update(extra)
    return secret


def test_sealed_like_kubeseal(keys: Keys) -> None:
    sealed = seal_secret(a_secret(), keys.certificate)
    assert sealed["apiVersion"] == "bitnami.com/v1alpha1"
    assert sealed["kind"] == "SealedSecret"
    assert sealed["metadata"] == {"name": "db", "namespace": "prod"}
    assert sealed["spec"]["template"] == {
        "metadata": {
            "name": "db",
            "namespace": "prod",
            "labels": {"app": "db"},
            "annotations": {"team": "data"},
        },
        "type": "Opaque",
    }
    assert list(sealed["spec"]["encryptedData"]) == ["blob", "password", "user"]
    for value in sealed["spec"]["encryptedData"].values():
        assert decode_sealed_value(value)[:2] == b"\x01\x00"


def test_the_input_secret_is_not_changed(keys: Keys) -> None:
    secret = a_secret()
    before = copy.deepcopy(secret)
    seal_secret(secret, keys.certificate, Scope.CLUSTER_WIDE)
    assert secret == before


@pytest.mark.parametrize("scope", list(Scope))
def test_round_trip_in_every_scope(keys: Keys, scope: Scope) -> None:
    sealed = seal_secret(a_secret(), keys.certificate, scope)
    opened = unseal(sealed, keys.private)
    assert opened["data"] == {
        "blob": b64(bytes(range(256))),
        "password": b64(b"hunter2"),
        "user": b64(b"admin"),
    }
    assert opened["metadata"]["name"] == "db"
    assert opened["metadata"]["namespace"] == "prod"
    assert opened["metadata"]["labels"] == {"app": "db"}
    assert opened["type"] == "Opaque"


@pytest.mark.parametrize(
    ("scope", "annotations"),
    [
        (Scope.STRICT, None),
        (Scope.NAMESPACE_WIDE, {NAMESPACE_WIDE_ANNOTATION: "true"}),
        (Scope.CLUSTER_WIDE, {CLUSTER_WIDE_ANNOTATION: "true"}),
    ],
)
def test_scope_annotations_on_top_and_in_the_template(
    keys: Keys, scope: Scope, annotations: dict[str, str] | None
) -> None:
    sealed = seal_secret(a_secret(), keys.certificate, scope)
    assert sealed["metadata"].get("annotations") == annotations
    assert sealed["spec"]["template"]["metadata"]["annotations"] == {
        "team": "data",
        **(annotations or {}),
    }


def test_the_scope_comes_from_the_secrets_annotations_unless_given(keys: Keys) -> None:
    secret = a_secret()
    secret["metadata"]["annotations"] = {NAMESPACE_WIDE_ANNOTATION: "true"}
    sealed = seal_secret(secret, keys.certificate)
    assert sealed["metadata"]["annotations"] == {NAMESPACE_WIDE_ANNOTATION: "true"}
    strict = seal_secret(secret, keys.certificate, Scope.STRICT)
    assert "annotations" not in strict["metadata"]
    assert "annotations" not in strict["spec"]["template"]["metadata"]


def test_stringdata_wins_over_data_of_the_same_name(keys: Keys) -> None:
    secret = a_secret(data={"user": b64(b"from data")}, stringData={"user": "from stringData"})
    assert secret_items(secret) == {"user": b"from stringData"}


def test_immutable_and_a_missing_type_are_kept_as_they_are(keys: Keys) -> None:
    secret = a_secret(immutable=True)
    del secret["type"]
    sealed = seal_secret(secret, keys.certificate)
    assert sealed["spec"]["template"]["immutable"] is True
    assert "type" not in sealed["spec"]["template"]
    opened = unseal(sealed, keys.private)
    assert opened["immutable"] is True
    assert "type" not in opened


def test_a_namespace_is_required_unless_cluster_wide(keys: Keys) -> None:
    secret = a_secret()
    del secret["metadata"]["namespace"]
    with pytest.raises(InvalidObject, match="must name its namespace") as raised:
        seal_secret(secret, keys.certificate)
    assert raised.value.field == ("metadata", "namespace")
    sealed = seal_secret(secret, keys.certificate, Scope.CLUSTER_WIDE)
    assert "namespace" not in sealed["metadata"]
    assert "namespace" not in unseal(sealed, keys.private)["metadata"]


def test_empty_data_is_refused_unless_allowed(keys: Keys) -> None:
    secret = a_secret(data={}, stringData=None)
    with pytest.raises(InvalidObject, match="no data and no stringData"):
        seal_secret(secret, keys.certificate)
    sealed = seal_secret(secret, keys.certificate, allow_empty_data=True)
    assert sealed["spec"]["encryptedData"] == {}
    assert unseal(sealed, keys.private)["data"] == {}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": "ConfigMap"}, None, "expected a Kubernetes Secret"),
        ({"metadata": {"namespace": "prod"}}, ("metadata", "name"), "a name is required"),
        ({"metadata": "db"}, ("metadata",), "expected a mapping"),
        ({"data": {"k": "!!"}}, ("data", "k"), "not valid base64"),
        ({"data": ["k"]}, ("data",), "expected a mapping"),
        ({"stringData": {"port": 5432}}, ("stringData", "port"), "expected a string, found int"),
        ({"stringData": {"a/b": "x"}}, ("stringData", "a/b"), "not a valid item name"),
    ],
)
def test_invalid_secrets(
    keys: Keys, change: Object, field: tuple[str, ...] | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as raised:
        seal_secret(a_secret(**change), keys.certificate)
    assert raised.value.exit_code == 2
    if field is not None:
        assert isinstance(raised.value, InvalidObject)
        assert raised.value.field == field


@pytest.mark.parametrize(
    "move",
    [
        {"namespace": "dev"},
        {"name": "other"},
        {"annotations": {NAMESPACE_WIDE_ANNOTATION: "true"}},
        {"annotations": {CLUSTER_WIDE_ANNOTATION: "true"}},
    ],
)
def test_a_strict_secret_opens_only_where_it_was_sealed(keys: Keys, move: Object) -> None:
    sealed = seal_secret(a_secret(), keys.certificate)
    sealed["metadata"].update(move)
    with pytest.raises(CannotUnseal, match="another namespace/name or scope") as raised:
        unseal(sealed, keys.private)
    assert raised.value.exit_code == 1
    assert "blob, password, user" in str(raised.value)


def test_namespace_wide_opens_under_any_name_of_its_namespace(keys: Keys) -> None:
    sealed = seal_secret(a_secret(), keys.certificate, Scope.NAMESPACE_WIDE)
    sealed["metadata"]["name"] = "renamed"
    assert unseal(sealed, keys.private)["metadata"]["name"] == "renamed"
    sealed["metadata"]["namespace"] = "dev"
    with pytest.raises(CannotUnseal):
        unseal(sealed, keys.private)


def test_cluster_wide_opens_anywhere(keys: Keys) -> None:
    sealed = seal_secret(a_secret(), keys.certificate, Scope.CLUSTER_WIDE)
    sealed["metadata"].update(name="elsewhere", namespace="dev")
    opened = unseal(sealed, keys.private)
    assert (opened["metadata"]["name"], opened["metadata"]["namespace"]) == ("elsewhere", "dev")


def test_the_top_level_metadata_decides_not_the_template(keys: Keys) -> None:
    sealed = seal_secret(a_secret(), keys.certificate, Scope.CLUSTER_WIDE)
    del sealed["metadata"]["annotations"]
    with pytest.raises(CannotUnseal):
        unseal(sealed, keys.private)


def test_another_key_does_not_open_but_all_given_keys_are_tried(
    keys: Keys, other_keys: Keys
) -> None:
    sealed = seal_secret(a_secret(), keys.certificate)
    with pytest.raises(CannotUnseal):
        unseal(sealed, other_keys.private)
    assert unseal(sealed, other_keys.private + keys.private)["data"]["user"] == b64(b"admin")


def test_corrupt_items_are_named(keys: Keys) -> None:
    sealed = seal_secret(a_secret(), keys.certificate)
    sealed["spec"]["encryptedData"]["user"] = "AAAA"
    with pytest.raises(CorruptSealedValue, match=r"cannot open user: .*truncated"):
        unseal(sealed, keys.private)


def test_owner_reference_only_for_a_stored_sealed_secret(keys: Keys) -> None:
    sealed = seal_secret(a_secret(), keys.certificate)
    assert "ownerReferences" not in unseal(sealed, keys.private)["metadata"]
    sealed["metadata"]["uid"] = "5f0c"
    assert unseal(sealed, keys.private)["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "name": "db",
            "uid": "5f0c",
            "controller": True,
        }
    ]
    sealed["spec"]["template"]["metadata"]["annotations"][SKIP_OWNER_REFERENCES_ANNOTATION] = "true"
    assert "ownerReferences" not in unseal(sealed, keys.private)["metadata"]


def test_template_data_literals_and_removals(keys: Keys) -> None:
    sealed = seal_secret(a_secret(), keys.certificate)
    sealed["spec"]["template"]["data"] = {
        "host": "db.prod.svc",
        "user": "ignored: the encrypted item wins",
        "blob": None,
    }
    assert unseal(sealed, keys.private)["data"] == {
        "host": b64(b"db.prod.svc"),
        "password": b64(b"hunter2"),
        "user": b64(b"admin"),
    }


def test_go_templates_are_refused_not_guessed(keys: Keys) -> None:
    sealed = seal_secret(a_secret(), keys.certificate)
    sealed["spec"]["template"]["data"] = {"url": "postgres://{{ .user }}@db"}
    with pytest.raises(InvalidObject, match="Go template") as raised:
        unseal(sealed, keys.private)
    assert raised.value.field == ("spec", "template", "data", "url")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "Secret"}, "expected a SealedSecret"),
        ({"apiVersion": "bitnami.com/v1"}, "expected bitnami.com/v1alpha1"),
        ({"spec": None}, "expected a mapping with encryptedData"),
        ({"spec": {"encryptedData": ["x"]}}, "expected a mapping"),
        ({"spec": {"template": {"metadata": "x"}}}, "spec.template.metadata: expected a mapping"),
        ({"spec": {"template": {"data": {"k": 1}}}}, "expected a string, found int"),
        ({"spec": {"data": "AAAA", "encryptedData": {}}}, "deprecated single-blob format"),
    ],
)
def test_invalid_sealed_secrets(keys: Keys, change: Object, message: str) -> None:
    sealed = seal_secret(a_secret(), keys.certificate)
    sealed.update(change)
    with pytest.raises(InvalidInput, match=message):
        unseal(sealed, keys.private)


def test_reseal_changes_only_what_changed(keys: Keys) -> None:
    sealed = seal_secret(a_secret(), keys.certificate, Scope.NAMESPACE_WIDE)
    before = copy.deepcopy(sealed)
    updated = reseal_items(
        sealed, {"password": b"correct horse", "token": b"t0k3n", "blob": None}, keys.certificate
    )
    assert sealed == before
    encrypted = updated["spec"]["encryptedData"]
    assert list(encrypted) == ["password", "token", "user"]
    assert encrypted["user"] == before["spec"]["encryptedData"]["user"]
    assert encrypted["password"] != before["spec"]["encryptedData"]["password"]
    assert updated["spec"]["template"] == before["spec"]["template"]
    assert updated["metadata"] == before["metadata"]
    assert unseal(updated, keys.private)["data"] == {
        "password": b64(b"correct horse"),
        "token": b64(b"t0k3n"),
        "user": b64(b"admin"),
    }


def test_reseal_uses_the_label_of_the_sealed_secret(keys: Keys) -> None:
    sealed = seal_secret(a_secret(), keys.certificate, Scope.CLUSTER_WIDE)
    updated = reseal_items(sealed, {"new": b"v"}, keys.certificate)
    updated["metadata"].update(name="moved", namespace="elsewhere")
    assert unseal(updated, keys.private)["data"]["new"] == b64(b"v")


def test_reseal_refuses_to_remove_what_is_not_there(keys: Keys) -> None:
    sealed = seal_secret(a_secret(), keys.certificate)
    with pytest.raises(InvalidObject, match="cannot remove absent: no such item; it has blob"):
        reseal_items(sealed, {"absent": None}, keys.certificate)
    with pytest.raises(InvalidObject, match="not a valid item name"):
        reseal_items(sealed, {"bad key": b"v"}, keys.certificate)
