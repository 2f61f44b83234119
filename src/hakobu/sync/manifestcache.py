"""Parsed manifests of an app's directory at a commit, kept by the directory's git tree id.

Parsing YAML is most of reading a large environment (15,000 files take seconds), while a
git tree id names its files' names, modes and contents exactly: an app directory whose tree
was parsed before is read back from here instead. The cache is a file per environment in
the user's cache directory (``model.usercache``), never in the repository, so a commit
cannot plant an entry. Each line is a tree id and the app's files with their documents as
JSON; a read saves only the apps it read, so the file never holds more than the
environment. Documents JSON would not give back unchanged (NaN, non-string keys, bytes,
integers beyond 64 bits) are not kept: their app is parsed every time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from hakobu import __version__
from hakobu.model.objects import Object
from hakobu.model.usercache import project_cache, write_whole

# An app's files: (path inside the app's directory, the file's documents), in order.
AppFiles = list[tuple[str, list[Object]]]

# The first line: what wrote the file. Another version may parse YAML differently.
_HEADER = f"hakobu-manifests {__version__}".encode()


class ManifestCache:
    def __init__(self, path: Path, entries: dict[str, bytes]) -> None:
        self.path = path
        self._known = entries
        self._used: dict[str, bytes] = {}

    @classmethod
    def of(cls, root: Path, env: str) -> ManifestCache:
        """The cache of environment ``env`` of the project at ``root``; empty when there is
        none or it cannot be read."""
        path = project_cache(root, "manifests") / f"{env}.jsonl"
        try:
            lines = path.read_bytes().split(b"\n")
        except OSError:
            return cls(path, {})
        if lines[0] != _HEADER:
            return cls(path, {})
        entries = {}
        for line in lines[1:]:
            tree, _, files = line.partition(b"\t")
            if files:
                entries[tree.decode("ascii", "replace")] = files
        return cls(path, entries)

    def get(self, tree: str) -> AppFiles | None:
        raw = self._known.get(tree)
        if raw is None:
            return None
        try:
            files: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        self._used[tree] = raw
        return [(str(name), list(documents)) for name, documents in files]

    def put(self, tree: str, files: AppFiles) -> None:
        """Keep ``files`` (as parsed, before anything changed them) for the tree ``tree``."""
        try:
            raw = orjson.dumps(files)
        except TypeError:
            return
        if orjson.loads(raw) != [[name, documents] for name, documents in files]:
            return
        self._used[tree] = raw

    def save(self) -> None:
        """Write the apps read since loading, unless they are exactly what the file holds.
        A cache that cannot be written only costs the next read its parsing."""
        if self._used == self._known:
            return
        body = b"\n".join(
            [_HEADER, *(tree.encode() + b"\t" + raw for tree, raw in sorted(self._used.items()))]
        )
        try:
            write_whole(self.path, body)
        except OSError:
            return
