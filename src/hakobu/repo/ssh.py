"""Git over SSH: a private key, and the host keys the remote must present.

libgit2 (through libssh2) checks the server's host key itself, against
``<home>/.ssh/known_hosts``, before it authenticates, and tells the certificate callback
whether the key was listed; pygit2 does not hand the key itself to Python. So an
operation with ``SshCredentials`` runs with libgit2's home directory pointed at a private
temporary directory holding only those credentials' ``known_hosts``. That directory is a
process-wide setting, and libgit2 reads nothing else from it (the global configuration
has a search path of its own), so SSH operations take turns under one lock and the
previous home directory is put back after each.

The private key never touches the disk: libssh2 reads it from memory.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pygit2

from hakobu.errors import InvalidInput

_HOME_LOCK = threading.Lock()

# ssh://[user@]host[:port]/path (git also accepts git+ssh:// and ssh+git://).
_SSH_URL = re.compile(
    r"^(?:ssh|git\+ssh|ssh\+git)://(?:(?P<user>[^@/]+)@)?"
    r"(?P<host>\[[^\]]+\]|[^:/]+)(?::(?P<port>\d+))?/"
)
# git's scp-like form, user@host:path: no scheme, and a colon before the first slash.
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>\[[^\]]+\]|[^:/]+):(?!//)")
# A known_hosts line: host patterns, a key type and a base64 key (and perhaps a comment).
_KNOWN_HOST = re.compile(r"^\S+\s+[a-z0-9@.+-]+\s+[A-Za-z0-9+/]+={0,3}(\s.*)?$")


@dataclass(frozen=True)
class SshCredentials:
    """A private key, the host keys to trust, and ``origin``, where they came from (say
    ``Secret shop/shop-git``), which messages name instead of anything they hold."""

    identity: str = field(repr=False)
    known_hosts: str = field(repr=False)
    origin: str
    identity_pub: str | None = field(default=None, repr=False)
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class SshEndpoint:
    user: str | None
    host: str
    port: int

    def __str__(self) -> str:
        return self.host if self.port == 22 else f"{self.host} port {self.port}"


def ssh_endpoint(url: str) -> SshEndpoint | None:
    """Who and where ``url`` logs in over SSH; None for any other kind of URL."""
    found = _SSH_URL.match(url)
    if found is None and "://" not in url:
        found = _SCP_LIKE.match(url)
    if found is None:
        return None
    port = found.groupdict().get("port")
    return SshEndpoint(found["user"], found["host"].strip("[]"), int(port) if port else 22)


def check_known_hosts(text: str, where: str) -> None:
    """Refuse a ``known_hosts`` libssh2 would misread: a malformed line (it would refuse the
    whole file without saying where), or a marker line — libssh2 ignores ``@revoked``,
    so a revoked key would be trusted, and ``@cert-authority`` is not understood."""
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1)]
    entries = [(number, line) for number, line in lines if line and not line.startswith("#")]
    if not entries:
        raise InvalidInput(
            f"{where}: known_hosts lists no host key",
            hint="add the server's host key, e.g. from `ssh-keyscan HOST`, checked against "
            "a fingerprint you trust",
        )
    for number, line in entries:
        if line.startswith("@"):
            raise InvalidInput(
                f"{where}: known_hosts line {number}: markers ({line.split()[0]}) are not "
                "supported",
                hint="list the host keys themselves, one `HOST KEYTYPE KEY` a line",
            )
        if not _KNOWN_HOST.match(line):
            raise InvalidInput(
                f"{where}: known_hosts line {number} is not `HOST KEYTYPE BASE64-KEY`",
                hint="copy the lines from `ssh-keyscan HOST` or an OpenSSH known_hosts file",
            )


def check_identity(text: str, where: str) -> None:
    """Refuse an ``identity`` that is no private key, without quoting any of it."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    if not (first.startswith("-----BEGIN ") and first.endswith("PRIVATE KEY-----")):
        raise InvalidInput(
            f"{where}: identity is not a private key",
            hint="give a PEM or OpenSSH private key (-----BEGIN … PRIVATE KEY-----), "
            "e.g. the file ssh-keygen wrote",
        )


@contextmanager
def known_hosts_home(credentials: SshCredentials) -> Iterator[None]:
    """libgit2's home directory, for as long as this lasts, holds ``.ssh/known_hosts``
    with the host keys ``credentials`` trust, and only those."""
    with _HOME_LOCK:
        home = Path(tempfile.mkdtemp(prefix="hakobu-ssh-"))
        try:
            (home / ".ssh").mkdir(mode=0o700)
            (home / ".ssh" / "known_hosts").write_text(credentials.known_hosts)
            previous = pygit2.settings.homedir
            pygit2.settings.homedir = str(home)
            try:
                yield
            finally:
                pygit2.settings.homedir = previous or ""
        finally:
            shutil.rmtree(home, ignore_errors=True)


def keypair(credentials: SshCredentials, username: str) -> pygit2.KeypairFromMemory:
    return pygit2.KeypairFromMemory(
        username, credentials.identity_pub, credentials.identity, credentials.password
    )
