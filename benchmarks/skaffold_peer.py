"""Skaffold, built once from its Go module, as the image-tag benchmark's peer.

``go install github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold@VERSION`` cannot be
used: it asks the module proxy for the module's list of versions (to check for a
deprecation notice), which the proxy refuses for this module, while the pinned version
itself is served. So the pinned module is downloaded (``go mod download``) and built in
its own directory, with its own go.mod (whose replace directives a wrapper module would
lose) and go.sum. The binary is cached under ``~/.cache/hakobu/tools/skaffold-VERSION``;
a build is given at most 15 minutes and its output goes to ``build.log`` there.

    python benchmarks/skaffold_peer.py     # build it now (the benchmark does so too)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from hakobu.model.usercache import cache_root

SKAFFOLD_MODULE = "github.com/GoogleContainerTools/skaffold/v2"
SKAFFOLD_VERSION = "v2.16.1"
BUILD_SECONDS = 15 * 60
_COMPLETE = ".complete"


class NotBuilt(Exception):
    """Why Skaffold could not be built here."""


def directory() -> Path:
    return cache_root() / "tools" / f"skaffold-{SKAFFOLD_VERSION}"


def ensure_skaffold(progress: Callable[[str], None] = print) -> Path:
    """The Skaffold binary, built first if the cache does not hold it; ``NotBuilt`` says
    why when it cannot be built."""
    home = directory()
    binary = home / "bin" / "skaffold"
    if (home / _COMPLETE).exists() and binary.is_file():
        return binary
    go = shutil.which("go")
    if go is None:
        raise NotBuilt("the Go toolchain is not on PATH")
    home.mkdir(parents=True, exist_ok=True)
    log = home / "build.log"
    env = dict(os.environ, CGO_ENABLED="0", GOTOOLCHAIN="local", GOFLAGS="-mod=readonly")
    started = time.monotonic()
    progress(f"building skaffold {SKAFFOLD_VERSION} (first use only, up to 15 minutes)")
    with log.open("w") as out:
        downloaded = _go(
            [go, "mod", "download", "-json", f"{SKAFFOLD_MODULE}@{SKAFFOLD_VERSION}"],
            home,
            env,
            out,
            BUILD_SECONDS,
        )
        try:
            source = Path(json.loads(downloaded)["Dir"])
        except (json.JSONDecodeError, KeyError) as error:
            raise NotBuilt(
                f"`go mod download` did not give the module's directory: {log}"
            ) from error
        partial = home / "bin.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        ldflags = f"-s -w -X {SKAFFOLD_MODULE}/pkg/skaffold/version.version={SKAFFOLD_VERSION}"
        remaining = BUILD_SECONDS - (time.monotonic() - started)
        _go(
            [
                go,
                "build",
                "-trimpath",
                "-ldflags",
                ldflags,
                "-o",
                str(partial / "skaffold"),
                "./cmd/skaffold",
            ],
            source,
            env,
            out,
            remaining,
        )
    shutil.rmtree(home / "bin", ignore_errors=True)
    partial.rename(home / "bin")
    (home / _COMPLETE).write_text(SKAFFOLD_VERSION + "\n")
    progress(f"built skaffold in {time.monotonic() - started:.0f}s")
    return binary


def _go(command: list[str], cwd: Path, env: dict[str, str], log: IO[str], seconds: float) -> str:
    log.write(f"$ {' '.join(command)}\n")
    log.flush()
    try:
        done = subprocess.run(
            command,
            check=False,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=max(seconds, 1),
        )
    except subprocess.TimeoutExpired as error:
        raise NotBuilt(f"`go {command[1]}` did not finish within the 15 minutes allowed") from error
    log.write(done.stderr)
    if done.returncode != 0:
        tail = " / ".join(done.stderr.strip().splitlines()[-3:])
        raise NotBuilt(f"`go {command[1]}` failed: {tail}")
    return done.stdout


if __name__ == "__main__":
    try:
        print(ensure_skaffold())
    except NotBuilt as error:
        sys.exit(f"skaffold could not be built: {error}")
