"""What the sync benchmarks share: their own control plane, namespaces reset between tools,
and the objects each tool left, read back from the API server and compared.

Read back, an object keeps only what the applier decides: labels and annotations (less
what the server or the controllers set and hakobu's own ``hakobu.dev/`` bookkeeping), spec
and data, without the Service addresses the server allocates.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hakobu.cluster.client import KubeClient

KINDS = (("apps/v1", "Deployment"), ("v1", "Service"), ("v1", "ConfigMap"))
# Set by the server or a controller, not by whoever applied the object.
_SERVER_ANNOTATIONS = ("deployment.kubernetes.io/revision",)
# Allocated by the server for each new Service, so two runs never agree on them.
_SERVER_SPEC_FIELDS = {"Service": ("clusterIP", "clusterIPs")}
_HAKOBU_KEYS = "hakobu.dev/"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# A request as `kubectl -v=6` logs it.
_KUBECTL_REQUEST = re.compile(r'"Response" verb="(GET|POST|PUT|PATCH|DELETE)"')

Key = tuple[str, str, str]


@contextmanager
def control_plane(state_dir: Path) -> Iterator[str]:
    """A local control plane of the benchmark's own in ``state_dir``, stopped at the end;
    yields its admin kubeconfig's path."""
    cluster = [sys.executable, "-m", "hakobu", "cluster", "--state-dir", str(state_dir)]
    subprocess.run([*cluster, "up"], check=True, stdout=subprocess.DEVNULL)
    try:
        yield str(json.loads((state_dir / "state.json").read_text())["kubeconfig"])
    finally:
        subprocess.run([*cluster, "down"], check=True, stdout=subprocess.DEVNULL)


def create_namespaces(kube: KubeClient, names: Iterable[str]) -> None:
    for name in names:
        kube.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            field_manager="bench",
        )


def reset_namespaces(kube: KubeClient, namespaces: Iterable[str]) -> float:
    """Delete the namespaces with everything in them, wait until they are gone, create them
    again: the next tool starts from the cluster the previous one started from."""
    started = time.monotonic()
    names = set(namespaces)
    for name in sorted(names):
        kube.delete("v1", "Namespace", name, propagation="Background")
    deadline = started + 600
    while names & {ns["metadata"]["name"] for ns in kube.list("v1", "Namespace").items}:
        if time.monotonic() > deadline:
            raise SystemExit("the benchmark's namespaces were not deleted within 10 minutes")
        time.sleep(0.5)
    create_namespaces(kube, sorted(names))
    return time.monotonic() - started


def settle(kube: KubeClient, namespace: str, quiet: float = 10.0) -> float:
    """Wait until no object of the applied kinds in ``namespace`` has changed for ``quiet``
    seconds (the controllers have written the status of what was just created), as a
    re-sync minutes later finds the cluster; the seconds waited."""
    started = time.monotonic()
    last, since = None, started
    while time.monotonic() - since < quiet:
        if time.monotonic() - started > 900:
            raise SystemExit(f"the objects of {namespace} still change after 15 minutes")
        versions = frozenset(
            (kind, o["metadata"]["name"], o["metadata"]["resourceVersion"])
            for api_version, kind in KINDS
            for o in kube.list(api_version, kind, namespace).items
        )
        if versions != last:
            last, since = versions, time.monotonic()
        time.sleep(1.0)
    return time.monotonic() - started


def identities(items: Iterable[dict[str, Any]]) -> set[Key]:
    return {(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in items}


def read_back(kube: KubeClient, wanted: set[Key]) -> dict[Key, Any]:
    """The applied objects as the API server now holds them, keyed by kind, namespace and
    name, with only what the applier decides: labels and annotations (less the server's and
    hakobu's bookkeeping), spec and data."""
    state: dict[Key, Any] = {}
    for api_version, kind in KINDS:
        for obj in kube.list(api_version, kind).items:
            meta = obj["metadata"]
            key = (kind, meta.get("namespace", ""), meta["name"])
            if key not in wanted:
                continue
            spec = dict(obj.get("spec") or {})
            for field in _SERVER_SPEC_FIELDS.get(kind, ()):
                spec.pop(field, None)
            state[key] = {
                "labels": _own(meta.get("labels")),
                "annotations": _own(meta.get("annotations"), _SERVER_ANNOTATIONS),
                "spec": spec,
                "data": obj.get("data"),
            }
    missing = wanted - state.keys()
    if missing:
        raise SystemExit(
            f"{len(missing)} applied objects are not in the cluster, e.g. {min(missing)}"
        )
    return state


def _own(values: dict[str, str] | None, server_keys: tuple[str, ...] = ()) -> dict[str, str]:
    return {
        key: value
        for key, value in (values or {}).items()
        if not key.startswith(_HAKOBU_KEYS) and key not in server_keys
    }


def differences(name: str, state: dict[Key, Any], reference: dict[Key, Any]) -> list[str]:
    differing = sorted(key for key in reference if state.get(key) != reference[key])
    if not differing:
        return []
    key = differing[0]
    return [
        f"{name} left {len(differing)} objects different from kubectl's, e.g. {key}:\n"
        f"  kubectl: {json.dumps(reference[key], sort_keys=True)}\n"
        f"  {name}: {json.dumps(state.get(key), sort_keys=True)}"
    ]


def kubectl_requests(log: str) -> Counter[str]:
    """The requests, by verb, in the log of a `kubectl -v=6` run."""
    return Counter(m.group(1) for m in _KUBECTL_REQUEST.finditer(log))


def writes(requests: Counter[str]) -> int:
    return sum(requests[v] for v in WRITES)
