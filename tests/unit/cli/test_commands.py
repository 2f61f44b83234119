"""The command line's contract: version, help, exit codes, no tracebacks."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from hakobu import __version__
from hakobu.cli.main import COMMANDS, main


def hakobu(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hakobu", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"hakobu {__version__}"


def test_help_lists_the_commands() -> None:
    result = hakobu("--help")
    assert result.returncode == 0
    assert "cluster" in result.stdout
    cluster_help = hakobu("cluster", "--help")
    for command in ("up", "down", "status", "kubeconfig", "build", "kubectl"):
        assert command in cluster_help.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = hakobu("deploy-everything")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_a_foreign_state_directory_is_never_deleted(tmp_path: Path) -> None:
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    result = hakobu("cluster", "--state-dir", str(tmp_path), "down")
    assert result.returncode == 2
    assert "is not a hakobu cluster directory" in result.stderr
    assert "Traceback" not in result.stderr
    assert precious.read_text() == "keep me"


def test_status_and_kubeconfig_of_a_cluster_that_never_ran(tmp_path: Path) -> None:
    state = ["cluster", "--state-dir", str(tmp_path / "none")]
    status = hakobu(*state, "status")
    assert status.returncode == 1
    assert "not running" in status.stdout
    kubeconfig = hakobu(*state, "kubeconfig")
    assert kubeconfig.returncode == 1
    assert "hakobu cluster up" in kubeconfig.stderr


def test_invalid_port_is_exit_code_two(tmp_path: Path) -> None:
    result = hakobu("cluster", "--state-dir", str(tmp_path / "c"), "up", "--port", "70000")
    assert result.returncode == 2
    assert "not a TCP port" in result.stderr


def test_a_dashboard_that_names_no_delivery_is_exit_code_two() -> None:
    result = hakobu("controller", "--dashboard", "shop", "--listen", "127.0.0.1:0")
    assert result.returncode == 2
    assert "--dashboard shop: expected auto, off or a Delivery as NAMESPACE/NAME" in result.stderr


def test_every_command_is_found_by_its_own_module() -> None:
    # main.py imports only the module of the command being run; a command missing from its
    # table would still work, but slowly, and a wrong entry would break it.
    for module in set(COMMANDS.values()):
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers()
        importlib.import_module(f"hakobu.cli.{module}").register(subparsers)
        registered = set(subparsers.choices)
        assert registered == {name for name, owner in COMMANDS.items() if owner == module}


@pytest.mark.parametrize("command", ["sync", "diff", "status", "promote", "agent"])
def test_every_command_that_opens_sealed_secrets_takes_the_keys_namespace(command: str) -> None:
    result = hakobu(command, "--help")
    assert result.returncode == 0
    assert "--keys-namespace" in result.stdout
    assert "keysNamespace" in " ".join(result.stdout.split())


def test_only_a_sync_pauses_the_cyclic_collector_for_the_rest_of_the_process(
    tmp_path: Path,
) -> None:
    # In a process of its own: the pause lasts until the process ends.
    probe = (
        "import gc, sys\n"
        "from hakobu.cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "print(gc.isenabled())\n"
    )
    for command, paused in (("sync", True), ("status", False)):
        done = subprocess.run(
            [sys.executable, "-c", probe, command, "dev", "-C", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.stdout.strip() == str(not paused), done.stderr


def test_the_imports_are_frozen_and_refused_arguments_leave_the_collector_running() -> None:
    probe = (
        "import gc, sys\n"
        "from hakobu.cli.main import main\n"
        "try:\n"
        "    main(['render', '--no-such-flag'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "True True", done.stderr
