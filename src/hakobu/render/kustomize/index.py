"""The resources one patch step works on, found by identity or by name without a scan.

A kustomization with one patch per service would otherwise compare every patch with every
resource, and its build would grow with the square of the services. Every change a patch
makes goes through the index (a patch may rename, re-kind or delete what it patches), so
a lookup always sees the resources as they are now. Lookups answer in resource order,
the order in which kustomize applies a patch to what it selects.
"""

from __future__ import annotations

from hakobu.model.objects import Object
from hakobu.render.kustomize.resource import Gvk, ResId, all_ids, cur_id, org_id
from hakobu.render.kustomize.selectors import Matcher

_Key = tuple[Gvk, str, str]


class ResourceIndex:
    def __init__(self, resources: list[Object]) -> None:
        # The caller's list, edited in place.
        self.resources = resources
        self._rebuild()

    def _rebuild(self) -> None:
        self._by_key: dict[_Key, dict[int, None]] = {}
        self._by_name: dict[str, dict[int, None]] = {}
        self._position: dict[int, int] = {}
        self._entries: dict[int, tuple[list[_Key], list[str]]] = {}
        for position in range(len(self.resources)):
            self._register(position)

    def _register(self, position: int) -> None:
        obj = self.resources[position]
        keys = list(dict.fromkeys(rid.key for rid in all_ids(obj)))
        # A target's name matches the original name or the current one.
        names = list(dict.fromkeys((org_id(obj).name, cur_id(obj).name)))
        for key in keys:
            self._by_key.setdefault(key, {})[position] = None
        for name in names:
            self._by_name.setdefault(name, {})[position] = None
        self._position[id(obj)] = position
        self._entries[position] = (keys, names)

    def _unregister(self, position: int) -> None:
        keys, names = self._entries.pop(position)
        for key in keys:
            del self._by_key[key][position]
        for name in names:
            del self._by_name[name][position]
        del self._position[id(self.resources[position])]

    def answering_to(self, wanted: ResId) -> list[Object]:
        """The resources whose current or an earlier id is ``wanted``."""
        return self._at(self._by_key.get(wanted.key, {}))

    def select(self, matcher: Matcher) -> list[Object]:
        if matcher.name is None:
            return [obj for obj in self.resources if matcher.matches(obj)]
        return [
            obj for obj in self._at(self._by_name.get(matcher.name, {})) if matcher.matches(obj)
        ]

    def replace(self, old: Object, new: Object) -> None:
        position = self._position[id(old)]
        self._unregister(position)
        self.resources[position] = new
        self._register(position)

    def delete(self, obj: Object) -> None:
        del self.resources[self._position[id(obj)]]
        # Every later resource moves up one place; deleting is rare, so re-index them all.
        self._rebuild()

    def _at(self, positions: dict[int, None]) -> list[Object]:
        return [self.resources[position] for position in sorted(positions)]
