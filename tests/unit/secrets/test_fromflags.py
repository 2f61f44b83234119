"""A Secret from literals and files, as ``kubectl create secret generic`` builds one."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from hakobu.errors import InvalidInput
from hakobu.secrets.fromflags import SecretItems, build_secret


def decoded(secret: dict[str, object]) -> dict[str, bytes]:
    data = secret["data"]
    assert isinstance(data, dict)
    return {key: base64.b64decode(value) for key, value in data.items()}


def test_literals_and_files_become_items(tmp_path: Path) -> None:
    (tmp_path / "tls.key").write_bytes(b"\x00binary")
    (tmp_path / "ca").write_text("ca text")
    secret = build_secret(
        SecretItems(
            "db",
            "prod",
            literals=["password=s3=cret", "empty="],
            files=[str(tmp_path / "tls.key"), f"ca.crt={tmp_path / 'ca'}"],
        )
    )
    assert secret["metadata"] == {"name": "db", "namespace": "prod"}
    assert secret["type"] == "Opaque"
    assert decoded(secret) == {
        "password": b"s3=cret",
        "empty": b"",
        "tls.key": b"\x00binary",
        "ca.crt": b"ca text",
    }


def test_the_type_and_no_namespace() -> None:
    secret = build_secret(SecretItems("pull", type="kubernetes.io/dockerconfigjson"))
    assert secret["metadata"] == {"name": "pull"}
    assert secret["type"] == "kubernetes.io/dockerconfigjson"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (SecretItems(None, literals=["a=b"]), "a Secret needs a name"),
        (SecretItems("db", literals=["a=1", "s3cret"]), r"--from-literal \(number 2 of them\)"),
        (SecretItems("db", literals=["=v"]), "expected KEY=VALUE"),
        (SecretItems("db", literals=["a=1", "a=2"]), "the item 'a' is given twice"),
        (SecretItems("db", files=["key="]), r"--from-file 'key=': expected \[KEY=\]PATH"),
        (SecretItems("db", files=["/nonexistent/x"]), "--from-file: cannot be read"),
    ],
)
def test_refusals_name_the_flag_and_never_a_value(items: SecretItems, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as raised:
        build_secret(items)
    assert "s3cret" not in str(raised.value)
