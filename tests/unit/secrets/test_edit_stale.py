"""``secret edit`` killed outright: its plaintext is found and removed by the next run.

Also: an editor that keeps writing text that does not parse is not run forever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from hakobu.cli.main import main
from hakobu.secrets.plaintext import PREFIX, remove_stale
from hakobu.secrets.sealedsecret import seal_secret

MARKER = "pl41ntext-M4RKER"


@dataclass(frozen=True)
class Setup:
    file: Path
    key: Path
    cert: Path
    scratch: Path
    repo: Path


@pytest.fixture
def setup(key_pair: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    key, cert = key_pair
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "prod"},
        "stringData": {"password": MARKER},
    }
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    file = repo / "db.yaml"
    file.write_text(yaml.safe_dump(seal_secret(secret, cert.read_bytes()), sort_keys=True))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.delenv("VISUAL", raising=False)
    return Setup(file, key, cert, scratch, repo)


def hakobu(setup: Setup, *args: str, editor: str = "true") -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "VISUAL"}
    env |= {"EDITOR": editor, "TMPDIR": str(setup.scratch)}
    return subprocess.Popen(
        [sys.executable, "-m", "hakobu.cli.main", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def edit_args(setup: Setup) -> tuple[str, ...]:
    return ("secret", "edit", str(setup.file), "--key", str(setup.key), "--cert", str(setup.cert))


def blocked_edit(setup: Setup, tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    """An edit whose editor waits: the process, and the plaintext file it shows."""
    started = tmp_path / "started"
    started.unlink(missing_ok=True)
    script = tmp_path / "waiting_editor.py"
    script.write_text(
        "import pathlib, sys, time\n"
        f"pathlib.Path({str(started)!r}).write_text(sys.argv[1])\n"
        "time.sleep(120)\n"
    )
    process = hakobu(setup, *edit_args(setup), editor=f"{sys.executable} {script}")
    deadline = time.monotonic() + 30
    while not started.exists() or not started.read_text():
        assert time.monotonic() < deadline, "the editor did not start"
        time.sleep(0.05)
    shown = Path(started.read_text())
    assert MARKER in shown.read_text()
    return process, shown


@pytest.mark.parametrize("next_run", ["check", "edit"])
def test_the_next_run_removes_what_a_killed_edit_left(
    setup: Setup, tmp_path: Path, next_run: str
) -> None:
    before = setup.file.read_bytes()
    process, shown = blocked_edit(setup, tmp_path)
    assert shown.parent.name.startswith(f"{PREFIX}{process.pid}-")
    os.killpg(process.pid, signal.SIGKILL)  # hakobu and its editor, no cleanup possible
    process.wait(timeout=30)
    assert MARKER in shown.read_text(), "SIGKILL left nothing behind: nothing to test"

    args = ("secret", "check", str(setup.repo)) if next_run == "check" else edit_args(setup)
    out, err = hakobu(setup, *args).communicate(timeout=60)
    assert (
        f"warning: removed the plaintext of an interrupted edit left by process {process.pid} "
        f"at {shown.parent}\n"
    ) in err
    assert not shown.parent.exists()
    assert list(setup.scratch.iterdir()) == []
    assert MARKER not in out + err
    assert setup.file.read_bytes() == before


def test_a_live_edit_is_left_alone(setup: Setup, tmp_path: Path) -> None:
    process, shown = blocked_edit(setup, tmp_path)
    try:
        checked = hakobu(setup, "secret", "check", str(setup.repo))
        _, err = checked.communicate(timeout=60)
        assert checked.returncode == 0, err
        assert "removed" not in err
        assert MARKER in shown.read_text()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert not shown.parent.exists()


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_only_this_users_private_directories_of_gone_processes_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    own = os.getpid()
    started = (Path("/proc") / str(own) / "stat").read_text().rsplit(")", 1)[1].split()[19]
    gone = dead_pid()

    def made(name: str, mode: int = 0o700) -> Path:
        path = tmp_path / name
        path.mkdir(mode=mode)
        path.chmod(mode)
        (path / "items.yaml").write_text(MARKER)
        return path

    live = made(f"{PREFIX}{own}-{started}-live")
    reused = made(f"{PREFIX}{own}-{int(started) - 1}-reused")  # the pid, but an older process
    dead = made(f"{PREFIX}{gone}-1-dead")
    shared = made(f"{PREFIX}{gone}-1-shared", 0o755)  # not a directory mkdtemp made
    stranger = made("elsewhere")
    (tmp_path / f"{PREFIX}{gone}-1-link").symlink_to(stranger)
    unnamed = made(f"{PREFIX}x-1-unnamed")

    mine = os.getuid()
    removed = remove_stale()
    assert {(r.pid, r.path) for r in removed} == {(own, reused), (gone, dead)}
    assert all(path.exists() for path in (live, shared, stranger, unnamed))
    assert (stranger / "items.yaml").read_text() == MARKER

    # Another user's directory: its owner is not the one asking.
    other = made(f"{PREFIX}{gone}-1-other")
    monkeypatch.setattr(os, "getuid", lambda: mine + 1)
    assert remove_stale() == []
    assert other.exists()


def test_an_editor_that_never_writes_valid_text_stops_after_three_attempts(
    setup: Setup,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runs = tmp_path / "runs"
    script = tmp_path / "broken_editor.py"
    # Different text every time, so it is not "saved the error unchanged".
    script.write_text(
        "import pathlib, sys\n"
        f"runs = pathlib.Path({str(runs)!r})\n"
        "count = len(runs.read_text()) if runs.exists() else 0\n"
        "if count > 5:\n"
        "    sys.exit(3)  # stop an edit that would otherwise go on forever\n"
        "runs.write_text('x' * (count + 1))\n"
        f"pathlib.Path(sys.argv[1]).write_text('password: {MARKER}: [' + 'x' * count + '\\n')\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    before = setup.file.read_bytes()
    assert main(list(edit_args(setup))) == 2
    err = capsys.readouterr().err
    assert "the edit did not parse after 3 attempts; nothing was changed" in err
    assert "line 1: not valid YAML: mapping values are not allowed" in err
    assert MARKER not in err
    assert runs.read_text() == "xxx"
    assert setup.file.read_bytes() == before
    assert list(setup.scratch.iterdir()) == []


@pytest.mark.parametrize(
    "written",
    [f"password: !!int {MARKER}\n", f"password: [{MARKER}]\n", f"- {MARKER}\n"],
    ids=["tag", "list-value", "list"],
)
def test_parse_errors_do_not_quote_the_plaintext(
    setup: Setup,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    written: str,
) -> None:
    script = tmp_path / "editor.py"
    script.write_text(f"import pathlib, sys\npathlib.Path(sys.argv[1]).write_text({written!r})\n")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    assert main(list(edit_args(setup))) == 2
    err = capsys.readouterr().err
    assert "nothing was changed" in err
    assert MARKER not in err
