"""Content-addressed image tags.

An image's tag is the SHA-256 (first 16 hex digits) of a short text naming, by git ids,
everything its build sees:

- the build context: the git tree id of its directory, or, when a ``.dockerignore`` has
  patterns, the mode, blob id and path of every file it does not exclude (so ignored files
  never change the tag, and still nothing but trees is read);
- the Dockerfile's blob id, the tree or blob id of each extra input, the build arguments;
- the tags of the in-repository images it builds from, so a changed base re-tags every
  image built on it, while an unchanged service keeps its tag.

Uncommitted work (modified, staged, deleted and untracked files that git does not ignore,
inside an image's inputs) is hashed on top, by the git blob id each file would have. Such a
tag ends in ``-dirty``: it still names its content (the same edit gives the same tag, so a
rebuild can be skipped), but it can never be the tag of a commit, so a policy can refuse to
deploy it. An image built on a dirty base is dirty too.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from hakobu.errors import InvalidInput
from hakobu.images.cache import TagCache
from hakobu.images.dockerfile import ImageUse, base_images
from hakobu.images.dockerignore import Matcher, ParentMatches, parse
from hakobu.images.graph import Dependency, build_order
from hakobu.model.images import ImageSpec
from hakobu.repo.snapshot import Change, File, Snapshot

TAG_LENGTH = 16
DIRTY_SUFFIX = "-dirty"
_FORMAT = "hakobu image tag 1"


@dataclass(frozen=True)
class ImageTag:
    name: str
    repository: str
    tag: str
    dirty: bool
    # In-repository images this one builds from, as its Dockerfile writes them.
    bases: tuple[BaseUse, ...] = ()

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class BaseUse:
    """A Dockerfile reference to the in-repository image ``name``: expanded, and as the
    Dockerfile writes it (see ``ImageUse``)."""

    name: str
    reference: str
    written: str


@dataclass(frozen=True)
class TagSet:
    """Tags of a project's images, in build order (bases first)."""

    tags: Mapping[str, ImageTag]
    order: tuple[str, ...]
    # Images that could not be tagged at this revision, with why (tolerant mode only).
    failures: Mapping[str, str] = field(default_factory=dict)


def compute_tags(
    snapshot: Snapshot,
    specs: Sequence[ImageSpec],
    prefix: str = "",
    *,
    tolerant: bool = False,
    cache: TagCache | None = None,
) -> TagSet:
    """Tag every image of ``specs`` as ``snapshot`` holds it.

    ``prefix`` is the project root relative to the repository root. With ``tolerant``, an
    image that cannot be tagged (its context did not exist yet at an older revision) is
    reported in ``failures`` with every image built on it, instead of raising. ``cache``
    keeps Dockerfile parses and filtered contexts by git id (a fresh one: this call only).
    """
    cache = cache or TagCache()
    by_repository = {spec.repository: spec for spec in specs}
    failures: dict[str, str] = {}
    uses: dict[str, tuple[ImageUse, ...]] = {}
    dependencies: dict[str, list[Dependency]] = {}
    bases: dict[str, list[BaseUse]] = {}
    for spec in specs:
        dockerfile = _join(prefix, spec.dockerfile)
        try:
            uses[spec.name] = _uses(snapshot, spec, dockerfile, cache)
        except InvalidInput as e:
            if not tolerant:
                raise
            failures[spec.name] = e.message
            continue
        dependencies[spec.name] = []
        bases[spec.name] = []
        for use in uses[spec.name]:
            base = by_repository.get(repository_of(use.reference))
            if base is not None:
                dependencies[spec.name].append(Dependency(base.name, dockerfile, use.line))
                bases[spec.name].append(BaseUse(base.name, use.reference, use.written))
    order = build_order(dependencies)
    specs_by_name = {spec.name: spec for spec in specs}
    tags: dict[str, ImageTag] = {}
    for name in order:
        spec = specs_by_name[name]
        missing = [d.base for d in dependencies[name] if d.base not in tags]
        if missing:
            failures[name] = f"its base image {missing[0]} could not be tagged"
            continue
        try:
            tags[name] = _tag(snapshot, spec, prefix, tuple(bases[name]), tags, cache=cache)
        except InvalidInput as e:
            if not tolerant:
                raise
            failures[name] = e.message
    return TagSet(tags, tuple(n for n in order if n in tags), failures)


def repository_of(reference: str) -> str:
    """``host:5000/shop/web:1.2@sha256:…`` → ``host:5000/shop/web``."""
    name = reference.split("@", 1)[0]
    colon = name.rfind(":")
    return name[:colon] if colon > name.rfind("/") else name


def _uses(
    snapshot: Snapshot, spec: ImageSpec, dockerfile: str, cache: TagCache
) -> tuple[ImageUse, ...]:
    file = snapshot.file(dockerfile)
    if file is None:
        raise spec.error(
            "dockerfile",
            f"{dockerfile} is not in git at {snapshot.revision}",
            hint="commit the Dockerfile, or set `dockerfile:` to where it is",
        )
    return cache.base_images(
        file.id,
        spec.build_args,
        lambda: base_images(file.text(), dockerfile, dict(spec.build_args)),
    )


def _tag(
    snapshot: Snapshot,
    spec: ImageSpec,
    prefix: str,
    bases: tuple[BaseUse, ...],
    known: Mapping[str, ImageTag],
    *,
    cache: TagCache,
) -> ImageTag:
    lines = [_FORMAT]
    context = _join(prefix, spec.context)
    dockerfile = _join(prefix, spec.dockerfile)
    rules = _IgnoreRules(_ignore_file(snapshot, context, dockerfile))
    entry = snapshot.entry(context)
    context_changes = [
        c
        for c in snapshot.changes_under(context)
        if _included(rules.matcher, _relative(c, context))
    ]
    if entry is None and not context_changes:
        raise spec.error(
            "context", f"{context} is not in git at {snapshot.revision}", hint="commit it"
        )
    if entry is not None and not entry.is_tree:
        raise spec.error("context", f"{context} is a file; the build context is a directory")
    if entry is None:
        lines.append("context absent")
    elif rules.file is None:
        lines.append(f"context tree {entry.id}")
    else:
        tree_id = entry.id
        lines.append(
            cache.context_line(
                tree_id, rules.file.id, lambda: _context_line(snapshot, tree_id, rules.matcher)
            )
        )
    lines.extend(_change_line(c, context) for c in context_changes)
    dockerfile_changes = snapshot.changes_under(dockerfile)
    dockerfile_entry = snapshot.entry(dockerfile)
    dockerfile_id = dockerfile_changes[0].id if dockerfile_changes else None
    if dockerfile_id is None and dockerfile_entry is not None:
        dockerfile_id = dockerfile_entry.id
    lines.append(f"dockerfile {dockerfile_id}")
    input_changes: list[Change] = []
    for index, path in enumerate(spec.inputs):
        full = _join(prefix, path)
        input_entry = snapshot.entry(full)
        changes = snapshot.changes_under(full)
        if input_entry is None and not changes:
            raise spec.error(
                "inputs",
                f"inputs[{index}]: {full} is not in git at {snapshot.revision}",
                hint="commit it, or remove it from inputs",
            )
        lines.append(f"input {path} {input_entry.id if input_entry else 'absent'}")
        lines.extend(_change_line(c, full) for c in changes)
        input_changes.extend(changes)
    lines.extend(f"arg {key}={value}" for key, value in spec.build_args)
    for name in sorted({base.name for base in bases}):
        lines.append(f"base {name} {known[name].tag}")
    dirty = bool(context_changes or dockerfile_changes or input_changes) or any(
        known[base.name].dirty for base in bases
    )
    digest = hashlib.sha256("\0".join(lines).encode()).hexdigest()[:TAG_LENGTH]
    tag = digest + DIRTY_SUFFIX if dirty else digest
    return ImageTag(spec.name, spec.repository, tag, dirty, bases)


class _IgnoreRules:
    """A context's ``.dockerignore``, parsed only if a tag needs its patterns."""

    def __init__(self, file: File | None) -> None:
        self.file = file

    @cached_property
    def matcher(self) -> Matcher:
        return parse(self.file.text(), self.file.path) if self.file else Matcher(())


def _ignore_file(snapshot: Snapshot, context: str, dockerfile: str) -> File | None:
    # BuildKit prefers <Dockerfile>.dockerignore next to the Dockerfile over the context's.
    for path in (f"{dockerfile}.dockerignore", _join(context, ".dockerignore")):
        file = snapshot.file(path)
        if file is not None:
            return file
    return None


def _context_line(snapshot: Snapshot, tree_id: str, matcher: Matcher) -> str:
    if not matcher.patterns:
        return f"context tree {tree_id}"
    return f"context filtered {_filtered_digest(snapshot, tree_id, matcher)}"


def _filtered_digest(snapshot: Snapshot, tree_id: str, matcher: Matcher) -> str:
    digest = hashlib.sha256()

    def walk(tree: str, prefix: str, parent: ParentMatches | None) -> None:
        for name, entry in snapshot.listing(tree):
            path = prefix + name
            excluded, results = matcher.match(path, parent)
            if entry.is_tree:
                if not (excluded and matcher.skips_directory(path)):
                    walk(entry.id, path + "/", results)
            elif not excluded:
                digest.update(f"{entry.mode:o} {entry.id} {path}\0".encode())

    walk(tree_id, "", None)
    return digest.hexdigest()


def _included(matcher: Matcher, path: str) -> bool:
    """Whether BuildKit would send the file ``path`` (relative to the context)."""
    if not matcher.patterns:
        return True
    parent: ParentMatches | None = None
    parts = path.split("/")
    for depth in range(1, len(parts)):
        directory = "/".join(parts[:depth])
        excluded, parent = matcher.match(directory, parent)
        if excluded and matcher.skips_directory(directory):
            return False
    return not matcher.match(path, parent)[0]


def _change_line(change: Change, root: str) -> str:
    content = change.id if change.id is not None else "deleted"
    return f"change {_relative(change, root)} {change.mode:o} {content}"


def _relative(change: Change, root: str) -> str:
    if root in ("", "."):
        return change.path
    return change.path[len(root) + 1 :] if change.path != root else posixpath.basename(root)


def _join(prefix: str, path: str) -> str:
    joined = posixpath.normpath(posixpath.join(prefix, path)) if prefix else path
    return "." if joined in ("", ".") else joined
