"""``hakobu secret edit``: only changed items are sealed again; no plaintext is left behind."""

from __future__ import annotations

import base64
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
from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.secrets.edit import UNREADABLE, changes_between, parse_edited, render_items
from hakobu.secrets.keys import generate_key_pair, load_private_keys
from hakobu.secrets.sealedsecret import reseal_items, seal_secret, unseal


@dataclass(frozen=True)
class Setup:
    file: Path
    key: Path
    cert: Path
    scratch: Path
    sealed: Object


@pytest.fixture
def setup(key_pair: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    key, cert = key_pair
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "prod"},
        "stringData": {"user": "app", "password": "hunter2", "cert": "line 1\nline 2\n"},
        "data": {"blob": base64.b64encode(b"\xff\x00binary").decode()},
    }
    sealed = seal_secret(secret, cert.read_bytes())
    file = tmp_path / "db.yaml"
    file.write_text(yaml.safe_dump(sealed, sort_keys=True))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    # Private files go to TMPDIR when it is set; point it where the test can look.
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.delenv("VISUAL", raising=False)
    return Setup(file, key, cert, scratch, sealed)


def editor(tmp_path: Path, body: str) -> str:
    script = tmp_path / "editor.py"
    script.write_text(
        "import os, pathlib, signal, sys, time\np = pathlib.Path(sys.argv[1])\n" + body
    )
    return f"{sys.executable} {script}"


def edit(setup: Setup, monkeypatch: pytest.MonkeyPatch, editor_command: str) -> int:
    monkeypatch.setenv("EDITOR", editor_command)
    return main(
        ["secret", "edit", str(setup.file), "--key", str(setup.key), "--cert", str(setup.cert)]
    )


def opened(setup: Setup) -> dict[str, bytes]:
    sealed = yaml.safe_load(setup.file.read_text())
    keys = load_private_keys(setup.key.read_bytes(), "key")
    return {k: base64.b64decode(v) for k, v in unseal(sealed, keys)["data"].items()}


def test_changing_one_item_reseals_only_that_item(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    body = "p.write_text(p.read_text().replace('password: hunter2', 'password: s3cret'))\n"
    assert edit(setup, monkeypatch, editor(tmp_path, body)) == 0
    after = yaml.safe_load(setup.file.read_text())["spec"]["encryptedData"]
    before = setup.sealed["spec"]["encryptedData"]
    assert {k for k in before if after[k] == before[k]} == {"user", "cert", "blob"}
    assert after["password"] != before["password"]
    assert opened(setup) == {
        "user": b"app",
        "password": b"s3cret",
        "cert": b"line 1\nline 2\n",
        "blob": b"\xff\x00binary",
    }
    assert list(setup.scratch.iterdir()) == []


def test_adding_and_deleting_items(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    body = (
        "text = p.read_text().replace('user: app\\n', '')\np.write_text(text + 'token: new\\n')\n"
    )
    assert edit(setup, monkeypatch, editor(tmp_path, body)) == 0
    assert set(opened(setup)) == {"password", "cert", "blob", "token"}
    assert opened(setup)["token"] == b"new"


def test_no_change_leaves_the_file_untouched(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = setup.file.read_bytes()
    mtime = setup.file.stat().st_mtime_ns
    # Saved again without a change (an editor that rewrites the file as it is).
    assert edit(setup, monkeypatch, editor(tmp_path, "p.write_text(p.read_text())\n")) == 0
    assert setup.file.read_bytes() == before
    assert setup.file.stat().st_mtime_ns == mtime


def test_the_plaintext_file_is_private_while_the_editor_runs(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    report = tmp_path / "modes"
    body = (
        f"pathlib.Path({str(report)!r}).write_text("
        "f'{p.stat().st_mode & 0o777:o} {p.parent.stat().st_mode & 0o777:o}')\n"
    )
    assert edit(setup, monkeypatch, editor(tmp_path, body)) == 0
    assert report.read_text() == "600 700"


@pytest.mark.parametrize(
    "case",
    [
        ("p.write_text('password: leaked\\n')\nsys.exit(1)\n", "exited with status 1"),
        (
            "p.write_text('password: leaked\\n')\nos.kill(os.getpid(), signal.SIGKILL)\n",
            "killed by SIGKILL",
        ),
    ],
    ids=["exit-1", "sigkill"],
)
def test_a_failing_editor_changes_nothing_and_leaves_no_plaintext(
    setup: Setup,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: tuple[str, str],
) -> None:
    body, message = case
    before = setup.file.read_bytes()
    assert edit(setup, monkeypatch, editor(tmp_path, body)) == 1
    assert message in capsys.readouterr().err
    assert setup.file.read_bytes() == before
    assert list(setup.scratch.iterdir()) == []


def test_invalid_yaml_reopens_the_editor_with_the_error(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    body = (
        "text = p.read_text()\n"
        "if '# error:' in text:\n"
        "    p.write_text(text.replace('password: [', 'password: fixed'))\n"
        "else:\n"
        "    p.write_text(text.replace('password: hunter2', 'password: ['))\n"
    )
    assert edit(setup, monkeypatch, editor(tmp_path, body)) == 0
    assert opened(setup)["password"] == b"fixed"


def test_saving_the_error_unchanged_gives_up(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    body = "p.write_text(p.read_text().replace('password: hunter2', 'password: ['))\n"
    before = setup.file.read_bytes()
    assert edit(setup, monkeypatch, editor(tmp_path, body)) == 2
    assert setup.file.read_bytes() == before
    assert list(setup.scratch.iterdir()) == []


def test_items_no_key_opens_are_kept_unless_deleted(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, foreign_cert = generate_key_pair("other", key_size=2048)
    sealed = reseal_items(setup.sealed, {"foreign": b"unknown"}, foreign_cert)
    setup.file.write_text(yaml.safe_dump(sealed, sort_keys=True))
    seen = tmp_path / "seen"
    body = (
        f"pathlib.Path({str(seen)!r}).write_text(p.read_text())\n"
        "p.write_text(p.read_text().replace('user: app', 'user: admin'))\n"
    )
    assert edit(setup, monkeypatch, editor(tmp_path, body)) == 0
    assert f"foreign: '{UNREADABLE}'" in seen.read_text()
    after = yaml.safe_load(setup.file.read_text())["spec"]["encryptedData"]
    assert after["foreign"] == sealed["spec"]["encryptedData"]["foreign"]

    deleting = (
        "p.write_text(''.join(l for l in p.read_text().splitlines(True) if 'foreign' not in l))\n"
    )
    assert edit(setup, monkeypatch, editor(tmp_path, deleting)) == 0
    assert "foreign" not in yaml.safe_load(setup.file.read_text())["spec"]["encryptedData"]


def _run_in_background(setup: Setup, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    started = tmp_path / "started"
    script = tmp_path / "slow_editor.py"
    script.write_text(
        "import pathlib, sys, time\n"
        f"pathlib.Path({str(started)!r}).write_text(sys.argv[1])\n"
        "time.sleep(60)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "VISUAL"}
    env |= {"EDITOR": f"{sys.executable} {script}", "TMPDIR": str(setup.scratch)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hakobu.cli.main",
            "secret",
            "edit",
            str(setup.file),
            "--key",
            str(setup.key),
            "--cert",
            str(setup.cert),
        ],
        env=env,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    # The file is created before its content is written: wait for the content too.
    while not started.exists() or not started.read_text():
        assert time.monotonic() < deadline, "the editor did not start"
        time.sleep(0.05)
    plaintext = Path(started.read_text())
    assert "hunter2" in plaintext.read_text()
    return process, plaintext


def test_sigterm_stops_the_editor_and_removes_the_plaintext(setup: Setup, tmp_path: Path) -> None:
    before = setup.file.read_bytes()
    process, plaintext = _run_in_background(setup, tmp_path)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert b"SIGTERM" in err
    assert not plaintext.parent.exists()
    assert list(setup.scratch.iterdir()) == []
    assert setup.file.read_bytes() == before


def test_ctrl_c_that_ends_the_editor_abandons_the_edit(setup: Setup, tmp_path: Path) -> None:
    before = setup.file.read_bytes()
    process, plaintext = _run_in_background(setup, tmp_path)
    # A terminal's Ctrl-C goes to the whole foreground process group.
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert not plaintext.parent.exists()
    assert setup.file.read_bytes() == before


def test_render_and_parse_round_trip() -> None:
    items: dict[str, bytes | None] = {
        "text": b"plain",
        "lines": b"a\nb\n",
        "binary": b"\xff\xfe",
        "sealed": None,
    }
    text = render_items("title", items)
    assert "lines: |\n  a\n  b\n" in text
    parsed = parse_edited(text)
    assert parsed is not None
    assert parsed["binary"] == b"\xff\xfe"
    assert parsed["lines"] == b"a\nb\n"
    assert changes_between(items, parsed) == {}


def test_changes_between() -> None:
    original: dict[str, bytes | None] = {"a": b"1", "b": b"2", "sealed": None}
    assert changes_between(original, {"a": b"1", "b": b"3", "sealed": UNREADABLE.encode()}) == {
        "b": b"3"
    }
    assert changes_between(original, {"a": b"1", "c": b"new"}) == {
        "b": None,
        "sealed": None,
        "c": b"new",
    }
    assert changes_between(original, {"a": b"1", "b": b"2", "sealed": b"known now"}) == {
        "sealed": b"known now"
    }


def test_parse_refuses_what_is_not_text() -> None:
    with pytest.raises(InvalidInput, match="quote the value"):
        parse_edited("port: 5432\n")
    with pytest.raises(InvalidInput, match="mapping"):
        parse_edited("- a\n")
    assert parse_edited("# only comments\n") is None
