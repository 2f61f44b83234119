"""Apps found in sync, remembered so that the next read of the cluster need not compare them.

Whether an app's live objects are what git asks for is a pure function of its manifests, of
the live objects and of the environment's ``ignoreDifferences`` (``plan``, ``compare``). A
live object's uid and resourceVersion name its content exactly: any write to it moves the
resourceVersion. The app's digest names its manifests. So an app whose digest and whose
objects' versions are what they were when it was last found in sync is still in sync,
without walking every field again; at thousands of apps that walk was most of a no-op
sync's own work.

Only "in sync, by comparison" is remembered, never a difference and never what a dry run
told (the server's defaulting can change under an unchanged object): a commit, an edit in
the cluster, a controller writing status, each makes a new key and the app is compared
again. The record is per environment, in the user's cache (``model.usercache``), never in
the repository or the cluster; one that does not read back as written counts as empty.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Collection, Iterable, Sequence
from functools import cache
from pathlib import Path

import orjson

from hakobu import __version__
from hakobu.model.ignoredifferences import IgnoreRule
from hakobu.model.objects import Object
from hakobu.model.usercache import project_cache, write_whole

_FORMAT = 1
# Keys kept per app: one for each cluster an environment delivers to, and a few more.
_KEPT = 4
# Syncs of one environment to several clusters run in one process, each saving the record.
_SAVING = threading.Lock()


@cache
def _code() -> str:
    """A digest of the modules whose rules decide "in sync": changed rules, new keys."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    for name in ("compare", "fieldsets", "held", "ignoring", "plan"):
        digest.update((package / f"{name}.py").read_bytes())
    return digest.hexdigest()


class InSync:
    def __init__(self, path: Path, salt: str, known: dict[str, list[str]]) -> None:
        self.path = path
        self._salt = salt
        self._known = known
        self._found: dict[str, str] = {}

    @classmethod
    def of(cls, root: Path, env: str, ignore: Sequence[IgnoreRule]) -> InSync:
        """The record of environment ``env`` of the project at ``root``."""
        salt = hashlib.sha256(f"{_code()}\0{ignore!r}".encode()).hexdigest()
        path = project_cache(root, "insync") / f"{env}.json"
        return cls(path, salt, _read(path))

    def key(self, app_digest: str, live: Iterable[Object | None]) -> str | None:
        """What decides the app's verdict: its digest and the versions of its live objects,
        in the order of its resources; None when one of them does not exist (or is not
        told apart by a uid and a resourceVersion)."""
        digest = hashlib.sha256(f"{self._salt}\0{app_digest}".encode())
        for obj in live:
            meta = obj.get("metadata") if obj is not None else None
            uid = meta.get("uid") if isinstance(meta, dict) else None
            version = meta.get("resourceVersion") if isinstance(meta, dict) else None
            if not (isinstance(uid, str) and uid and isinstance(version, str) and version):
                return None
            digest.update(f"\0{uid}\0{version}".encode())
        return digest.hexdigest()

    def holds(self, app: str, key: str) -> bool:
        """Whether the app was found in sync with this key."""
        if key in self._known.get(app, ()):
            self._found[app] = key
            return True
        return False

    def note(self, app: str, key: str) -> None:
        """The app was compared and found in sync with this key."""
        self._found[app] = key

    def save(self, apps: Collection[str] | None = None) -> None:
        """Add what this read found to the record as it is on disk now; with ``apps`` (the
        environment's apps, after a read of them all), forget any other. A record that
        cannot be written only costs the next read its comparisons."""
        wanted = None if apps is None else set(apps)
        stale = wanted is not None and not wanted.issuperset(self._known)
        if not stale and all(key in self._known.get(app, ()) for app, key in self._found.items()):
            return
        with _SAVING:
            record = _read(self.path)
            if wanted is not None:
                record = {app: keys for app, keys in record.items() if app in wanted}
            for app, key in self._found.items():
                record[app] = [key, *(k for k in record.get(app, ()) if k != key)][:_KEPT]
            try:
                write_whole(self.path, orjson.dumps({"format": _FORMAT, "apps": record}))
            except OSError:
                return


def _read(path: Path) -> dict[str, list[str]]:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    apps = data.get("apps") if isinstance(data, dict) and data.get("format") == _FORMAT else None
    if not isinstance(apps, dict):
        return {}
    return {
        app: [k for k in keys if isinstance(k, str)]
        for app, keys in apps.items()
        if isinstance(app, str) and isinstance(keys, list)
    }
