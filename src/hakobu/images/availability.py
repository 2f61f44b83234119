"""Whether the in-repository images a revision deploys are in their registries yet.

Merge is deploy: the commit that changes a service's source changes its image tag in
``generated/`` at once, while CI may still be building the image. Applying it then would
roll Pods onto an image that does not exist. So a controller asks the registry first, and
waits while a tag is missing.

A tag once present is remembered for good (content-addressed tags are never rebuilt to
other content); an absent one is asked again only after a growing pause (2 s, doubling to a
minute), so a revision waiting for a slow CI does not hammer the registry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hakobu.errors import OperationFailed
from hakobu.images.project import references
from hakobu.images.registry import RegistryClient

_FIRST, _LONGEST = 2.0, 60.0


@dataclass
class _Absent:
    why: str
    next_check: float
    pause: float


class ImageAvailability:
    def __init__(
        self, registry: RegistryClient, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._registry, self._clock = registry, clock
        self._present: set[str] = set()
        self._absent: dict[str, _Absent] = {}

    def missing(self, images: Iterable[str]) -> dict[str, str]:
        """Of ``images`` (``registry/name:tag``), those not known to be present, each with
        why: absent, or what the registry answered instead."""
        now = self._clock()
        missing: dict[str, str] = {}
        for image in sorted(set(images) - self._present):
            absent = self._absent.get(image)
            if absent is not None and now < absent.next_check:
                missing[image] = absent.why
                continue
            why = self._ask(image)
            if why is None:
                self._present.add(image)
                self._absent.pop(image, None)
                continue
            pause = _FIRST if absent is None else min(absent.pause * 2, _LONGEST)
            self._absent[image] = _Absent(why, now + pause, pause)
            missing[image] = why
        return missing

    def _ask(self, image: str) -> str | None:
        repository, _, tag = image.rpartition(":")
        try:
            return None if self._registry.has_tag(repository, tag) else "not in the registry"
        except OperationFailed as e:
            return e.message


def deployed_images(project_root: Path, revision: str, manifests: Iterable[Any]) -> set[str]:
    """The in-repository images (``images:`` in hakobu.yaml, tagged as at ``revision``)
    that ``manifests`` run."""
    declared = set(references(project_root, revision).values())
    if not declared:
        return set()
    return declared & set(_images(manifests))


def _images(node: Any) -> Iterator[str]:
    # Every kind that runs containers (Deployment, CronJob, a custom workload) names them
    # in an ``image`` field somewhere beneath its spec.
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                yield value
            else:
                yield from _images(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _images(item)
