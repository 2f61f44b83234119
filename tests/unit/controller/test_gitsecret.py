"""Which git credentials a Delivery's Secret holds, as the repository URL asks for them."""

from __future__ import annotations

import pytest

from hakobu.controller.gitsecret import git_credentials
from hakobu.errors import InvalidInput
from hakobu.repo.clone import GitCredentials
from hakobu.repo.ssh import SshCredentials

WHERE = "Secret shop/shop-git"
KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
HOSTS = "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH2JTPsaplPD2UBg0jlfSZ2qmuWMZlFPA\n"
SSH_URL = "ssh://git@git.example.com/shop.git"


def test_https_takes_username_and_password() -> None:
    found = git_credentials(
        {"username": "bot", "password": "t0ken"}, WHERE, "https://git.example.com/shop.git"
    )
    assert found == GitCredentials("bot", "t0ken")
    assert git_credentials({"webhookSecret": "x"}, WHERE, "https://git.example.com/s") is None


@pytest.mark.parametrize("url", [SSH_URL, "git@git.example.com:shop.git"])
def test_ssh_takes_the_flux_keys(url: str) -> None:
    data = {
        "identity": KEY,
        "identity.pub": "ssh-ed25519 AAAA",
        "known_hosts": HOSTS,
        "password": "pass",
    }
    assert git_credentials(data, WHERE, url) == SshCredentials(
        KEY, HOSTS, WHERE, "ssh-ed25519 AAAA", "pass"
    )


@pytest.mark.parametrize(
    ("data", "url", "expected"),
    [
        ({"identity": KEY}, SSH_URL, f"{WHERE}: key known_hosts is missing"),
        ({"username": "git", "password": "p"}, SSH_URL, "the Secret has no key identity"),
        ({"identity": KEY, "known_hosts": HOSTS}, "https://h/s", "is not an SSH URL"),
        ({"identity": "ssh-ed25519 AAAA", "known_hosts": HOSTS}, SSH_URL, "not a private key"),
        ({"identity": KEY, "known_hosts": "@revoked h ssh-rsa AAAA"}, SSH_URL, "markers"),
    ],
)
def test_what_cannot_work_is_named_without_the_secret(
    data: dict[str, str], url: str, expected: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        git_credentials(data, WHERE, url)
    message = str(refused.value)
    assert message.startswith(WHERE)
    assert expected in message
    assert "b3BlbnNzaC1rZXktdjEAAAAA" not in message
