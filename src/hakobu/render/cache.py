"""Reuse an app's rendered files when nothing it read has changed.

An entry is keyed by the app, the environment's settings and a fingerprint of hakobu's own
rendering code, and names every input the render read (see ``inputs``) with its digest. It
is used only when all of those still match; otherwise the app is rendered again. Entries
live in the user's cache directory (``hakobu.model.usercache``), never in the repository,
and an entry that does not read back as this module wrote it is a miss.

The apps of a fleet read the same template files, so an environment's file keeps each input
once, in a table, and an entry names its inputs by their place in it: one render compares
each input once, however many apps read it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import orjson

from hakobu import __version__
from hakobu.model.objects import Object, ObjectId
from hakobu.model.project import Environment
from hakobu.model.usercache import project_cache, write_whole
from hakobu.render.inputs import Input, Inputs, Pin, unchanged
from hakobu.render.remotepins import RemoteGit, pins_hold
from hakobu.render.stamps import Stamps

_FORMAT = 4


@cache
def code_fingerprint() -> str:
    """A digest of the modules that shape rendered output, and of the pinned tools' versions:
    a changed renderer is a miss."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"{__version__}:{_FORMAT}".encode())
    paths = [p for d in ("model", "render") for p in sorted((package / d).rglob("*"))]
    # The pinned tools: a new helm may render a chart differently.
    paths.append(package / "localcluster" / "toolchain.py")
    for path in paths:
        if path.is_file() and path.suffix in {".py", ".json", ".yaml"}:
            digest.update(str(path.relative_to(package)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def settings_key(env: Environment, images: Mapping[str, str], source: str = "") -> str:
    """The part of an entry's key that every app of ``env`` shares."""
    shared = json.dumps(
        {
            "code": code_fingerprint(),
            "env": env.name,
            "namespace": env.namespace,
            "values": env.values,
            "allowPlaintextSecrets": env.allow_plaintext_secrets,
            # The platform base of the app specs that name none.
            "base": env.base,
            # Any image's new tag may be what this app refers to.
            "images": dict(images),
            # The application repository's pinned commit: moving the pin re-renders.
            "source": source,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(shared.encode()).hexdigest()


@dataclass(frozen=True)
class Consumer:
    """A workload that reads configuration: its object before the checksum annotation, what
    it references, and the checksum its file was last written with."""

    object: Object
    refs: tuple[str, ...]
    checksum: str | None


@dataclass(frozen=True)
class AppOutput:
    """One app's rendered files (name → content), the identities of its objects, the
    digests of the configuration it defines and the workloads that read configuration."""

    files: dict[str, str]
    ids: tuple[ObjectId, ...]
    digests: dict[str, str]
    consumers: dict[str, Consumer]
    # The apps it depends on, as its objects' annotation says.
    depends_on: tuple[str, ...] = ()


class RenderCache:
    """The cached renders of a project's apps, one file per environment.

    An environment's file is read once per render, at its first lookup, and written once,
    by ``save``, when an app was rendered afresh or an input's stamp was learnt.
    """

    def __init__(self, root: Path, *, source: str = "") -> None:
        """``source``: the commit of the application repository the project pins, if any."""
        self.directory = project_cache(root, "render")
        self.source = source
        # The shared part of the key for the last environment and images asked about: the
        # apps of one render ask with the same two objects, thousands of times for a fleet.
        self._settings: tuple[Environment, Mapping[str, str], str] | None = None
        self._loaded: dict[str, _EnvironmentCache] = {}

    def _settings_key(self, env: Environment, images: Mapping[str, str]) -> str:
        if self._settings is None or (env, images) != self._settings[:2]:
            self._settings = (env, images, settings_key(env, images, self.source))
        return self._settings[2]

    def _environment(self, env: Environment) -> _EnvironmentCache:
        found = self._loaded.get(env.name)
        if found is None:
            found = _EnvironmentCache.load(self.directory / f"{env.name}.json", env.name)
            self._loaded[env.name] = found
        return found

    def lookup(
        self,
        env: Environment,
        app: str,
        images: Mapping[str, str],
        depends_on: tuple[str, ...],
        checked: dict[int, bool] | None = None,
        *,
        remote_git: RemoteGit | None = None,
    ) -> AppOutput | None:
        """``depends_on``: what the project file says ``app`` depends on; ``checked``: the
        inputs (by their place in the environment's table) one render has compared
        already; ``remote_git`` resolves the refs of the remote bases the app fetched."""
        cached = self._environment(env)
        entry = cached.apps.get(app)
        checked = {} if checked is None else checked
        try:
            if (
                not isinstance(entry, dict)
                or entry.get("settings") != self._settings_key(env, images)
                or entry.get("listed") != list(depends_on)
            ):
                return None
            for place in entry["inputs"]:
                fresh = checked.get(place)
                if fresh is None:
                    fresh = checked[place] = unchanged(cached.input(place), cached.stamps)
                if not fresh:
                    return None
            pins = tuple(Pin(**item) for item in entry["pins"])
            if not pins_hold(pins, remote_git):
                return None
            return AppOutput(
                files=_strings(entry["files"]),
                ids=tuple(ObjectId(*ident) for ident in entry["ids"]),
                digests=_strings(entry["digests"]),
                consumers={name: _consumer(c) for name, c in entry["consumers"].items()},
                depends_on=tuple(str(name) for name in entry["dependsOn"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            # Not in this module's shape: render afresh.
            return None

    def store(
        self,
        env: Environment,
        app: str,
        images: Mapping[str, str],
        inputs: Inputs,
        output: AppOutput,
        *,
        depends_on: tuple[str, ...],
    ) -> None:
        """Keep ``app``'s render, from what ``inputs`` read, until ``save``."""
        cached = self._environment(env)
        consumers = {
            name: {"object": c.object, "refs": list(c.refs), "checksum": c.checksum}
            for name, c in output.consumers.items()
        }
        try:
            # An object that would not read back the same (a NaN, an integer beyond 64 bits)
            # is not cached: its app renders afresh every time.
            if orjson.loads(orjson.dumps(consumers)) != consumers:
                return
        except orjson.JSONEncodeError:
            return
        cached.apps[app] = {
            "settings": self._settings_key(env, images),
            "listed": list(depends_on),
            "inputs": [cached.place(item) for item in inputs.snapshot()],
            "pins": [asdict(pin) for pin in sorted(inputs.pins)],
            "files": output.files,
            "ids": [list(ident) for ident in output.ids],
            "digests": output.digests,
            "consumers": consumers,
            "dependsOn": list(output.depends_on),
        }
        inputs.note_stamps(cached.stamps)
        cached.changed = True

    def save(self, env: Environment, apps: Collection[str]) -> None:
        """Write ``env``'s file when it learnt anything, keeping only ``apps`` (the project's
        apps now)."""
        cached = self._loaded.get(env.name)
        if cached is None:
            return
        gone = cached.apps.keys() - set(apps)
        for app in gone:
            del cached.apps[app]
        if gone or cached.changed or cached.stamps.changed:
            cached.save()


def _input(item: object) -> Input:
    """An input as ``store`` wrote it; a TypeError for anything else."""
    if not isinstance(item, list) or len(item) != 3 or not all(type(v) is str for v in item):
        raise TypeError("not an input")
    kind, path, digest = item
    if kind not in ("file", "dir", "absent"):
        raise TypeError("not an input's kind")
    return Input(kind, path, digest)


def _consumer(value: dict[str, object]) -> Consumer:
    """A consumer as ``store`` wrote it; a TypeError for anything else."""
    found, refs, checksum = value["object"], value["refs"], value["checksum"]
    if not isinstance(found, dict) or not isinstance(refs, list):
        raise TypeError("not a consumer")
    if not all(isinstance(ref, str) for ref in refs) or not isinstance(checksum, str | None):
        raise TypeError("not a consumer")
    return Consumer(found, tuple(refs), checksum)


def _strings(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise TypeError("not a mapping of strings")
    return value


@dataclass
class _EnvironmentCache:
    path: Path
    env: str
    apps: dict[str, object]
    # Every input some entry names, each once; entries name them by place.
    inputs: list[Input]
    stamps: Stamps
    changed: bool = False

    def __post_init__(self) -> None:
        self._places: dict[Input, int] | None = None

    def input(self, place: object) -> Input:
        """The input at ``place``; a TypeError for anything but a place in the table."""
        if type(place) is not int or not 0 <= place < len(self.inputs):
            raise TypeError("not a place in the table of inputs")
        return self.inputs[place]

    def place(self, item: Input) -> int:
        """``item``'s place in the table, added at the end if it is not there: an entry
        found earlier in this render keeps the places it names."""
        if self._places is None:
            self._places = {found: place for place, found in enumerate(self.inputs)}
        found = self._places.get(item)
        if found is None:
            found = self._places[item] = len(self.inputs)
            self.inputs.append(item)
        return found

    @classmethod
    def load(cls, path: Path, env: str) -> _EnvironmentCache:
        try:
            data = orjson.loads(path.read_bytes())
            if (
                isinstance(data, dict)
                and data.get("format") == _FORMAT
                and data.get("env") == env
                and isinstance(data.get("apps"), dict)
                and isinstance(data.get("inputs"), list)
                and isinstance(data.get("stamps"), dict)
            ):
                inputs = [_input(item) for item in data["inputs"]]
                return cls(path, env, data["apps"], inputs, Stamps(data["stamps"]))
        except (OSError, orjson.JSONDecodeError, TypeError):
            pass
        # Missing, torn or not in this module's shape: every app renders afresh.
        return cls(path, env, {}, [], Stamps())

    def save(self) -> None:
        self._compact()
        # Only the stamps of inputs some entry still names: the file stays the size of the
        # environment, however many apps and files came and went.
        named = {f"{item.kind}\0{item.path}" for item in self.inputs}
        stamps = {key: value for key, value in self.stamps.as_json().items() if key in named}
        data = {
            "format": _FORMAT,
            "env": self.env,
            "inputs": [[item.kind, item.path, item.digest] for item in self.inputs],
            "apps": self.apps,
            "stamps": stamps,
        }
        write_whole(self.path, orjson.dumps(data))

    def _compact(self) -> None:
        """Drop the inputs no entry names any more, and renumber the places entries name."""
        entries = [e for e in self.apps.values() if isinstance(e, dict)]
        named = sorted(
            {
                p
                for e in entries
                if isinstance(e.get("inputs"), list)
                for p in e["inputs"]
                if type(p) is int
            }
            & set(range(len(self.inputs)))
        )
        if len(named) == len(self.inputs):
            return
        moved = {old: new for new, old in enumerate(named)}
        for entry in entries:
            places = entry.get("inputs")
            if isinstance(places, list):
                entry["inputs"] = [moved.get(p, -1) if type(p) is int else p for p in places]
        self.inputs = [self.inputs[old] for old in named]
        self._places = None
