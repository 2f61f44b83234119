"""Build pinned Go tools into a versioned cache directory, once.

A tool is built through a small wrapper module that requires the tool's module at its pinned
version; for k8s.io/kubernetes the wrapper also replaces every staging module with its
published tag, read from the release's own go.mod. All binaries of a tool come from one
``go build`` so shared packages compile once. A finished build is marked complete only after
every binary is in place, so an interrupted build is redone rather than half-used.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hakobu.errors import OperationFailed
from hakobu.localcluster.toolchain import GoTool
from hakobu.model.usercache import cache_root

Progress = Callable[[str], None]

_COMPLETE_MARKER = ".complete"
_STAGING_REQUIRE = re.compile(r"^\s*(k8s\.io/[\w./-]+)\s+v0\.0\.0\s*(?://.*)?$", re.MULTILINE)
_GO_DIRECTIVE = re.compile(r"^go\s+(\S+)\s*$", re.MULTILINE)
_GODEBUG_DIRECTIVE = re.compile(r"^godebug\s+.+$", re.MULTILINE)
_NETWORK_SIGNS = ("dial tcp", "proxy", "i/o timeout", "no such host", "connection refused")


@dataclass(frozen=True)
class BuiltTool:
    """Where a tool's binaries (and any data files it ships) are."""

    tool: GoTool
    directory: Path

    def binary(self, name: str) -> Path:
        return self.directory / "bin" / name


def ensure_tool(tool: GoTool, progress: Progress, root: Path | None = None) -> BuiltTool:
    """Return the built tool, building it first if the cache does not hold it yet."""
    directory = (root or cache_root()) / "tools" / tool.key
    built = BuiltTool(tool, directory)
    if (directory / _COMPLETE_MARKER).exists():
        return built
    directory.mkdir(parents=True, exist_ok=True)
    with _exclusive(directory / ".lock"):
        # Another process may have finished the build while this one waited for the lock.
        if (directory / _COMPLETE_MARKER).exists():
            return built
        go = _find_go()
        started = time.monotonic()
        progress(f"building {tool.name} {tool.version} (first use only; cached in {directory})")
        _build(tool, go, directory)
        progress(f"built {tool.name} {tool.version} in {time.monotonic() - started:.0f}s")
        (directory / _COMPLETE_MARKER).write_text(tool.version + "\n")
    return built


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _find_go() -> str:
    go = shutil.which("go")
    if go is None:
        raise OperationFailed(
            "the Go toolchain was not found on PATH; it is needed once to build the local "
            "Kubernetes control plane",
            hint="install Go 1.26 or newer and make sure `go version` works, then run again",
        )
    return go


def _build(tool: GoTool, go: str, directory: Path) -> None:
    workdir = directory / "src"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    log = directory / "build.log"
    log.write_text("")
    env = _go_env()

    downloaded = _run_json(
        [go, "mod", "download", "-json", f"{tool.module}@{tool.version}"], workdir, env, log
    )
    (workdir / "go.mod").write_text(_wrapper_go_mod(tool, Path(downloaded["GoMod"]).read_text()))
    imports = "\n".join(f'\t_ "{package}"' for _, package in tool.binaries)
    (workdir / "tools.go").write_text(
        f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n"
    )
    _run([go, "mod", "tidy"], workdir, env, log, what="resolving Go modules")

    staging = directory / "bin.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    command = [go, "build", "-trimpath"]
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
    _run(command, workdir, env, log, what="compiling")
    for name, _ in tool.binaries:
        if not (staging / name).is_file():
            raise OperationFailed(f"building {tool.name} did not produce {name}; see {log}")

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


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CGO_ENABLED"] = "0"
    # Never let the go command fetch another toolchain behind the user's back.
    env["GOTOOLCHAIN"] = "local"
    env["GOFLAGS"] = "-mod=mod -buildvcs=false"
    return env


def _exec(
    command: list[str], cwd: Path, env: dict[str, str], log: Path
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    with log.open("a") as handle:
        handle.write(f"$ {' '.join(command)}\n{result.stderr}")
    return result


def _run(command: list[str], cwd: Path, env: dict[str, str], log: Path, *, what: str) -> str:
    result = _exec(command, cwd, env, log)
    if result.returncode != 0:
        raise _build_failure(what, command, result.stderr, log)
    return result.stdout


def _run_json(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> dict[str, str]:
    # `go mod download -json` reports a failure inside its JSON output, not on stderr.
    result = _exec(command, cwd, env, log)
    try:
        data: dict[str, str] = json.loads(result.stdout)
    except json.JSONDecodeError:
        data = {"Error": result.stderr or result.stdout}
    if result.returncode != 0 or "Error" in data:
        raise _build_failure("downloading Go modules", command, data.get("Error", ""), log)
    return data


def _build_failure(what: str, command: list[str], stderr: str, log: Path) -> OperationFailed:
    tail = "\n".join(stderr.strip().splitlines()[-8:])
    if "requires go >=" in stderr or ("toolchain" in stderr and "GOTOOLCHAIN" in stderr):
        hint = "this Go is too old for the pinned release; install the Go version named above"
    elif any(sign in stderr for sign in _NETWORK_SIGNS):
        hint = "the Go module proxy could not be reached; check GOPROXY and the network"
    else:
        hint = f"the full output is in {log}"
    return OperationFailed(f"{what} failed ({command[1]} {command[2]}):\n{tail}", hint=hint)
