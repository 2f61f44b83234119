"""The promoted version handed back to the sync.

While a rollout runs, the sync applies the running version under its own field manager and
leaves the new one in ``hakobu.dev/canary-pending``. A promotion puts the new template and
replicas on the Deployment and marks its digest; it is applied under the sync's manager,
as exactly what the next sync of the same commit applies (what the sync last applied,
read from the live object's managed fields, with the new template and replicas, the digest
marked and the pending annotation gone). Server-side apply removes a field only when the
manager owning it leaves it out, so the promotion written by any other manager would keep
the pending annotation, and the fields the old template had and the new one dropped, until
the next sync, with the app Drifted meanwhile. Written as the sync would write it, the app
is Synced as soon as it is promoted and the next sync changes nothing.
"""

from __future__ import annotations

from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.model.canary import PENDING_ANNOTATION, TEMPLATE_HASH_ANNOTATION
from hakobu.model.objects import Object
from hakobu.sync.fieldsets import owned_by, project
from hakobu.sync.ownership import FIELD_MANAGER


def promote(kube: KubeApi, stable: Object, pending: dict[str, Any], *, marked: bool) -> Object:
    """Deployment ``stable`` on the ``pending`` template and replicas, as the sync applies
    it; ``marked``: running the new version, so no rollout is left in flight."""
    meta = stable["metadata"]
    applied = project(stable, owned_by(stable, FIELD_MANAGER, "apps/v1"))
    metadata = dict(applied.get("metadata") or {})
    annotations = dict(metadata.get("annotations") or {})
    if marked:
        annotations[TEMPLATE_HASH_ANNOTATION] = pending["hash"]
        annotations.pop(PENDING_ANNOTATION, None)
    spec = {
        **(applied.get("spec") or {}),
        "replicas": pending["replicas"],
        "template": pending["template"],
    }
    return kube.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                **metadata,
                "name": meta["name"],
                "namespace": meta["namespace"],
                "annotations": annotations,
            },
            "spec": spec,
        },
        field_manager=FIELD_MANAGER,
        # The rollout's own writers own the replicas by now (and an older promotion the
        # template): the sync takes them back.
        force=True,
    )
