"""What tagging derives from git objects, kept under the ids of those objects.

A git id names immutable content, so a result computed from the objects it names is valid
for as long as the code that computed it is the same: entries are never invalidated, only
keyed. Kept here:

- the images a Dockerfile builds from, by the Dockerfile's blob id and the build arguments;
- the context line of a tag (the filtered digest a ``.dockerignore`` asks for), by the
  context's tree id and the ``.dockerignore``'s blob id;
- the parsed ``images:`` of ``hakobu.yaml``, by the file's blob id (its path is not part
  of the entry: the file is named again on loading).

Work-tree files are keyed by the id of the bytes actually read, never by a path or a stat.
The entries of one version of hakobu's ``images`` and ``model`` code live in
``<fingerprint>.json`` of the project's cache directory, outside the repository
(``hakobu.model.usercache``: a committed entry would choose tags); a change to that code
starts an empty file. A missing, unreadable or malformed file is an empty cache, and one
that cannot be written is skipped: the cache only saves time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from hakobu import __version__
from hakobu.images.dockerfile import ImageUse
from hakobu.model.images import ImageSpec
from hakobu.model.source import FieldPath
from hakobu.model.usercache import project_cache, write_whole

_FORMAT = 1
# Past this many entries a file keeps only those used by the run that writes it, so a
# long-lived checkout does not carry every Dockerfile it ever had.
_MAX_ENTRIES = 20_000


def cache_directory(project_root: Path) -> Path:
    return project_cache(project_root, "images")


@cache
def code_fingerprint() -> str:
    """A digest of the code whose results are cached: a change to it is a miss."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"{__version__}:{_FORMAT}".encode())
    for directory in ("images", "model"):
        for path in sorted((package / directory).glob("*.py")):
            digest.update(f"{directory}/{path.name}".encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class _Section:
    entries: dict[str, Any]
    used: set[str]

    def get(self, key: str) -> Any:
        value = self.entries.get(key)
        if value is not None:
            self.used.add(key)
        return value

    def put(self, key: str, value: Any) -> None:
        self.entries[key] = value
        self.used.add(key)


class TagCache:
    """Results keyed by git ids, in memory and, with a ``directory``, on disk."""

    _SECTIONS = ("dockerfiles", "contexts", "specs")

    def __init__(self, directory: Path | None = None) -> None:
        self._file = directory / f"{code_fingerprint()[:32]}.json" if directory else None
        stored = self._read()
        self._sections = {
            name: _Section(dict(stored.get(name, {})), set()) for name in self._SECTIONS
        }
        self._changed = False

    def base_images(
        self,
        blob_id: str,
        build_args: Iterable[tuple[str, str]],
        compute: Callable[[], tuple[ImageUse, ...]],
    ) -> tuple[ImageUse, ...]:
        """The images of the Dockerfile ``blob_id`` with ``build_args``."""
        key = json.dumps([blob_id, sorted(build_args)])
        found = self._sections["dockerfiles"].get(key)
        if found is not None:
            return tuple(ImageUse(reference, line, written) for reference, line, written in found)
        uses = compute()
        self._put("dockerfiles", key, [[use.reference, use.line, use.written] for use in uses])
        return uses

    def context_line(self, tree_id: str, ignore_id: str, compute: Callable[[], str]) -> str:
        """The tag line of the context tree ``tree_id`` filtered by the ``.dockerignore``
        blob ``ignore_id``."""
        key = f"{tree_id} {ignore_id}"
        found = self._sections["contexts"].get(key)
        if isinstance(found, str):
            return found
        line = compute()
        self._put("contexts", key, line)
        return line

    def specs(
        self, blob_id: str, file: Path, compute: Callable[[], tuple[ImageSpec, ...]]
    ) -> tuple[ImageSpec, ...]:
        """The images declared by the ``hakobu.yaml`` blob ``blob_id``, read from ``file``."""
        found = self._sections["specs"].get(blob_id)
        if found is not None:
            return tuple(_spec_from_json(item, file) for item in found)
        specs = compute()
        self._put("specs", blob_id, [_spec_to_json(spec) for spec in specs])
        return specs

    def save(self) -> None:
        """Write new entries to disk, whole or not at all."""
        if self._file is None or not self._changed:
            return
        data: dict[str, Any] = {"format": _FORMAT, "code": code_fingerprint()}
        for name, section in self._sections.items():
            keep = section.entries
            if len(keep) > _MAX_ENTRIES:
                keep = {key: keep[key] for key in section.used}
            data[name] = keep
        try:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            for stale in self._file.parent.glob("*.json"):
                if stale != self._file:
                    stale.unlink(missing_ok=True)
            write_whole(self._file, json.dumps(data).encode())
        except OSError:
            return
        self._changed = False

    def _put(self, section: str, key: str, value: Any) -> None:
        self._sections[section].put(key, value)
        self._changed = True

    def _read(self) -> dict[str, Any]:
        if self._file is None:
            return {}
        try:
            data = json.loads(self._file.read_bytes())
        except (OSError, ValueError):
            return {}
        valid = (
            isinstance(data, dict)
            and data.get("format") == _FORMAT
            and data.get("code") == code_fingerprint()
            and all(isinstance(data.get(name, {}), dict) for name in self._SECTIONS)
        )
        return data if valid else {}


def _spec_to_json(spec: ImageSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "context": spec.context,
        "dockerfile": spec.dockerfile,
        "inputs": list(spec.inputs),
        "registry": spec.registry,
        "buildArgs": [list(arg) for arg in spec.build_args],
        "index": spec.index,
        "lines": [[list(path), line] for path, line in spec.lines.items()],
    }


def _spec_from_json(item: dict[str, Any], file: Path) -> ImageSpec:
    lines: dict[FieldPath, int] = {tuple(path): line for path, line in item["lines"]}
    return ImageSpec(
        item["name"],
        item["context"],
        item["dockerfile"],
        tuple(item["inputs"]),
        item["registry"],
        tuple((key, value) for key, value in item["buildArgs"]),
        file,
        item["index"],
        lines,
    )
