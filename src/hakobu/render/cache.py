"""Reuse an app's rendered files when nothing it read has changed.

An entry is keyed by the app, the environment's settings and a fingerprint of hakobu's own
rendering code, and holds every input the render read (see ``inputs``) with its digest. It
is used only when all of those still match; otherwise the app is rendered again. Entries
live in the user's cache directory (``hakobu.model.usercache``), never in the repository,
and an entry that does not read back as this module wrote it is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, astuple, dataclass
from functools import cache
from pathlib import Path

from hakobu import __version__
from hakobu.model.objects import Object, ObjectId
from hakobu.model.project import Environment
from hakobu.model.usercache import project_cache
from hakobu.render.inputs import Input, Pin, still_valid
from hakobu.render.remotepins import RemoteGit, pins_hold

_FORMAT = 2


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


def app_key(settings: str, app: str, depends_on: tuple[str, ...]) -> str:
    # What the project file says the app depends on (an app spec says it itself).
    own = json.dumps({"app": app, "dependsOn": list(depends_on)}, sort_keys=True)
    return hashlib.sha256(f"{settings}\0{own}".encode()).hexdigest()


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
    def __init__(self, root: Path, *, source: str = "") -> None:
        """``source``: the commit of the application repository the project pins, if any."""
        self.directory = project_cache(root, "render")
        self.source = source
        # The shared part of the key for the last environment and images asked about: the
        # apps of one render ask with the same two objects, thousands of times for a fleet.
        self._settings: tuple[Environment, Mapping[str, str], str] | None = None

    def _key(
        self, env: Environment, app: str, images: Mapping[str, str], depends_on: tuple[str, ...]
    ) -> str:
        if self._settings is None or (env, images) != self._settings[:2]:
            self._settings = (env, images, settings_key(env, images, self.source))
        return app_key(self._settings[2], app, depends_on)

    def lookup(
        self,
        env: Environment,
        app: str,
        images: Mapping[str, str],
        depends_on: tuple[str, ...],
        checked: dict[Input, bool] | None = None,
        *,
        remote_git: RemoteGit | None = None,
    ) -> AppOutput | None:
        """``depends_on``: what the project file says ``app`` depends on; ``checked``: the
        inputs one render has compared already (see ``still_valid``); ``remote_git``
        resolves the refs of the remote bases the app fetched."""
        path = self._path(env, app)
        try:
            entry = json.loads(path.read_text())
            if entry.get("key") != self._key(env, app, images, depends_on):
                return None
            inputs = tuple(Input(**item) for item in entry["inputs"])
            if not still_valid(inputs, checked):
                return None
            pins = tuple(Pin(**item) for item in entry["pins"])
            if not pins_hold(pins, remote_git):
                return None
            return AppOutput(
                files=entry["files"],
                ids=tuple(ObjectId(*ident) for ident in entry["ids"]),
                digests=entry["digests"],
                consumers={
                    name: Consumer(c["object"], tuple(c["refs"]), c["checksum"])
                    for name, c in entry["consumers"].items()
                },
                depends_on=tuple(str(name) for name in entry["dependsOn"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            # Unreadable or not in this module's shape: render afresh.
            return None

    def store(
        self,
        env: Environment,
        app: str,
        images: Mapping[str, str],
        inputs: tuple[Input, ...],
        output: AppOutput,
        *,
        depends_on: tuple[str, ...],
        pins: tuple[Pin, ...] = (),
    ) -> None:
        path = self._path(env, app)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "key": self._key(env, app, images, depends_on),
            "inputs": [asdict(item) for item in inputs],
            "pins": [asdict(pin) for pin in sorted(pins)],
            "files": output.files,
            "ids": [astuple(ident) for ident in output.ids],
            "digests": output.digests,
            "consumers": {name: asdict(c) for name, c in output.consumers.items()},
            "dependsOn": list(output.depends_on),
        }
        # Written whole or not at all: a torn entry must not be mistaken for a valid one.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as handle:
            json.dump(entry, handle, sort_keys=True)
        Path(temp).replace(path)

    def _path(self, env: Environment, app: str) -> Path:
        return self.directory / env.name / f"{app}.json"
