"""Where each rendered object is written: ``<output>/<env>/<app>/<file>``.

A file is named ``<kind>-<name>.yaml`` with the kind in lower case. When that is not unique
inside the app, the namespace is added (``<kind>-<namespace>-<name>.yaml``) and, if still
needed, the API group (``<kind>.<group>-…``). The names depend only on the app's set of
objects, so they are stable across runs and machines. Identities are checked first
(``hakobu.model.identity``), so no part holds a path separator; a name longer than a file
system allows is cut and ends in a digest of the whole name instead.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

from hakobu.model.objects import Object, object_id


def file_names(objects: Sequence[Object]) -> list[str]:
    """A file name per object, in the same order."""
    ids = [object_id(obj) for obj in objects]
    plain = Counter((i.kind, i.name) for i in ids)
    with_namespace = Counter((i.kind, i.namespace, i.name) for i in ids)
    names: list[str] = []
    for i in ids:
        kind = i.kind.lower()
        if with_namespace[i.kind, i.namespace, i.name] > 1 and i.group:
            kind = f"{kind}.{i.group}"
        if plain[i.kind, i.name] > 1 and i.namespace:
            names.append(_bounded(f"{kind}-{i.namespace}-{i.name}"))
        else:
            names.append(_bounded(f"{kind}-{i.name}"))
    return names


# File systems hold names of at most 255 bytes; room is left for the ".yaml" and for the
# prefix of the temporary file a name is written through.
_MAX_STEM = 200


def _bounded(stem: str) -> str:
    if len(stem.encode()) <= _MAX_STEM:
        return f"{stem}.yaml"
    digest = hashlib.sha256(stem.encode()).hexdigest()[:16]
    return f"{stem[: _MAX_STEM - 17]}-{digest}.yaml"
