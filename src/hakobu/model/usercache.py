"""Where hakobu keeps what it can compute again: the user's cache directory, never a repository.

A cache inside the project could be committed, and a pull request that commits a crafted
entry would make ``render --check`` trust outputs that no input produces. Caches of a
project therefore live under the user's cache directory, in a folder named by a digest of
the project's real path: a fresh clone in CI starts with none.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def cache_root() -> Path:
    """``$HAKOBU_CACHE_DIR``, else ``$XDG_CACHE_HOME/hakobu``, else ``~/.cache/hakobu``."""
    explicit = os.environ.get("HAKOBU_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hakobu"


def state_root() -> Path:
    """``$XDG_STATE_HOME/hakobu``, else ``~/.local/state/hakobu``: what hakobu keeps that it
    cannot compute again (a local cluster, the clones an agent or controller follows)."""
    xdg = os.environ.get("XDG_STATE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "state") / "hakobu"


def project_cache(root: Path, name: str) -> Path:
    """The cache directory ``name`` (``render``, ``images``) of the project at ``root``."""
    digest = hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:24]
    return cache_root() / "projects" / digest / name


def write_whole(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step a reader cannot see half done: a torn cache
    file must not be mistaken for a valid one. OSError when it cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        temporary.replace(path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
