"""Which certificate seals and which keys open: files first, then the controller, then its keys."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hakobu.cluster.errors import ServerError, Unreachable
from hakobu.errors import HakobuError, OperationFailed
from hakobu.secrets.certsource import Controller, KeysApi, private_keys, sealing_certificate
from hakobu.secrets.keystore import KeyStore, new_key
from tests.fakes.kube import FakeKube

CONTROLLER = Controller("kube-system")


def connected(kube: Any) -> Any:
    @contextlib.contextmanager
    def connect() -> Iterator[KeysApi]:
        yield kube

    return connect


def no_cluster() -> Any:
    raise AssertionError("the cluster was asked although the files decide")


def cluster_with_a_key() -> tuple[FakeKube, bytes]:
    kube = FakeKube()
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}})
    key = KeyStore(kube, "kube-system").add(new_key("unit", key_size=2048))
    return kube, key.certificate_pem


def test_a_certificate_file_needs_no_cluster(key_pair: tuple[Path, Path]) -> None:
    _, cert = key_pair
    assert sealing_certificate(cert, CONTROLLER, no_cluster) == cert.read_bytes()


def test_without_a_controller_the_newest_key_in_its_namespace_seals() -> None:
    kube, certificate = cluster_with_a_key()
    # The fake has no Service of the controller: the API server's answer is 404.
    assert sealing_certificate(None, CONTROLLER, connected(kube)) == certificate


class Proxy:
    """A cluster whose controller Service answers ``error`` through the service proxy."""

    def __init__(self, kube: FakeKube, error: HakobuError) -> None:
        self.kube = kube
        self.error = error

    def request(self, method: str, path: str, *, accept: str | None = None) -> Any:
        raise self.error

    def list(self, *args: Any, **kwargs: Any) -> Any:
        return self.kube.list(*args, **kwargs)

    def create(self, obj: Any) -> Any:
        return self.kube.create(obj)


def test_a_controller_that_does_not_answer_falls_back_to_its_keys() -> None:
    kube, certificate = cluster_with_a_key()
    down = Proxy(kube, ServerError(503, "ServiceUnavailable", "no endpoints", {}))
    assert sealing_certificate(None, CONTROLLER, connected(down)) == certificate


def test_an_unreachable_cluster_is_said_not_papered_over() -> None:
    kube, _ = cluster_with_a_key()
    unreachable = Proxy(kube, Unreachable("the API server did not answer"))
    with pytest.raises(Unreachable):
        sealing_certificate(None, CONTROLLER, connected(unreachable))


def test_keys_come_from_files_else_from_the_controllers_namespace(
    key_pair: tuple[Path, Path],
) -> None:
    key_file, _ = key_pair
    assert len(private_keys([key_file], CONTROLLER, no_cluster)) == 1
    kube, _ = cluster_with_a_key()
    assert len(private_keys([], CONTROLLER, connected(kube))) == 1
    with pytest.raises(OperationFailed, match="holds no sealing key"):
        private_keys([], Controller("elsewhere"), connected(kube))
