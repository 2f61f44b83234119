"""What an environment's output holds, without reading every file of it again.

Render compares what it rendered with what the output directory holds. Reading back every
file of a fleet of thousands of instances costs more than rendering the one that changed,
so render keeps a record of what it last wrote or read, as git keeps its index: per app,
the digest of its files and each file's ``lstat`` (inode, size, modification and change
times) with its directory's. An app is taken as holding the recorded files only when every
one of those still matches; any edit, checkout, added or removed file, or link moves at
least one of them (a change time cannot be set back), and the app is read again. A file
changed in the same clock tick as the record was written cannot be told apart by its
times, so files not older than the record are read again too (git's "racily clean" rule).
The record lives in the user's cache (``hakobu.model.usercache``), never in the
repository: a committed record would be trusted input. A record that does not read back as
this module wrote it counts as none.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Collection, Mapping
from pathlib import Path

import orjson

from hakobu.model.files import read_text
from hakobu.model.generated import Scanned, app_names, refuse_strays, scan_app
from hakobu.model.usercache import project_cache, write_whole

_FORMAT = 1

Tree = dict[str, dict[str, str]]
# inode, size, modification time, change time (ns)
_Stat = list[int]


def current_output(
    env_dir: Path, root: Path, desired: Mapping[str, Mapping[str, str]]
) -> tuple[Tree, OutputRecord]:
    """app → file name → content of ``env_dir``, strays refused (``model.generated``),
    reading only the apps the record cannot vouch for: an app whose recorded files are
    unchanged on disk and equal ``desired``'s gets those. The record comes back for
    ``remember_written``, so a render reads it once."""
    strays: list[str] = []
    # First, as it refuses a link on the way to ``env_dir``: nothing below may follow one.
    found_apps = app_names(env_dir, root, strays)
    record = OutputRecord.load(env_dir, root)
    current: Tree = {}
    read: dict[str, dict[str, _Stat | None]] = {}
    # Strings, not Paths: thousands of apps are vouched for, each file by its own lstat.
    env_path = os.fspath(env_dir)
    for app in found_apps:
        wanted = desired.get(app)
        if wanted is not None and record.vouches(env_path, app, _digest(wanted)):
            current[app] = dict(wanted)
            continue
        app_dir = env_dir / app
        found = scan_app(app_dir, root, strays)
        # Taken before the files are read: a file edited meanwhile then fails to match.
        stats = record.stats(app_dir, found)
        current[app] = {name: read_text(path) for name, path in found.items()}
        read[app] = stats
    refuse_strays(Scanned({}, tuple(strays)))
    # An app read because it differs from what was rendered is recorded when it is written.
    if any(files == desired.get(app) for app, files in current.items() if app in read):
        for app, taken in read.items():
            record.note(env_dir / app, current[app], taken)
        record.save()
    return current, record


def remember_written(
    record: OutputRecord,
    env_dir: Path,
    written: Mapping[str, Mapping[str, str]],
    removed: Collection[str],
) -> None:
    """Record that ``written`` apps of ``env_dir`` now hold those files and ``removed``
    apps are gone."""
    for app, files in written.items():
        record.note(env_dir / app, files, record.stats(env_dir / app, files))
    for app in removed:
        record.apps.pop(app, None)
    record.save()


def _digest(files: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return digest.hexdigest()


def _stat(path: str, kind: int) -> _Stat | None:
    # A string, not a Path: this runs for every file of an environment.
    try:
        found = os.lstat(path)
    except OSError:
        return None
    if stat.S_IFMT(found.st_mode) != kind:
        return None
    return [found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns]


class OutputRecord:
    """What an environment's output held when render last wrote or read it."""

    def __init__(
        self, path: Path, env: str, apps: dict[str, dict[str, object]], written_ns: int
    ) -> None:
        self.path = path
        self.env = env
        self.apps = apps
        # Files changed at or after this time may not show it in their times.
        self.written_ns = written_ns

    @classmethod
    def load(cls, env_dir: Path, root: Path) -> OutputRecord:
        # Not resolved: a link would lead out of the project (callers refuse links first).
        relative = env_dir.relative_to(root).as_posix()
        name = hashlib.sha256(relative.encode()).hexdigest()[:24]
        path = project_cache(root, "output") / f"{name}.json"
        try:
            written_ns = path.stat().st_mtime_ns
            data = orjson.loads(path.read_bytes())
            if data.get("format") == _FORMAT and data.get("env") == relative:
                apps = data["apps"]
                if isinstance(apps, dict):
                    return cls(path, relative, apps, written_ns)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        return cls(path, relative, {}, 0)

    def vouches(self, env_dir: str, app: str, digest: str) -> bool:
        entry = self.apps.get(app)
        if not isinstance(entry, dict) or entry.get("digest") != digest:
            return False
        files = entry.get("files")
        directory = f"{env_dir}/{app}"
        if not isinstance(files, dict) or _stat(directory, stat.S_IFDIR) != entry.get("dir"):
            return False
        for name, recorded in files.items():
            now = _stat(f"{directory}/{name}", stat.S_IFREG)
            if now is None or now != recorded or max(now[2], now[3]) >= self.written_ns:
                return False
        return True

    @staticmethod
    def stats(app_dir: Path, names: Collection[str]) -> dict[str, _Stat | None]:
        """The directory's (under ``""``, not a file name) and each file's times."""
        directory = os.fspath(app_dir)
        found = {name: _stat(f"{directory}/{name}", stat.S_IFREG) for name in names}
        return {"": _stat(directory, stat.S_IFDIR), **found}

    def note(
        self, app_dir: Path, files: Mapping[str, str], stats: Mapping[str, _Stat | None]
    ) -> None:
        """Record that ``app_dir`` held ``files`` when it had ``stats`` (from ``stats``)."""
        directory = stats.get("")
        found = {name: stats.get(name) for name in files}
        if directory is None or any(value is None for value in found.values()):
            self.apps.pop(app_dir.name, None)
            return
        self.apps[app_dir.name] = {"digest": _digest(files), "dir": directory, "files": found}

    def save(self) -> None:
        write_whole(
            self.path, orjson.dumps({"format": _FORMAT, "env": self.env, "apps": self.apps})
        )
