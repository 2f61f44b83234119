"""Commands that talk to the cluster say "unreachable" with exit code 3, within
``--request-timeout``: a closed port (refused at once) and a socket that accepts and never
answers (the TLS handshake hangs)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

TIMEOUT = 2.0
# Starting the interpreter and importing the command: up to 8.6 s was seen on 2 cores at
# load average 14. The default patience is 60 s, so the bound still tells whether the
# timeout given was honoured.
STARTUP = 10.0


def kubeconfig(directory: Path, port: int) -> Path:
    path = directory / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {
                            "server": f"https://127.0.0.1:{port}",
                            "insecure-skip-tls-verify": True,
                        },
                    }
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
            }
        )
    )
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    app = root / "generated" / "dev" / "web"
    app.mkdir(parents=True)
    (root / "hakobu.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "hakobu.dev/v1alpha1",
                "kind": "Project",
                "name": "shop",
                "environments": {"dev": {"namespace": "dev"}},
            }
        )
    )
    (app / "configmap-web.yaml").write_text(
        yaml.safe_dump(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}, "data": {}}
        )
    )
    for args in (
        ["init", "-q", "-b", "main"],
        ["-c", "user.email=ci@example.com", "-c", "user.name=CI", "add", "-A"],
        ["-c", "user.email=ci@example.com", "-c", "user.name=CI", "commit", "-q", "-m", "web"],
    ):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    return root


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    # Closed again: a connection is refused.
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections and never writes a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def hakobu(*argv: str) -> tuple[int, str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "hakobu", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr + done.stdout, time.monotonic() - started


COMMANDS = [
    ["status"],
    ["diff"],
    ["sync"],
    ["history"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("where", ["closed_port", "silent_port"])
def test_unreachable_cluster_exits_3_within_the_timeout(
    project: Path, tmp_path: Path, where: str, command: list[str], request: pytest.FixtureRequest
) -> None:
    port = request.getfixturevalue(where)
    config = kubeconfig(tmp_path, port)

    code, output, seconds = hakobu(
        *command,
        "dev",
        "-C",
        str(project),
        "--kubeconfig",
        str(config),
        "--request-timeout",
        f"{TIMEOUT:g}s",
    )

    assert code == 3, output
    assert "127.0.0.1" in output
    assert seconds < TIMEOUT + STARTUP, output
    if command == ["history"]:
        # What git knows is still shown.
        assert "web" in output and "not reachable" in output


def test_request_timeout_takes_durations_and_refuses_nonsense(project: Path) -> None:
    code, output, _ = hakobu("status", "dev", "-C", str(project), "--request-timeout", "soon")
    assert code == 2
    assert "not a duration" in output


def test_promote_checking_health_on_an_unreachable_cluster_exits_3(
    tmp_path: Path, closed_port: int
) -> None:
    root = tmp_path / "shop"
    git = ["git", "-C", str(root), "-c", "user.email=ci@example.com", "-c", "user.name=CI"]
    assert hakobu("init", str(root))[0] == 0
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    assert hakobu("render", "-C", str(root), "--commit")[0] == 0
    config = kubeconfig(tmp_path, closed_port)
    code, output, seconds = hakobu(
        "promote",
        "evaluation",
        "production",
        "-C",
        str(root),
        "--kubeconfig",
        str(config),
        "--request-timeout",
        f"{TIMEOUT:g}s",
    )
    assert code == 3, output
    assert "cannot tell whether evaluation is healthy" in output
    assert seconds < TIMEOUT + STARTUP, output
