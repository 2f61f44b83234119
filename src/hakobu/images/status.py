"""Where each image stands: its tag now, whether it changed since a revision, whether the
registry has it.

"Changed" compares the tag at HEAD with the tag at the previous commit (an image that did not
exist then is changed). Uncommitted changes do not count: they give a ``-dirty`` tag that no
commit holds, so HEAD is compared instead. The registry is asked once per image,
concurrently; the first failure of a registry host is kept and its other images are not
asked, so an offline run costs one timeout per host rather than one per image.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from hakobu.errors import HakobuError
from hakobu.images.project import ProjectImages, tags_at
from hakobu.images.registry import RegistryClient
from hakobu.images.tags import TagSet

_REGISTRY_WORKERS = 8
PREVIOUS = "HEAD~1"


@dataclass(frozen=True)
class ImageRow:
    name: str
    reference: str
    tag: str
    dirty: bool
    # The tag at HEAD differs from the tag at HEAD~1 (or the image is new).
    changed: bool
    # "present", "missing" or "unknown" (offline, unreachable, refused).
    registry: str


@dataclass(frozen=True)
class RegistryStatus:
    """Per image: tag present, absent, or None when its registry could not say (``failed``)."""

    present: dict[str, bool | None]
    # One error per registry host that could not answer.
    failed: tuple[HakobuError, ...] = ()


def registry_status(tags: TagSet) -> RegistryStatus:
    """Ask each image's registry whether it holds the image's tag."""
    failed: dict[str, HakobuError] = {}

    def check(name: str) -> bool | None:
        tag = tags.tags[name]
        host = tag.repository.split("/", 1)[0]
        if host in failed:
            return None
        try:
            return client.has_tag(tag.repository, tag.tag)
        except HakobuError as e:
            failed.setdefault(host, e)
            return None

    with RegistryClient() as client, ThreadPoolExecutor(_REGISTRY_WORKERS) as pool:
        present = dict(zip(tags.order, pool.map(check, tags.order), strict=True))
    return RegistryStatus(present, tuple(failed.values()))


def changed_since(
    project: ProjectImages, tags: TagSet, revision: str = PREVIOUS
) -> dict[str, bool]:
    """Per image of ``tags``: whether its committed tag differs from its tag at ``revision``."""
    previous = tags_at(project, revision)
    at_head = tags if not any(t.dirty for t in tags.tags.values()) else tags_at(project, "HEAD")
    changed: dict[str, bool] = {}
    for name in tags.order:
        head = at_head.tags.get(name) if at_head else None
        before = previous.tags.get(name) if previous else None
        changed[name] = before is None or head is None or before.tag != head.tag
    return changed


def image_rows(
    project: ProjectImages, tags: TagSet, registry: RegistryStatus | None
) -> list[ImageRow]:
    """A row per image, in build order; ``registry`` None: not asked (unknown)."""
    changed = changed_since(project, tags)
    present = registry.present if registry is not None else {}
    return [
        ImageRow(
            name,
            tags.tags[name].reference,
            tags.tags[name].tag,
            tags.tags[name].dirty,
            changed[name],
            presence(present.get(name)),
        )
        for name in tags.order
    ]


def presence(state: bool | None) -> str:
    return "unknown" if state is None else "present" if state else "missing"
