"""The clusters an environment is delivered to, read from ``hakobu.yaml``.

::

    environments:
      production:
        namespace: shop
        clusters:
        - name: eu                # a DNS label: how output, records and messages name it
          context: prod-eu        # the kubeconfig context (default: the name)
        - name: us

An environment without ``clusters`` goes to one cluster: the kubeconfig's current context,
or the one ``--context`` names. With them, a sync from the command line fans out to every
cluster listed (``hakobu.sync.fanout``); a Delivery delivers to one cluster, the one its
``spec.cluster.secretRef`` names, so each cluster gets a Delivery of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hakobu.model.source import Document, FieldPath

_FIELDS = ("name", "context")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# A kubeconfig names contexts freely; only what cannot be a name is refused here.
_CONTEXT = re.compile(r"^[^\x00-\x1f\x7f]{1,253}$")


@dataclass(frozen=True)
class Cluster:
    name: str
    # The kubeconfig context that reaches it, for the command line.
    context: str


def parse_clusters(doc: Document, path: FieldPath, value: Any) -> tuple[Cluster, ...]:
    """``clusters: [{name: eu, context: prod-eu}, …]``; absent: () (the one current cluster)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise doc.error(
            path,
            "expected a non-empty list of clusters such as [{name: eu, context: prod-eu}]",
            hint="leave clusters out to sync to the kubeconfig's current context",
        )
    clusters: list[Cluster] = []
    for index, item in enumerate(value):
        at: FieldPath = (*path, index)
        if not isinstance(item, dict):
            raise doc.error(at, f"expected a mapping with name and context, found {item!r}")
        for key in item:
            if key not in _FIELDS:
                raise doc.error((*at, key), f"unknown field; expected one of: {', '.join(_FIELDS)}")
        name = item.get("name")
        if not isinstance(name, str) or not _DNS_LABEL.match(name) or len(name) > 63:
            raise doc.error(
                (*at, "name"),
                "expected a DNS label (lower-case letters, digits and '-', at most 63), "
                f"found {name!r}",
            )
        if any(c.name == name for c in clusters):
            raise doc.error((*at, "name"), f"cluster {name!r} is listed twice")
        context = item.get("context", name)
        if not isinstance(context, str) or not _CONTEXT.match(context):
            raise doc.error(
                (*at, "context"), f"expected the name of a kubeconfig context, found {context!r}"
            )
        clusters.append(Cluster(name, context))
    return tuple(clusters)
