"""Secrets and SealedSecrets read from YAML: sealed, opened, errors at their file and line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.source import load_documents
from hakobu.secrets.documents import (
    dump_objects,
    one_sealed_secret,
    read_secret_documents,
    seal_documents,
    unseal_documents,
)
from hakobu.secrets.keys import load_private_key_files

SECRET = """\
apiVersion: v1
kind: Secret
metadata: {name: db}
stringData: {password: hunter2}
"""


def test_sealed_then_opened_with_the_identity_filled_in(key_pair: tuple[Path, Path]) -> None:
    key, cert = key_pair
    documents = load_documents(Path("db.yaml"), SECRET)
    sealed = seal_documents(documents, cert.read_bytes(), None, namespace="prod")
    assert sealed[0]["metadata"]["namespace"] == "prod"
    text = dump_objects(sealed)
    assert "hunter2" not in text
    opened = unseal_documents(load_documents(Path("s.yaml"), text), load_private_key_files([key]))
    assert opened[0]["metadata"]["name"] == "db"
    assert opened[0]["data"]["password"] == "aHVudGVyMg=="


def test_a_name_that_contradicts_the_file_is_refused_at_its_line(
    key_pair: tuple[Path, Path],
) -> None:
    _, cert = key_pair
    documents = load_documents(Path("db.yaml"), SECRET)
    with pytest.raises(InvalidInput, match=r"^db.yaml:3: metadata.name: the Secret's name"):
        seal_documents(documents, cert.read_bytes(), None, name="other")


def test_a_field_the_sealing_refuses_points_at_its_line(key_pair: tuple[Path, Path]) -> None:
    _, cert = key_pair
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: db}\n"
    with pytest.raises(InvalidInput, match=r"^db.yaml:2: kind: "):
        seal_documents(load_documents(Path("db.yaml"), text), cert.read_bytes(), None)


def test_nothing_to_read_is_said_naming_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("# only a comment\n"))
    with pytest.raises(InvalidInput, match=r"^standard input: no YAML documents$"):
        read_secret_documents("-")


def test_an_edit_takes_exactly_one_sealed_secret() -> None:
    two = load_documents(Path("s.yaml"), "a: 1\n---\nb: 2\n")
    with pytest.raises(InvalidInput, match=r"s\.yaml: expected exactly one SealedSecret, found 2"):
        one_sealed_secret(two, "s.yaml")
    secret = load_documents(Path("s.yaml"), SECRET)
    with pytest.raises(InvalidInput, match=r"s\.yaml:2: kind: expected a SealedSecret"):
        one_sealed_secret(secret, "s.yaml")
