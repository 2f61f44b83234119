"""A real SSH server for tests: Debian's OpenSSH sshd on a loopback address, with a
configuration, host key and authorized keys of its own, serving git to the user running
the tests (git-upload-pack and git-receive-pack run as that user's commands)."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KeyPair:
    private: str
    public: str


def keypair(directory: Path, name: str, passphrase: str = "", kind: str = "ed25519") -> KeyPair:
    """A new key made by ssh-keygen (OpenSSH format; ``kind`` rsa gives a PEM key)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    pem = ["-m", "PEM"] if kind == "rsa" else []
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, *pem, "-N", passphrase, "-C", name, "-f", str(path)],
        check=True,
    )
    return KeyPair(path.read_text(), Path(f"{path}.pub").read_text())


@dataclass(frozen=True)
class SshServer:
    address: str
    port: int
    user: str
    host_key: KeyPair
    log: Path

    @property
    def known_hosts(self) -> str:
        """The line an OpenSSH known_hosts file holds for this server."""
        name = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
        kind, key = self.host_key.public.split()[:2]
        return f"{name} {kind} {key}\n"

    def url(self, path: Path) -> str:
        return f"ssh://{self.user}@{self.address}:{self.port}{path}"


def _sshd() -> str:
    found = shutil.which("sshd", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if found is None:
        raise RuntimeError("sshd is not installed: scripts/test.sh installs openssh-server")
    return found


def _free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(
    directory: Path, authorized: Iterable[str], *, address: str = "127.0.0.1", port: int = 0
) -> Iterator[SshServer]:
    """sshd on ``address`` (a free port unless ``port`` is given), letting in only the
    public keys ``authorized``."""
    directory.mkdir(parents=True, exist_ok=True)
    host_key = keypair(directory, "host_ed25519")
    keys = directory / "authorized_keys"
    # restrict: no terminal, no forwarding; a command (git's) is all a key may run.
    keys.write_text("".join(f"restrict {key.strip()}\n" for key in authorized))
    keys.chmod(0o600)
    port = port or _free_port(address)
    user = getpass.getuser()
    config = directory / "sshd_config"
    config.write_text(
        f"ListenAddress {address}:{port}\n"
        f"HostKey {directory / 'host_ed25519'}\n"
        f"AuthorizedKeysFile {keys}\n"
        f"AllowUsers {user}\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UsePAM no\n"
        # The test's temporary directories belong to the test's user, as sshd wants, but
        # their parents may not.
        "StrictModes no\n"
        "PidFile none\n"
        "LogLevel VERBOSE\n"
    )
    if os.geteuid() == 0:
        # sshd started as root separates privileges into this directory, which Debian's
        # service unit would otherwise create.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = directory / "sshd.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [_sshd(), "-D", "-e", "-f", str(config)], stdout=output, stderr=output
        )
    try:
        _wait_listening(address, port, process, log)
        yield SshServer(address, port, user, host_key, log)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_listening(address: str, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited ({process.returncode}): {log.read_text()}")
        try:
            socket.create_connection((address, port), timeout=1).close()
        except OSError:
            time.sleep(0.05)
        else:
            return
    raise RuntimeError(f"sshd did not listen on {address}:{port}: {log.read_text()}")
