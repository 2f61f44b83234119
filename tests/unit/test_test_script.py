"""scripts/test.sh installs what the tests need, and stops at the first step that fails.

apt-get runs for real, pointed by APT_CONFIG at package lists, caches and sources of the
test's own, so it neither touches the machine's nor waits for its locks.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "scripts" / "test.sh"


def require(tmp_path: Path, sources: str, command: str) -> subprocess.CompletedProcess[str]:
    for directory in ("lists/partial", "cache/archives/partial", "sources.list.d"):
        (tmp_path / directory).mkdir(parents=True)
    (tmp_path / "status").write_text("")
    (tmp_path / "sources.list").write_text(sources)
    (tmp_path / "apt.conf").write_text(
        f'Dir::Etc::sourcelist "{tmp_path}/sources.list";\n'
        f'Dir::Etc::sourceparts "{tmp_path}/sources.list.d";\n'
        f'Dir::State::Lists "{tmp_path}/lists";\n'
        f'Dir::Cache "{tmp_path}/cache";\n'
        f'Dir::State::status "{tmp_path}/status";\n'
        'Debug::NoLocking "true";\n'
    )
    script = (
        f"source {SCRIPT}\n"
        f"require {command} hakobu-absent-package 'for this test'\n"
        "echo carried on\n"
    )
    return subprocess.run(
        ["bash", "-c", script],
        env={**os.environ, "APT_CONFIG": str(tmp_path / "apt.conf")},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_failed_package_list_update_stops_the_script_and_is_named(tmp_path: Path) -> None:
    # A source that does not exist: `apt-get update` fails as it does offline.
    result = require(tmp_path, f"deb [trusted=yes] file:{tmp_path}/no-repository ./\n", "absent")
    assert result.returncode == 1
    assert "installing hakobu-absent-package (for this test)" in result.stdout
    assert "carried on" not in result.stdout
    assert "error: 'apt-get update' failed while installing hakobu-absent-package" in result.stderr
    # apt's own reason is shown, not swallowed.
    assert "no-repository" in result.stderr


def test_a_failed_install_stops_the_script_and_is_named(tmp_path: Path) -> None:
    result = require(tmp_path, "", "absent")
    assert result.returncode == 1
    assert "carried on" not in result.stdout
    assert "error: 'apt-get install hakobu-absent-package' failed" in result.stderr
    assert "Unable to locate package hakobu-absent-package" in result.stderr


def test_a_command_already_present_installs_nothing(tmp_path: Path) -> None:
    # The same failing source: apt-get is never reached.
    result = require(tmp_path, f"deb [trusted=yes] file:{tmp_path}/no-repository ./\n", "bash")
    assert result.returncode == 0
    assert result.stdout == "carried on\n"
    assert result.stderr == ""
