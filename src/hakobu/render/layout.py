"""Where each rendered object is written: ``<output>/<env>/<app>/<file>``.

A file is named ``<kind>-<name>.yaml`` with the kind in lower case. When that is not unique
inside the app, the namespace is added (``<kind>-<namespace>-<name>.yaml``) and, if still
needed, the API group (``<kind>.<group>-…``). The names depend only on the app's set of
objects, so they are stable across runs and machines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from hakobu.model.objects import Object, object_id


def file_names(objects: Sequence[Object]) -> list[str]:
    """A file name per object, in the same order."""
    ids = [object_id(obj) for obj in objects]
    plain = Counter((i.kind, i.name) for i in ids)
    with_namespace = Counter((i.kind, i.namespace, i.name) for i in ids)
    names = []
    for i in ids:
        kind = i.kind.lower()
        if with_namespace[i.kind, i.namespace, i.name] > 1 and i.group:
            kind = f"{kind}.{i.group}"
        if plain[i.kind, i.name] > 1 and i.namespace:
            names.append(f"{kind}-{i.namespace}-{i.name}.yaml")
        else:
            names.append(f"{kind}-{i.name}.yaml")
    return names
