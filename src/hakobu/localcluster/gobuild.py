"""Build pinned Go tools into a versioned cache directory, once.

A tool is built through a small wrapper module that requires the tool's module at its pinned
version; for k8s.io/kubernetes the wrapper also replaces every staging module with its
published tag, read from the release's own go.mod. All binaries of a tool come from one
``go build`` so shared packages compile once. A finished build is marked complete only after
every binary is in place, so an interrupted build is redone rather than half-used.

A first build takes minutes, so each ``go`` phase is announced, timed, and while it runs a
heartbeat line every half minute says what is still going on: one line each, as
CI logs need. The go command's own output is appended to ``build.log`` as it arrives.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hakobu.errors import OperationFailed
from hakobu.localcluster.toolchain import GoTool
from hakobu.model.usercache import cache_root

Progress = Callable[[str], None]

_COMPLETE_MARKER = ".complete"
_STAGING_REQUIRE = re.compile(r"^\s*(k8s\.io/[\w./-]+)\s+v0\.0\.0\s*(?://.*)?$", re.MULTILINE)
_GO_DIRECTIVE = re.compile(r"^go\s+(\S+)\s*$", re.MULTILINE)
_GODEBUG_DIRECTIVE = re.compile(r"^godebug\s+.+$", re.MULTILINE)
_NETWORK_SIGNS = ("dial tcp", "proxy", "i/o timeout", "no such host", "connection refused")
_HEARTBEAT_SECONDS = 30.0


@dataclass(frozen=True)
class _Phase:
    """One ``go`` invocation as the user sees it: what it does, and which of its stderr
    lines mark progress (their first group names the item: a module, a package)."""

    doing: str
    tool: str
    marks: re.Pattern[str] | None = None
    counted: str = ""


# `go mod tidy` announces each module it fetches; `go build -v` names each package it builds.
_MODULE_FETCHED = re.compile(r"^go: downloading (\S+ \S+)$")
_PACKAGE_BUILT = re.compile(r"^([\w.~-]+(?:/[\w.~+-]+)*)$")


@dataclass(frozen=True)
class BuiltTool:
    """Where a tool's binaries (and any data files it ships) are."""

    tool: GoTool
    directory: Path

    def binary(self, name: str) -> Path:
        return self.directory / "bin" / name


def is_built(tool: GoTool, root: Path | None = None) -> bool:
    return (_tool_directory(tool, root) / _COMPLETE_MARKER).exists()


def _tool_directory(tool: GoTool, root: Path | None) -> Path:
    return (root or cache_root()) / "tools" / tool.key


def ensure_tool(tool: GoTool, progress: Progress, root: Path | None = None) -> BuiltTool:
    """Return the built tool, building it first if the cache does not hold it yet."""
    directory = _tool_directory(tool, root)
    built = BuiltTool(tool, directory)
    if is_built(tool, root):
        return built
    directory.mkdir(parents=True, exist_ok=True)
    waiting = f"waiting for another process that is building {tool.name} into {directory}"
    with _exclusive(directory / ".lock", lambda: progress(waiting)):
        # Another process may have finished the build while this one waited for the lock.
        if (directory / _COMPLETE_MARKER).exists():
            return built
        go = find_go()
        started = time.monotonic()
        env = go_env()
        progress(
            f"building {tool.name} {tool.version} from source (first use only): "
            f"binaries go to {directory / 'bin'}, go output to {directory / 'build.log'}"
        )
        progress(_go_caches(go, env))
        _build(
            tool, go, directory, env, _Runner(progress, _HEARTBEAT_SECONDS, directory / "build.log")
        )
        progress(f"built {tool.name} {tool.version} in {_duration(time.monotonic() - started)}")
        (directory / _COMPLETE_MARKER).write_text(tool.version + "\n")
    return built


def _go_caches(go: str, env: dict[str, str]) -> str:
    # Said up front because these caches, not hakobu's, are what makes a second build fast.
    result = subprocess.run(
        [go, "env", "GOVERSION", "GOMODCACHE", "GOCACHE"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = result.stdout.splitlines()
    if result.returncode != 0 or len(lines) != 3:
        return "using the go command's default module and build caches"
    version, modules, builds = lines
    return f"using {version}; Go modules are cached in {modules}, compiled packages in {builds}"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{rest}s"


@contextmanager
def _exclusive(lock_path: Path, on_wait: Callable[[], None]) -> Iterator[None]:
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def find_go() -> str:
    go = shutil.which("go")
    if go is None:
        raise OperationFailed(
            "the Go toolchain was not found on PATH; it is needed once to build the local "
            "Kubernetes control plane",
            hint="install Go 1.26 or newer and make sure `go version` works, then run again",
        )
    return go


def _build(tool: GoTool, go: str, directory: Path, env: dict[str, str], run: _Runner) -> None:
    workdir = directory / "src"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    run.log.write_text("")

    downloaded = run.json(
        [go, "mod", "download", "-json", f"{tool.module}@{tool.version}"],
        workdir,
        env,
        _Phase(f"downloading {tool.module}@{tool.version}", tool.name),
    )
    (workdir / "go.mod").write_text(_wrapper_go_mod(tool, Path(downloaded["GoMod"]).read_text()))
    imports = "\n".join(f'\t_ "{package}"' for _, package in tool.binaries)
    (workdir / "tools.go").write_text(
        f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n"
    )
    run(
        [go, "mod", "tidy"],
        workdir,
        env,
        _Phase("resolving and downloading Go modules", tool.name, _MODULE_FETCHED, "modules"),
    )

    staging = directory / "bin.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    command = [go, "build", "-v", "-trimpath"]
    if tool.tags:
        command += ["-tags", ",".join(tool.tags)]
    if tool.ldflags:
        command += ["-ldflags", " ".join(tool.ldflags)]
    if len(tool.binaries) == 1:
        (name, package), *_ = tool.binaries
        command += ["-o", str(staging / name), package]
    else:
        # One invocation for all binaries: shared packages compile once, links run in parallel.
        command += ["-o", str(staging) + os.sep, *(package for _, package in tool.binaries)]
    names = ", ".join(name for name, _ in tool.binaries)
    run(
        command,
        workdir,
        env,
        _Phase(f"compiling {names}", tool.name, _PACKAGE_BUILT, "packages compiled"),
    )
    for name, _ in tool.binaries:
        if not (staging / name).is_file():
            raise OperationFailed(f"building {tool.name} did not produce {name}; see {run.log}")

    if tool.data_files:
        _write_data_files(tool, Path(downloaded["Dir"]), staging / "stages.yaml")
    final = directory / "bin"
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)


def _wrapper_go_mod(tool: GoTool, upstream_go_mod: str) -> str:
    go_version = _GO_DIRECTIVE.search(upstream_go_mod)
    lines = [f"module hakobu.local/build/{tool.name}", ""]
    lines += [f"go {go_version.group(1) if go_version else '1.22'}", ""]
    godebug = _GODEBUG_DIRECTIVE.search(upstream_go_mod)
    if godebug:
        lines += [godebug.group(0), ""]
    lines += [f"require {tool.module} {tool.version}", ""]
    if tool.replace_staging:
        staging_tag = "v0." + ".".join(tool.version.removeprefix("v").split(".")[1:])
        modules = sorted(set(_STAGING_REQUIRE.findall(upstream_go_mod)))
        if not modules:
            raise OperationFailed(
                f"{tool.module} {tool.version} lists no staging modules at v0.0.0; "
                "the wrapper module cannot be generated for this release"
            )
        lines.append("replace (")
        lines += [f"\t{module} => {module} {staging_tag}" for module in modules]
        lines.append(")")
    return "\n".join(lines) + "\n"


def _write_data_files(tool: GoTool, module_dir: Path, target: Path) -> None:
    documents = [(module_dir / relative).read_text().strip() for relative in tool.data_files]
    target.write_text("\n---\n".join(documents) + "\n")


def go_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CGO_ENABLED"] = "0"
    # Never let the go command fetch another toolchain behind the user's back.
    env["GOTOOLCHAIN"] = "local"
    env["GOFLAGS"] = "-mod=mod -buildvcs=false"
    return env


class _Runner:
    """Runs one phase of a build: announces it, relays heartbeats, times it, logs its output."""

    def __init__(self, progress: Progress, heartbeat: float, log: Path) -> None:
        self.progress = progress
        self.heartbeat = heartbeat
        self.log = log

    def __call__(self, command: list[str], cwd: Path, env: dict[str, str], phase: _Phase) -> str:
        stdout, messages, returncode = self._exec(command, cwd, env, phase)
        if returncode != 0:
            raise _build_failure(phase.doing, command, "\n".join(messages), self.log)
        return stdout

    def json(
        self, command: list[str], cwd: Path, env: dict[str, str], phase: _Phase
    ) -> dict[str, str]:
        # `go mod download -json` reports a failure inside its JSON output, not on stderr.
        stdout, messages, returncode = self._exec(command, cwd, env, phase)
        try:
            data: dict[str, str] = json.loads(stdout)
        except json.JSONDecodeError:
            data = {"Error": "\n".join(messages) or stdout}
        if returncode != 0 or "Error" in data:
            raise _build_failure(phase.doing, command, data.get("Error", ""), self.log)
        return data

    def _exec(
        self, command: list[str], cwd: Path, env: dict[str, str], phase: _Phase
    ) -> tuple[str, list[str], int]:
        """Run to the end; return stdout, the stderr lines that are not progress marks,
        and the exit status."""
        self.progress(f"{phase.tool}: {phase.doing} (go {_subcommand(command)})")
        started = time.monotonic()
        count, latest, messages = 0, "", []
        finished = threading.Event()

        def beat() -> None:
            while not finished.wait(self.heartbeat):
                so_far = f"; {count} {phase.counted} so far, latest {latest}" if count else ""
                elapsed = _duration(time.monotonic() - started)
                self.progress(f"{phase.tool}: still {phase.doing} ({elapsed}{so_far})")

        with (
            self.log.open("a") as log,
            subprocess.Popen(
                command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            ) as process,
        ):
            log.write(f"$ {' '.join(command)}\n")
            # stdout is read on a thread so that neither pipe can fill up and stall go.
            collected: list[str] = []
            reader = threading.Thread(target=_read_into, args=(process.stdout, collected))
            heart = threading.Thread(target=beat, daemon=True)
            reader.start()
            heart.start()
            try:
                for line in process.stderr or ():
                    log.write(line)
                    log.flush()
                    mark = phase.marks.match(line.rstrip("\n")) if phase.marks else None
                    if mark:
                        count, latest = count + 1, mark.group(1)
                    else:
                        messages.append(line.rstrip("\n"))
                returncode = process.wait()
            finally:
                finished.set()
                reader.join()
                heart.join()
        outcome = "done" if returncode == 0 else "failed"
        counted = f", {count} {phase.counted}" if count else ""
        elapsed = _duration(time.monotonic() - started)
        self.progress(f"{phase.tool}: {phase.doing} {outcome} in {elapsed}{counted}")
        return "".join(collected), messages, returncode


def _read_into(pipe: IO[str] | None, into: list[str]) -> None:
    if pipe is not None:
        into.append(pipe.read())


def _build_failure(what: str, command: list[str], stderr: str, log: Path) -> OperationFailed:
    tail = "\n".join(stderr.strip().splitlines()[-8:])
    if "requires go >=" in stderr or ("toolchain" in stderr and "GOTOOLCHAIN" in stderr):
        hint = "this Go is too old for the pinned release; install the Go version named above"
    elif any(sign in stderr for sign in _NETWORK_SIGNS):
        hint = "the Go module proxy could not be reached; check GOPROXY and the network"
    else:
        hint = f"the full output is in {log}"
    return OperationFailed(f"{what} failed (go {_subcommand(command)}):\n{tail}", hint=hint)


def _subcommand(command: list[str]) -> str:
    return " ".join(word for word in command[1:3] if not word.startswith("-"))
