"""The commands on an environment that names clusters: which clusters they act on, and the
exit code when none can be reached (a cluster that answers is the integration tests')."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


def kubeconfig(directory: Path, port: int) -> Path:
    """Contexts one and two, both at a closed port."""
    path = directory / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "one",
                "contexts": [
                    {"name": name, "context": {"cluster": "c", "user": "u"}}
                    for name in ("one", "two")
                ],
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
                "environments": {
                    "dev": {
                        "namespace": "dev",
                        "clusters": [
                            {"name": "a", "context": "one"},
                            {"name": "b", "context": "two"},
                        ],
                    },
                    "solo": {"namespace": "solo"},
                },
            }
        )
    )
    (app / "configmap-web.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}})
    )
    git = ["git", "-C", str(root), "-c", "user.email=ci@example.com", "-c", "user.name=CI"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "web"], check=True)
    return root


@pytest.fixture
def config(tmp_path: Path) -> Path:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return kubeconfig(tmp_path, port)


def hakobu(*argv: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "hakobu", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("command", ["status", "diff", "sync", "history"])
def test_no_cluster_reachable_exits_3_naming_each(
    project: Path, config: Path, command: str
) -> None:
    code, out, err = hakobu(
        command, "dev", "-C", str(project), "--kubeconfig", str(config), "--request-timeout", "1s"
    )
    assert code == 3, out + err
    assert "cluster a (context one)" in out
    assert "cluster b (context two)" in out


def test_json_has_one_entry_per_cluster_with_its_reach(project: Path, config: Path) -> None:
    code, out, _ = hakobu(
        "sync",
        "dev",
        "-C",
        str(project),
        "--kubeconfig",
        str(config),
        "--request-timeout",
        "1s",
        "--cluster",
        "b",
        "-o",
        "json",
    )
    assert code == 3
    result = json.loads(out)
    assert result["env"] == "dev"
    [only] = result["clusters"]
    assert (only["cluster"], only["context"], only["reach"]) == ("b", "two", "Unreachable")
    assert "127.0.0.1" in only["error"]
    assert "sync" not in only


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["dev", "--cluster", "c"], "no cluster named 'c'"),
        (["dev", "--context", "one"], "names the contexts of its clusters in hakobu.yaml"),
        (["solo", "--cluster", "a"], "environment 'solo' lists no clusters"),
    ],
)
def test_choosing_a_cluster_the_environment_does_not_name_is_refused(
    project: Path, config: Path, argv: list[str], expected: str
) -> None:
    code, _, err = hakobu("status", *argv, "-C", str(project), "--kubeconfig", str(config))
    assert code == 2
    assert expected in err
