"""The git credentials a Delivery's Secret holds, under the keys Flux's GitRepository
secrets use: ``username`` and ``password`` (or a token as the password) for HTTPS;
``identity`` (a private key), ``identity.pub`` (optional), ``known_hosts`` (required: the
host keys the server may present) and ``password`` (the passphrase of an encrypted key)
for SSH. Which of the two applies follows from the repository URL."""

from __future__ import annotations

from collections.abc import Mapping

from hakobu.errors import InvalidInput
from hakobu.repo.clone import Credentials, GitCredentials
from hakobu.repo.ssh import SshCredentials, check_identity, check_known_hosts, ssh_endpoint


def git_credentials(data: Mapping[str, str], where: str, url: str) -> Credentials | None:
    """The credentials in the Secret ``where`` (``Secret <namespace>/<name>``) for ``url``;
    None when it holds none (a Secret kept for ``webhookSecret`` alone)."""
    if ssh_endpoint(url) is None:
        if "identity" in data:
            raise InvalidInput(
                f"{where}: holds an SSH key (identity), but the repository URL {url} is not "
                "an SSH URL",
                hint="use ssh://USER@HOST[:PORT]/PATH or USER@HOST:PATH, or give the Secret "
                "username and password for HTTPS",
            )
        if "password" in data:
            return GitCredentials(data.get("username", "git"), data["password"])
        return None
    if "identity" not in data:
        raise InvalidInput(
            f"{where}: the repository URL {url} is an SSH URL and the Secret has no key "
            "identity (a private key)",
            hint="add identity and known_hosts, as for a Flux GitRepository",
        )
    if "known_hosts" not in data:
        raise InvalidInput(
            f"{where}: key known_hosts is missing: SSH needs the host keys the server may "
            "present, or anyone between could pose as it",
            hint="add known_hosts, e.g. from `ssh-keyscan HOST`, checked against a "
            "fingerprint you trust",
        )
    check_identity(data["identity"], where)
    check_known_hosts(data["known_hosts"], where)
    return SshCredentials(
        identity=data["identity"],
        known_hosts=data["known_hosts"],
        origin=where,
        identity_pub=data.get("identity.pub"),
        password=data.get("password", ""),
    )
