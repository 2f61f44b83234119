"""Building pinned Go tools: the wrapper module, and failures that explain themselves."""

from __future__ import annotations

import fcntl
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hakobu.errors import OperationFailed
from hakobu.localcluster import controlplane, gobuild
from hakobu.localcluster.toolchain import KUBERNETES, GoTool

UPSTREAM_GO_MOD = """\
module k8s.io/kubernetes

go 1.26.0

godebug default=go1.26

require (
\tgithub.com/blang/semver/v4 v4.0.0
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
\tk8s.io/utils v0.0.0-20260210185600-b8788abfbbc2
)

require (
\tk8s.io/kms v0.0.0 // indirect
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
)
"""


def test_wrapper_replaces_every_staging_module_with_its_published_tag() -> None:
    wrapper = gobuild._wrapper_go_mod(KUBERNETES, UPSTREAM_GO_MOD)
    minor_patch = ".".join(KUBERNETES.version.split(".")[1:])
    assert f"require k8s.io/kubernetes {KUBERNETES.version}" in wrapper
    assert f"\tk8s.io/api => k8s.io/api v0.{minor_patch}" in wrapper
    assert f"\tk8s.io/client-go => k8s.io/client-go v0.{minor_patch}" in wrapper
    # Indirect staging modules need a replace too; pseudo-versions and others do not.
    assert f"\tk8s.io/kms => k8s.io/kms v0.{minor_patch}" in wrapper
    assert "k8s.io/utils =>" not in wrapper
    assert "blang" not in wrapper
    assert "godebug default=go1.26" in wrapper
    assert "go 1.26.0" in wrapper


def test_a_release_without_staging_modules_is_refused() -> None:
    with pytest.raises(OperationFailed, match="no staging modules"):
        gobuild._wrapper_go_mod(KUBERNETES, "module k8s.io/kubernetes\n\ngo 1.26.0\n")


def test_missing_go_toolchain_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    tool = GoTool("example", "example.com/tool", "v1.0.0", (("tool", "example.com/tool"),))
    with pytest.raises(OperationFailed) as failed:
        gobuild.ensure_tool(tool, lambda _: None, root=tmp_path)
    assert "Go toolchain was not found" in failed.value.message
    assert failed.value.hint is not None
    assert "go version" in failed.value.hint


def test_failed_module_download_names_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOPROXY", "off")
    monkeypatch.setenv("GOMODCACHE", str(tmp_path / "modcache"))
    tool = GoTool(
        "missing", "example.invalid/missing", "v9.9.9", (("m", "example.invalid/missing"),)
    )
    with pytest.raises(OperationFailed) as failed:
        gobuild.ensure_tool(tool, lambda _: None, root=tmp_path)
    assert "downloading example.invalid/missing@v9.9.9 failed" in failed.value.message
    assert "GOPROXY=off" in failed.value.message
    assert not (tmp_path / "tools" / tool.key / ".complete").exists()


def test_a_build_announces_each_phase_its_caches_and_its_timings(tmp_path: Path) -> None:
    # A small real module, built exactly as the control plane's tools are.
    tool = GoTool(
        "go-md2man",
        "github.com/cpuguy83/go-md2man/v2",
        "v2.0.6",
        (("go-md2man", "github.com/cpuguy83/go-md2man/v2"),),
    )
    lines: list[str] = []
    built = controlplane.ensure_binaries(lines.append, tools=(tool,), root=tmp_path)["go-md2man"]
    text = "\n".join(lines)
    directory = tmp_path / "tools" / tool.key
    assert lines[0] == (
        "first run: building go-md2man v2.0.6 with Go; this takes several minutes once, "
        "later runs reuse the binaries"
    )
    assert "building go-md2man v2.0.6 from source (first use only): binaries go to " in text
    assert str(directory / "bin") in text
    assert str(directory / "build.log") in text
    assert "Go modules are cached in " in text
    assert "compiled packages in " in text
    phases = [line for line in lines if line.startswith("go-md2man: ")]
    assert phases[0] == (
        "go-md2man: downloading github.com/cpuguy83/go-md2man/v2@v2.0.6 (go mod download)"
    )
    assert phases[1].startswith(
        "go-md2man: downloading github.com/cpuguy83/go-md2man/v2@v2.0.6 done in "
    )
    assert phases[2] == "go-md2man: resolving and downloading Go modules (go mod tidy)"
    assert phases[3].startswith("go-md2man: resolving and downloading Go modules done in ")
    assert phases[4] == "go-md2man: compiling go-md2man (go build)"
    # Packages come from the shared build cache when an earlier run compiled them.
    done = r"go-md2man: compiling go-md2man done in \d+s(, \d+ packages compiled)?"
    assert re.fullmatch(done, phases[5])
    assert lines[-2].startswith("built go-md2man v2.0.6 in ")
    assert re.fullmatch(r"control-plane binaries ready in \d+s", lines[-1])
    assert gobuild.is_built(tool, tmp_path)
    log = (directory / "build.log").read_text()
    assert "go mod tidy\n" in log
    assert "go build -v -trimpath" in log
    version = subprocess.run(
        [built.binary("go-md2man"), "-h"], capture_output=True, text=True, check=False
    )
    assert "-in" in version.stderr + version.stdout
    # A built tool is not announced again.
    again: list[str] = []
    controlplane.ensure_binaries(again.append, tools=(tool,), root=tmp_path)
    assert again == []


def test_a_long_phase_beats_with_what_it_has_done_so_far(tmp_path: Path) -> None:
    lines: list[str] = []
    run = gobuild._Runner(lines.append, 0.2, tmp_path / "build.log")
    tmp_path.joinpath("build.log").write_text("")
    # A real process that takes its time, announcing modules as `go mod tidy` does.
    script = (
        "import sys, time\n"
        "for n in range(3):\n"
        "    print(f'go: downloading example.com/m{n} v1.0.{n}', file=sys.stderr, flush=True)\n"
        "    time.sleep(0.5)\n"
    )
    phase = gobuild._Phase("resolving modules", "demo", gobuild._MODULE_FETCHED, "modules")
    started = time.monotonic()
    run([sys.executable, "-c", script], tmp_path, {}, phase)
    assert time.monotonic() - started < 5
    beats = [line for line in lines if line.startswith("demo: still resolving modules (")]
    assert len(beats) >= 3
    so_far = r"\d modules so far, latest example\.com/m\d v1\.0\.\d"
    assert re.fullmatch(rf"demo: still resolving modules \(\d+s; {so_far}\)", beats[-1])
    assert lines[-1].startswith("demo: resolving modules done in ")
    assert lines[-1].endswith(", 3 modules")
    # The heartbeat stops with the phase.
    time.sleep(0.5)
    assert lines[-1].startswith("demo: resolving modules done in ")
    assert "go: downloading example.com/m2 v1.0.2" in (tmp_path / "build.log").read_text()


def test_a_failed_phase_shows_go_messages_without_the_progress_lines(tmp_path: Path) -> None:
    lines: list[str] = []
    run = gobuild._Runner(lines.append, 30.0, tmp_path / "build.log")
    tmp_path.joinpath("build.log").write_text("")
    script = (
        "import sys\n"
        "print('example.com/ok', file=sys.stderr)\n"
        "print('# example.com/broken', file=sys.stderr)\n"
        "print('broken.go:3:1: syntax error', file=sys.stderr)\n"
        "print('example.com/other', file=sys.stderr)\n"
        "sys.exit(1)\n"
    )
    phase = gobuild._Phase("compiling tool", "demo", gobuild._PACKAGE_BUILT, "packages")
    with pytest.raises(OperationFailed) as failed:
        run([sys.executable, "-c", script], tmp_path, {}, phase)
    # Package names printed around the error are progress, not part of the message.
    assert failed.value.message.startswith("compiling tool failed (go ")
    assert failed.value.message.endswith("):\n# example.com/broken\nbroken.go:3:1: syntax error")
    assert lines[-1].startswith("demo: compiling tool failed in ")


def test_a_build_that_waits_for_another_says_so(tmp_path: Path) -> None:
    tool = GoTool("example", "example.com/tool", "v1.0.0", (("tool", "example.com/tool"),))
    directory = tmp_path / "tools" / tool.key
    directory.mkdir(parents=True)
    lines: list[str] = []
    with (directory / ".lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        waiter = threading.Thread(target=gobuild.ensure_tool, args=(tool, lines.append, tmp_path))
        waiter.start()
        deadline = time.monotonic() + 10
        while not lines and time.monotonic() < deadline:
            time.sleep(0.01)
        # The other process finishes: the waiting one uses its build instead of repeating it.
        (directory / ".complete").write_text("v1.0.0\n")
        fcntl.flock(held, fcntl.LOCK_UN)
    waiter.join(10)
    assert not waiter.is_alive()
    assert lines == [f"waiting for another process that is building example into {directory}"]
