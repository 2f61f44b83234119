"""One app in one environment: its objects as a tree, each with its health, the live
manifests (Secret values masked), the git-vs-live diff and the recent Kubernetes events.

The tree follows ownerReferences down from what git holds: a Deployment's ReplicaSets,
their Pods, a CronJob's Jobs. Owned objects are found with one LIST per kind in the
environment's namespace, whatever their number, so an app of 2,000 objects costs a
handful of requests.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import Forbidden, NotFound
from hakobu.health import HealthRules, HealthStatus, assess
from hakobu.model.objects import Object
from hakobu.sync import diff_app
from hakobu.sync.diff import HIDDEN, is_secret, masked
from hakobu.web.rolloutview import app_rollouts
from hakobu.web.snapshot import EnvSnapshot

# What each kind may own, as the built-in controllers create them.
_OWNED = {
    "Deployment": (("apps/v1", "ReplicaSet"),),
    "ReplicaSet": (("v1", "Pod"),),
    "StatefulSet": (("v1", "Pod"), ("apps/v1", "ControllerRevision")),
    "DaemonSet": (("v1", "Pod"), ("apps/v1", "ControllerRevision")),
    "CronJob": (("batch/v1", "Job"),),
    "Job": (("v1", "Pod"),),
}
_EVENTS = 50
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def app_detail(kube: KubeApi, snapshot: EnvSnapshot, app: str) -> dict[str, Any]:
    """``app`` as the newest snapshot observed it, with what it owns and its events now."""
    state = snapshot.states.get(app)
    if state is None:
        raise NotFound(404, "NotFound", f"no app named {app!r} in {snapshot.env}", {})
    roots = [
        live if live is not None else step.resource.obj
        for step in state.plan.steps
        for live in [state.live.get(step.resource.id)]
        if not step.resource.hook
    ]
    present = [obj for obj in roots if _uid(obj)]
    # The diff and the namespace's events need not wait for the tree's LISTs, nor it for
    # them: a page of 2,000 objects is mostly the time these requests take.
    with ThreadPoolExecutor(max_workers=2) as pool:
        diffs = pool.submit(lambda: [asdict(d) for d in diff_app(kube, state)])
        events = pool.submit(_events, kube, snapshot.namespace)
        owned = _owned(kube, snapshot.namespace, present)
        tree = [_node(obj, owned, snapshot.rules, live=bool(_uid(obj))) for obj in roots]
        return {
            "env": snapshot.env,
            "app": app,
            "revision": snapshot.revision,
            # Its sync state, health and what it waits for, as the overview's cell has them.
            "status": snapshot.apps[app].json(),
            "tree": tree,
            "objects": _count(tree),
            "diff": diffs.result(),
            "events": recent_events(events.result(), _names(tree)),
            "rollouts": app_rollouts(kube, present),
        }


def live_manifest(obj: Object) -> Object:
    """``obj`` as the browser may see it: a Secret's values masked as ``hakobu diff`` does,
    and without managedFields, which only hakobu reads."""
    shown = {**obj, "metadata": {**(obj.get("metadata") or {})}}
    shown["metadata"].pop("managedFields", None)
    if is_secret(obj):
        shown, _ = masked(shown, shown)
        # `kubectl apply` keeps the whole Secret, values included, in this annotation.
        annotations = dict(shown["metadata"].get("annotations") or {})
        if annotations.pop(_LAST_APPLIED, None) is not None:
            shown["metadata"]["annotations"] = {**annotations, _LAST_APPLIED: HIDDEN}
    return shown


def _owned(kube: KubeApi, namespace: str, roots: list[Object]) -> dict[str, list[Object]]:
    """uid → the objects it owns, following the kinds down level by level."""
    owned: dict[str, list[Object]] = {}
    level = roots
    listed: set[tuple[str, str]] = set()
    while level:
        kinds = {k for obj in level for k in _OWNED.get(str(obj.get("kind")), ())} - listed
        uids = {_uid(obj) for obj in level}
        found: list[Object] = []
        for api_version, kind in sorted(kinds):
            listed.add((api_version, kind))
            try:
                items = kube.list(api_version, kind, namespace).items
            except (Forbidden, NotFound):
                continue
            for item in items:
                refs = (item.get("metadata") or {}).get("ownerReferences") or []
                for ref in refs:
                    uid = str(ref.get("uid"))
                    if uid in uids:
                        owned.setdefault(uid, []).append(item)
                        found.append(item)
        level = found
    return owned


def _node(
    obj: Object, owned: dict[str, list[Object]], rules: HealthRules, *, live: bool
) -> dict[str, Any]:
    metadata = obj.get("metadata") or {}
    if live:
        health = assess(obj, rules)
        status, message = (
            (str(health.status), health.message) if health else (str(HealthStatus.HEALTHY), "")
        )
    else:
        status, message = str(HealthStatus.MISSING), "not in the cluster"
    children = sorted(owned.get(_uid(obj), ()), key=lambda o: str(o["metadata"]["name"]))
    return {
        "kind": obj.get("kind"),
        "name": metadata.get("name"),
        "namespace": metadata.get("namespace"),
        "apiVersion": obj.get("apiVersion"),
        "health": status,
        "message": message,
        "children": [_node(child, owned, rules, live=True) for child in children],
    }


def _count(nodes: list[dict[str, Any]]) -> int:
    return sum(1 + _count(node["children"]) for node in nodes)


def _names(nodes: list[dict[str, Any]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for node in nodes:
        found.add((str(node["kind"]), str(node["name"])))
        found |= _names(node["children"])
    return found


def _events(kube: KubeApi, namespace: str) -> list[Object]:
    try:
        return kube.list("v1", "Event", namespace).items
    except Forbidden:
        return []


def recent_events(items: list[Object], about: set[tuple[str, str]]) -> list[Any]:
    """The newest of the events about the given (kind, name)s."""
    mine = [
        e
        for e in items
        if (str(e["involvedObject"].get("kind")), str(e["involvedObject"].get("name"))) in about
    ]
    mine.sort(key=_when, reverse=True)
    return [
        {
            "type": e.get("type"),
            "reason": e.get("reason"),
            "message": e.get("message"),
            "object": f"{e['involvedObject'].get('kind')}/{e['involvedObject'].get('name')}",
            "count": e.get("count"),
            "last": _when(e),
        }
        for e in mine[:_EVENTS]
    ]


def _when(event: Object) -> str:
    """When it last happened, to the second: ``eventTime`` (events.k8s.io) carries
    microseconds the other timestamps do not, and mixed they read unevenly."""
    when = str(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or event["metadata"].get("creationTimestamp", "")
    )
    seconds, dot, _ = when.partition(".")
    return f"{seconds}Z" if dot else when


def _uid(obj: Object) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")
