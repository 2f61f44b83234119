"""The session key the controller's replicas share: made once, by whichever replica is
first, and read by all."""

from __future__ import annotations

import base64

import pytest

from hakobu.cluster.errors import Forbidden, NotFound
from hakobu.controller.install import SESSION_SECRET
from hakobu.errors import OperationFailed
from hakobu.model.objects import Object
from hakobu.web.sessionkey import KEY, shared_key
from hakobu.web.sessions import Signer, User
from tests.fakes.kube import FakeKube

NAMESPACE = "hakobu-system"


def kube() -> FakeKube:
    fake = FakeKube()
    fake.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    return fake


def secret(key: bytes) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SESSION_SECRET, "namespace": NAMESPACE},
        "data": {KEY: base64.b64encode(key).decode()},
    }


def test_the_first_replica_makes_the_key_and_the_next_reads_it() -> None:
    api = kube()
    first = shared_key(api, NAMESPACE, labels={"app.kubernetes.io/managed-by": "x"})
    assert len(first) == 32
    stored = api.stored("Secret", SESSION_SECRET, NAMESPACE)
    assert stored is not None and stored["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "x"
    }
    assert shared_key(api, NAMESPACE) == first
    # A cookie one replica signs, another accepts.
    one, other = Signer(first), Signer(shared_key(api, NAMESPACE))
    cookie = one.dump(one.new(User("ada")))
    loaded = other.load(cookie)
    assert loaded is not None and loaded.user == User("ada")


class Racing(FakeKube):
    """Another replica makes the Secret between this one's read and its create."""

    def __init__(self, theirs: bytes) -> None:
        super().__init__()
        self.theirs = theirs
        self.raced = False

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Object:
        if kind == "Secret" and not self.raced:
            self.raced = True
            self.create(secret(self.theirs))
            raise NotFound(404, "NotFound", f'secrets "{name}" not found', {})
        return super().get(api_version, kind, name, namespace)


def test_a_replica_that_loses_the_race_uses_the_winners_key() -> None:
    api = Racing(b"w" * 32)
    api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    assert shared_key(api, NAMESPACE) == b"w" * 32


def test_a_key_too_short_is_refused_with_how_to_make_a_new_one() -> None:
    api = kube()
    api.create(secret(b"short"))
    with pytest.raises(OperationFailed) as failed:
        shared_key(api, NAMESPACE)
    assert f"Secret {NAMESPACE}/{SESSION_SECRET}" in failed.value.message
    assert "kubectl delete secret" in (failed.value.hint or "")


def test_an_installation_without_the_right_to_make_it_says_what_to_do() -> None:
    api = kube()
    api.fail("create", "Secret", SESSION_SECRET, Forbidden(403, "Forbidden", "no", {}))
    with pytest.raises(OperationFailed) as failed:
        shared_key(api, NAMESPACE)
    assert "hakobu install" in (failed.value.hint or "")
    assert "--dashboard off" in (failed.value.hint or "")
