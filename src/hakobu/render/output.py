"""Write an environment's output app by app: a reader sees each app's old files or its new.

A render killed midway must not leave an app half old and half new (a new ConfigMap beside
an old Deployment still carrying the old checksum), and writing a fleet of thousands of
apps must cost what changed, not the environment's size. So only the apps whose files
change are written: each one's new directory is built complete in a hidden staging
directory beside the environment's (unchanged files hard-linked from the old directory),
then swapped with the old directory by one ``renameat2(RENAME_EXCHANGE)``; an app that
left the environment is moved out into the staging directory. The staging directory holds
a journal (each new directory's inode, the apps to remove) and is renamed ready once
complete, so a render killed after that point is finished by the next one (``recover``)
and one killed before it leaves the output untouched. Where the file system cannot
exchange, the old directory is first moved aside and the new one into place.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

# app name → file name → content
Tree = dict[str, dict[str, str]]

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_JOURNAL = "journal.json"


def update_environment(
    env_dir: Path, changed: Mapping[str, Mapping[str, str]], removed: Collection[str]
) -> None:
    """Give each app of ``changed`` exactly its files and remove the apps of ``removed``;
    every other app of ``env_dir`` stays as it is."""
    output = env_dir.parent
    output.mkdir(parents=True, exist_ok=True)
    recover(env_dir)
    if not env_dir.exists():
        env_dir.mkdir(mode=0o755)
    staging = Path(tempfile.mkdtemp(dir=output, prefix=_prefix(env_dir, "partial")))
    try:
        (staging / "new").mkdir()
        (staging / "old").mkdir()
        inodes = {
            app: _build(staging / "new" / app, env_dir / app, files)
            for app, files in changed.items()
        }
        journal = {"apps": inodes, "remove": sorted(set(removed) - set(changed))}
        (staging / _JOURNAL).write_text(json.dumps(journal, sort_keys=True))
        ready = staging.with_name(staging.name.replace(".partial-", ".ready-", 1))
        staging.rename(ready)
        staging = ready
        _apply(staging, env_dir, journal)
    finally:
        # After the swaps it holds the old directories; after a failure, unfinished new ones.
        shutil.rmtree(staging, ignore_errors=True)


def recover(env_dir: Path) -> None:
    """Finish what a killed write of ``env_dir`` had made ready, remove what it had not."""
    output = env_dir.parent
    if not output.is_dir():
        return
    for path in sorted(output.glob(f".{env_dir.name}.*-*")):
        if not path.name.startswith(tuple(_prefix(env_dir, s) for s in ("partial", "ready"))):
            continue
        if path.name.startswith(_prefix(env_dir, "ready")) and env_dir.is_dir():
            try:
                journal = json.loads((path / _JOURNAL).read_text())
            except (OSError, ValueError):
                journal = None
            if isinstance(journal, dict):
                _apply(path, env_dir, journal)
        shutil.rmtree(path, ignore_errors=True)


def _apply(staging: Path, env_dir: Path, journal: Mapping[str, object]) -> None:
    """Put every staged app in place and move every removed one out; a second run after a
    partial one does only what is left, since an app in place is known by its inode."""
    apps = journal.get("apps")
    remove = journal.get("remove")
    if not isinstance(apps, dict) or not isinstance(remove, list):
        return
    for app, inode in sorted(apps.items()):
        _put(staging, env_dir, str(app), inode)
    for app in remove:
        current = env_dir / str(app)
        if current.is_dir() and not current.is_symlink():
            current.rename(staging / "old" / str(app))


def _put(staging: Path, env_dir: Path, app: str, inode: object) -> None:
    new, current = staging / "new" / app, env_dir / app
    try:
        found = os.lstat(current).st_ino
    except FileNotFoundError:
        new.rename(current)
        return
    if found == inode:
        return
    try:
        _renameat2(new, current)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOSYS, errno.EPERM):
            raise
        current.rename(staging / "old" / app)
        new.rename(current)


def _build(target: Path, old: Path, files: Mapping[str, str]) -> int:
    """Write ``files`` into the new directory ``target``, linking those whose bytes ``old``
    already holds; its inode, by which the journal knows it."""
    target.mkdir(mode=0o755)
    for name, content in files.items():
        path = target / name
        if _same(old / name, content) and _link(old / name, path):
            continue
        with path.open("x", encoding="utf-8") as handle:
            handle.write(content)
        path.chmod(0o644)
    return os.lstat(target).st_ino


def _same(path: Path, content: str) -> bool:
    try:
        if path.is_symlink() or not path.is_file():
            return False
        return path.read_bytes() == content.encode()
    except OSError:
        return False


def _link(source: Path, target: Path) -> bool:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        return False
    return True


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
