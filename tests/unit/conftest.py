"""Fixtures shared by unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from hakobu.secrets.keys import generate_key_pair


@pytest.fixture(scope="session")
def key_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A sealing key's private key and certificate as PEM files (made once: RSA is slow)."""
    directory = tmp_path_factory.mktemp("keys")
    private_pem, certificate_pem = generate_key_pair("unit", key_size=2048)
    (directory / "key.pem").write_bytes(private_pem)
    (directory / "cert.pem").write_bytes(certificate_pem)
    return directory / "key.pem", directory / "cert.pem"
