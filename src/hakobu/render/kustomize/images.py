"""The ``images`` transformer: new names, tags and digests for container images.

kustomize runs one transformer per ``images`` entry over every resource, so an overlay with
an entry per service costs O(entries x resources). The result only depends, per image
field, on the entries whose name matches that field's current value, in entry order. So
this indexes the entries by name once and, for each image field, looks up only the entries
that can match: linear in the number of resources.

Per entry kustomize makes two passes: one over every ``containers``/``initContainers`` list
anywhere in the object, then one over the ``images`` field specs. A field reached by both
passes is updated twice by the same entry (which matters for ``tagSuffix``); that is kept.
An entry's name is a regular expression in kustomize; a name whose only special character
is ``.`` is looked up by its literal shape with ``.`` standing for any character, any other
pattern is tried on every image.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.render.kustomize.fieldspecs import FieldSpec, matches_gvk

_REST = re.compile(r"(:[a-zA-Z0-9_.{}-]*)?(@[a-zA-Z0-9]+([.+_-][a-zA-Z0-9]+)*:[a-zA-Z0-9_.{}-]*)?")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_/:@.-]*")


@dataclass(frozen=True)
class ImageRule:
    name: str
    new_name: str = ""
    new_tag: str = ""
    digest: str = ""
    tag_suffix: str = ""

    def apply(self, image: str) -> str:
        name, tag, digest = split_image(image)
        if self.new_name:
            name = self.new_name
        if self.new_tag and self.digest:
            tag, digest = self.new_tag, self.digest
        elif self.new_tag:
            tag, digest = self.new_tag, ""
        elif self.digest:
            tag, digest = "", self.digest
        elif self.tag_suffix:
            tag, digest = tag + self.tag_suffix, ""
        if tag:
            name += ":" + tag
        if digest:
            name += "@" + digest
        return name


def split_image(image: str) -> tuple[str, str, str]:
    """kustomize's image.Split: name, tag, digest (the first ``/`` shields a registry port)."""
    slash = image.find("/")
    search, offset = (image[slash:], slash) if slash > 0 else (image, 0)
    at, colon = search.find("@"), search.find(":")
    if colon < 0 and at < 0:
        return image, "", ""
    if at >= 0 and (at < colon or colon < 0):
        at += offset
        return image[:at], "", image[at + 1 :]
    if at >= 0 and colon >= 0:
        at += offset
        colon += offset
        return image[:colon], image[colon + 1 : at], image[at + 1 :]
    colon += offset
    return image[:colon], image[colon + 1 :], ""


class ImageIndex:
    """The entries of ``images`` arranged to find, for an image, the entries matching it."""

    def __init__(self, rules: Sequence[ImageRule]) -> None:
        self.rules = list(rules)
        # Entries grouped by the positions of the dots in their names; within a group keyed by
        # the name, so a candidate prefix is masked at those positions and looked up.
        self._by_shape: dict[tuple[int, ...], dict[str, list[int]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._patterns: list[tuple[int, re.Pattern[str]]] = []
        for index, rule in enumerate(self.rules):
            if _PLAIN_NAME.fullmatch(rule.name):
                dots = tuple(i for i, c in enumerate(rule.name) if c == ".")
                self._by_shape[dots][rule.name].append(index)
            else:
                try:
                    pattern = re.compile(f"^{rule.name}{_REST.pattern}$")
                except re.error:
                    continue
                self._patterns.append((index, pattern))

    def matching(self, image: str) -> list[int]:
        """Indexes of the entries whose name matches ``image``, ascending."""
        found: set[int] = set()
        ends = [len(image)] + [i for i, c in enumerate(image) if c in ":@"]
        for end in ends:
            if not _REST.fullmatch(image, end):
                continue
            prefix = image[:end]
            for dots, names in self._by_shape.items():
                if dots and dots[-1] >= len(prefix):
                    continue
                masked = prefix
                if dots:
                    chars = list(prefix)
                    for position in dots:
                        chars[position] = "."
                    masked = "".join(chars)
                found.update(names.get(masked, ()))
        found.update(index for index, pattern in self._patterns if pattern.match(image))
        return sorted(found)

    def transform(self, image: str, passes: int) -> str:
        """Apply the entries in order, each ``passes`` times, as kustomize's chain would."""
        start = 0
        while True:
            following = [i for i in self.matching(image) if i >= start]
            if not following:
                return image
            index = following[0]
            image = self.rules[index].apply(image)
            for _ in range(passes - 1):
                if index in self.matching(image):
                    image = self.rules[index].apply(image)
            start = index + 1


def set_images(
    resources: Sequence[Object], rules: Sequence[ImageRule], specs: Sequence[FieldSpec]
) -> None:
    if not rules:
        return
    index = ImageIndex(rules)
    for obj in resources:
        if obj.get("kind") == "CustomResourceDefinition":
            continue
        # Count how many passes reach each image field: the containers walk, the specs.
        passes: dict[tuple[int, str], int] = defaultdict(int)
        holders: dict[tuple[int, str], dict[str, Any]] = {}
        for holder, key in _container_images(obj):
            passes[(id(holder), key)] += 1
            holders[(id(holder), key)] = holder
        for spec in specs:
            if matches_gvk(spec, obj):
                _collect_spec_fields(obj, spec.parts, passes, holders)
        for slot, count in passes.items():
            holder = holders[slot]
            key = slot[1]
            value = holder.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise InvalidInput(
                    f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}: image "
                    f"field holds {value!r}, expected a string"
                )
            holder[key] = index.transform(value, count)


def _container_images(value: Any) -> list[tuple[dict[str, Any], str]]:
    found: list[tuple[dict[str, Any], str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_container_images(item))
            if key in ("containers", "initContainers") and isinstance(item, list):
                found.extend((c, "image") for c in item if isinstance(c, dict) and "image" in c)
    elif isinstance(value, list):
        for item in value:
            found.extend(_container_images(item))
    return found


def _collect_spec_fields(
    value: Any,
    parts: tuple[str, ...],
    passes: dict[tuple[int, str], int],
    holders: dict[tuple[int, str], dict[str, Any]],
) -> None:
    if isinstance(value, list):
        for item in value:
            _collect_spec_fields(item, parts, passes, holders)
        return
    if not isinstance(value, dict):
        return
    name = parts[0].removesuffix("[]")
    if name not in value:
        return
    if len(parts) == 1:
        passes[(id(value), name)] += 1
        holders[(id(value), name)] = value
        return
    _collect_spec_fields(value[name], parts[1:], passes, holders)
