"""Replace an environment's output directory whole: a reader sees the old tree or the new.

A render killed midway must not leave an environment half old and half new (a new
ConfigMap beside an old Deployment still carrying the old checksum). The new tree is built
complete beside the old one, in a hidden directory of the output directory, and the two are
swapped by one ``renameat2(RENAME_EXCHANGE)``: atomic on the file systems Linux offers for
work trees. Where the file system cannot exchange, the old tree is first renamed aside and
the new one into place; a render killed between the two leaves the finished new tree marked
ready, and the next run puts it in place. Leftovers of killed renders (partial trees, old
trees swapped out) carry a name only this module makes and are removed by the next write.

Files unchanged since the last render are hard links to the old tree's files rather than
copies, so an incremental render of a large environment writes only what changed.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from pathlib import Path

# app name → file name → content
Tree = dict[str, dict[str, str]]

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def replace_environment(env_dir: Path, desired: Tree, unchanged: set[str]) -> None:
    """Make ``env_dir`` hold exactly ``desired``; ``unchanged`` (``app/file``) may be linked."""
    output = env_dir.parent
    output.mkdir(parents=True, exist_ok=True)
    recover(env_dir)
    building = Path(tempfile.mkdtemp(dir=output, prefix=_prefix(env_dir, "partial")))
    try:
        _build(building, env_dir, desired, unchanged)
        ready = building.with_name(building.name.replace(".partial-", ".ready-", 1))
        building.rename(ready)
        building = ready
        if env_dir.exists():
            _exchange(building, env_dir)
        else:
            building.rename(env_dir)
    finally:
        # After an exchange this is the old tree; after a failure, the unfinished new one.
        shutil.rmtree(building, ignore_errors=True)


def recover(env_dir: Path) -> None:
    """Finish or undo what a killed write of ``env_dir`` left behind."""
    output = env_dir.parent
    if not output.is_dir():
        return
    leftovers = sorted(output.glob(f".{env_dir.name}.*-*"))
    for path in leftovers:
        if path.name.startswith(_prefix(env_dir, "ready")) and not env_dir.exists():
            # Killed between moving the old tree aside and the new one in: the new one is
            # complete (it is renamed ready only once written), so it goes in place.
            path.rename(env_dir)
        elif path.name.startswith(
            tuple(_prefix(env_dir, stage) for stage in ("partial", "ready", "old"))
        ):
            shutil.rmtree(path, ignore_errors=True)


def _build(target: Path, old: Path, desired: Tree, unchanged: set[str]) -> None:
    target.chmod(0o755)
    for app, files in desired.items():
        directory = target / app
        directory.mkdir(mode=0o755)
        for name, content in files.items():
            if f"{app}/{name}" in unchanged and _link(old / app / name, directory / name):
                continue
            path = directory / name
            with path.open("x", encoding="utf-8") as handle:
                handle.write(content)
            path.chmod(0o644)


def _link(source: Path, target: Path) -> bool:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        return False
    return True


def _exchange(new: Path, current: Path) -> None:
    try:
        _renameat2(new, current)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOSYS, errno.EPERM):
            raise
        aside = current.with_name(f"{_prefix(current, 'old')}{new.name.rsplit('-', 1)[-1]}")
        current.rename(aside)
        new.rename(current)
        # The caller removes ``new``: it is now the old tree.
        aside.rename(new)


def _renameat2(first: Path, second: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "renameat2"):
        raise OSError(errno.ENOSYS, "renameat2 is not available", str(first))
    result = libc.renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(first))


def _prefix(env_dir: Path, stage: str) -> str:
    return f".{env_dir.name}.{stage}-"
