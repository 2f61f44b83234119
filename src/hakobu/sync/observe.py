"""Read what the cluster holds for an environment and plan every app against it.

The only requests are reads: the apps' inventories (one LIST), then, for each kind of the
environment's objects, a LIST of what carries the environment's labels (across the cluster
when the kind is in several namespaces). Objects it does not find — new ones, or ones whose
labels were removed or changed (to be adopted, or left alone as someone else's) — are
looked up without the labels: one by one when they are few, else with one LIST of the kind
in that namespace. ``diff``, ``status`` and ``sync`` all start here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass

from hakobu.cluster.api import KubeApi
from hakobu.cluster.errors import Forbidden, NotFound
from hakobu.errors import InvalidInput
from hakobu.model.gcpause import gc_paused
from hakobu.model.objects import Object, ObjectId
from hakobu.model.project import Environment, Project
from hakobu.secrets.keystore import DEFAULT_NAMESPACE
from hakobu.sync.defaulting import settled
from hakobu.sync.insync import InSync
from hakobu.sync.manifests import DesiredState
from hakobu.sync.ownership import (
    APP_LABEL,
    ENVIRONMENT_LABEL,
    INVENTORY_LABEL,
    PROJECT_LABEL,
    RECORD_LABEL,
    Inventory,
    Owner,
    digest,
    read_inventories,
    stamp,
)
from hakobu.sync.plan import Action, AppPlan, Resource, plan_app, resource_of
from hakobu.sync.sealed import (
    Blocked,
    Opened,
    foreign,
    is_sealed,
    open_all,
    opens_sealed,
    read_keys,
)
from hakobu.sync.served import Served

# Up to this many objects of one kind and namespace that the labelled LIST did not find
# are read one by one; more are found with one LIST of everything of that kind there,
# which costs one request however many objects the namespace holds.
_FEW = 2

# Up to this many apps are named in the LISTs' label selector; beyond, the request line
# would grow past what API servers and proxies accept.
_APPS_IN_SELECTOR = 100

# (apiVersion, kind, namespace)
_Key = tuple[str, str, str]
# A group of objects → the names wanted there.
_Groups = dict[_Key, dict[str, ObjectId]]


@dataclass(frozen=True)
class AppState:
    plan: AppPlan
    inventory: Inventory | None
    live: Mapping[ObjectId, Object | None]
    # Of the app's manifests as they are now; the inventory keeps the one last synced.
    digest: str
    # False for an app git no longer holds, whose objects are still in the cluster.
    in_git: bool = True
    # What keeps the app from being synced at all (a SealedSecret hakobu cannot open, or
    # whose Secret is someone else's); the plan leaves those Secrets out.
    blocked: tuple[Blocked, ...] = ()
    # Existing Secrets annotated as managed by Sealed Secrets that hakobu takes over.
    taken_over: frozenset[ObjectId] = frozenset()
    # The server's deprecation warnings for kinds the app declares, with their files.
    warnings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.plan.owner.app


def observe(
    kube: KubeApi,
    project: Project,
    env: Environment,
    desired: DesiredState,
    *,
    only_app: str | None = None,
    workers: int = 8,
    keys_namespace: str | None = None,
) -> list[AppState]:
    """With ``sealedSecrets: hakobu``, SealedSecrets are opened with the keys kept in
    ``keys_namespace`` (by default the environment's ``keysNamespace``, else the controller's
    kube-system) and planned as the Secrets they open to."""
    with gc_paused():
        return _observe(
            kube,
            project,
            env,
            desired,
            only_app=only_app,
            workers=workers,
            keys_namespace=keys_namespace,
        )


def _observe(
    kube: KubeApi,
    project: Project,
    env: Environment,
    desired: DesiredState,
    *,
    only_app: str | None,
    workers: int,
    keys_namespace: str | None,
) -> list[AppState]:
    in_git = {app.name for app in desired.apps}
    first = sorted(in_git) if only_app is None else [only_app] if only_app in in_git else []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        # The inventories are read while git's apps are opened and their annotations
        # validated (bad input still fails before any write), and git's objects are listed
        # beside them: most of those LISTs' time is the server's.
        asked = pool.submit(read_inventories, kube, env.namespace, project.name, env.name)
        opened = _open(kube, env, desired, first, keys_namespace)
        resources = {name: _resources(project, env, name, opened[name]) for name in first}
        early = _Lists(
            kube,
            pool,
            {_key(r.id, r.obj["apiVersion"]) for rs in resources.values() for r in rs},
            _selector(project, env, first),
            "",
        )
        inventories, version = asked.result()
        # An app git no longer holds, whose objects were all pruned, has nothing left to
        # sync or to show: its emptied inventory makes no app.
        left_behind = {app for app, inventory in inventories.items() if inventory.entries}
        names = sorted(in_git | left_behind)
        if only_app is not None:
            if only_app not in names:
                raise InvalidInput(
                    f"no app named {only_app!r} in {project.output_dir.name}/{env.name} at "
                    f"{desired.revision}, nor in the cluster",
                    hint=f"apps: {', '.join(names) or 'none'}",
                )
            names = [only_app]
        later = [name for name in names if name not in opened]
        opened |= _open(kube, env, desired, later, keys_namespace)
        resources |= {name: _resources(project, env, name, opened[name]) for name in later}
        wanted: dict[str, dict[ObjectId, str]] = {}
        for name in names:
            inventory = inventories.get(name)
            # Hooks too: a hook's previous copy is replaced (and shown as such), not applied
            # over.
            app_wanted = {r.id: r.obj["apiVersion"] for r in resources[name]}
            for entry in inventory.entries if inventory else ():
                app_wanted.setdefault(entry.id, entry.api_version)
            wanted[name] = app_wanted
        live = read_live(
            kube,
            (item for w in wanted.values() for item in w.items()),
            _selector(project, env, names),
            version,
            pool=pool,
            early=early,
        )
    served = Served(kube, desired)
    memo = InSync.of(project.root, env.name, env.ignore_differences)
    states = []
    for name in names:
        owner = Owner(project.name, env.name, name)
        inventory = inventories.get(name)
        app_live = {oid: live.get(oid) for oid in wanted[name]}
        theirs, taken_over = foreign(opened[name].secrets, app_live, owner)
        blocked = (*opened[name].blocked, *theirs, *served.blocked(resources[name]))
        left_out = {b.id for b in blocked}
        # Of git's manifests, never of opened Secrets: the inventory must not hold a
        # digest of secret values.
        in_git_manifests = desired.app(name).manifests
        app_digest = digest(
            # The resources stamped them already when nothing was opened.
            (r.obj for r in resources[name])
            if opened[name].manifests is in_git_manifests
            else (stamp(m.obj, owner) for m in in_git_manifests)
        )
        # Opened Secrets are not in the digest (it must not hold their values).
        key = (
            None
            if opened[name].secrets
            else memo.key(app_digest, (app_live.get(r.id) for r in resources[name]))
        )
        known = key is not None and memo.holds(name, key)
        plan = plan_app(
            owner,
            [r for r in resources[name] if r.id not in left_out],
            app_live,
            [e for e in (inventory.entries if inventory else ()) if e.id not in left_out],
            git_changed=inventory is None or inventory.digest != app_digest,
            ignore=env.ignore_differences,
            known_in_sync=known,
        )
        if key is not None and not known and all(s.action is Action.UNCHANGED for s in plan.steps):
            memo.note(name, key)
        plan = settled(kube, plan, app_live)
        warnings = tuple(served.warnings(resources[name]))
        states.append(
            AppState(
                plan,
                inventory,
                app_live,
                app_digest,
                name in in_git,
                blocked,
                taken_over,
                warnings,
            )
        )
    memo.save(None if only_app is not None else names)
    return states


def _resources(project: Project, env: Environment, app: str, opened: Opened) -> list[Resource]:
    owner = Owner(project.name, env.name, app)
    return [resource_of(m, owner) for m in opened.manifests]


def _open(
    kube: KubeApi,
    env: Environment,
    desired: DesiredState,
    names: Iterable[str],
    keys_namespace: str | None,
) -> dict[str, Opened]:
    """Each app's manifests, SealedSecrets opened when the environment says hakobu opens
    them; the keys are read only when there is one to open."""
    apps = {name: desired.app(name).manifests for name in names}
    if not opens_sealed(env.sealed_secrets) or not any(
        is_sealed(m.obj) for manifests in apps.values() for m in manifests
    ):
        return {name: Opened(manifests, frozenset(), ()) for name, manifests in apps.items()}
    keys = read_keys(kube, keys_namespace or env.keys_namespace or DEFAULT_NAMESPACE)
    return {name: open_all(manifests, keys) for name, manifests in apps.items()}


def _selector(project: Project, env: Environment, names: Sequence[str]) -> str:
    """What the environment's objects of apps ``names`` are labelled with."""
    # Inventories and sync records carry the environment's labels too, and are ConfigMaps:
    # left out, they are not decoded again with the apps' ConfigMaps (a record of thousands
    # of apps is up to 1 MiB, and 20 are kept).
    selector = (
        f"{PROJECT_LABEL}={project.name},{ENVIRONMENT_LABEL}={env.name},"
        f"!{INVENTORY_LABEL},!{RECORD_LABEL}"
    )
    if 0 < len(names) <= _APPS_IN_SELECTOR:
        # A LIST across the cluster would also return copies of the environment deployed
        # from elsewhere (another checkout of the project); naming the apps keeps them out.
        selector += f",{APP_LABEL} in ({','.join(names)})"
    return selector


def _key(oid: ObjectId, api_version: str) -> _Key:
    return (api_version, oid.kind, oid.namespace)


class _Lists:
    """The labelled LISTs of groups of objects, each (apiVersion, kind, namespace), sent to
    ``pool`` at once and answered by ``result``. Every LIST reflects at least what the
    cluster held at resourceVersion ``version`` ("": what it holds now), served from the API
    server's cache."""

    def __init__(
        self, kube: KubeApi, pool: Executor, keys: Iterable[_Key], selector: str, version: str
    ) -> None:
        self.keys = set(keys)
        self._kube, self._pool, self._selector, self._version = kube, pool, selector, version
        kinds: dict[tuple[str, str], list[_Key]] = {}
        for key in sorted(self.keys):
            kinds.setdefault(key[:2], []).append(key)
        # A kind spread over several namespaces is read with one LIST across the cluster:
        # one request instead of one per namespace, which was most of a no-op sync's time.
        self._across = [
            (keys, pool.submit(_list_across, kube, keys, selector, version))
            for keys in kinds.values()
            if len(keys) > 1
        ]
        self._alone = [self._labelled(keys[0]) for keys in kinds.values() if len(keys) == 1]

    def _labelled(self, key: _Key) -> tuple[_Key, Future[list[Object] | None]]:
        return key, self._pool.submit(
            _list_labelled, self._kube, key, self._selector, self._version
        )

    def result(self) -> dict[_Key, list[Object]]:
        """The labelled objects of each group whose kind the server knows."""
        labelled: dict[_Key, list[Object]] = {}
        alone = list(self._alone)
        for keys, across in self._across:
            by_key = across.result()
            if by_key is None:
                # Not to be listed across the cluster: namespace by namespace.
                alone += [self._labelled(key) for key in keys]
            else:
                labelled.update(by_key)
        for key, items in alone:
            found = items.result()
            if found is not None:
                labelled[key] = found
        return labelled


def read_live(
    kube: KubeApi,
    wanted: Iterable[tuple[ObjectId, str]],
    selector: str,
    version: str,
    *,
    pool: Executor,
    early: _Lists,
) -> dict[ObjectId, Object]:
    """The live object of each wanted (id, apiVersion) that exists; ``selector`` matches
    most of them. ``early`` lists some of the groups already; the others are listed as
    fresh as resourceVersion ``version`` (the inventories' read), which is the sync's own
    start, as ``early``'s LISTs are."""
    groups: _Groups = {}
    for oid, api_version in wanted:
        groups.setdefault(_key(oid, api_version), {})[oid.name] = oid
    rest = _Lists(kube, pool, (key for key in groups if key not in early.keys), selector, version)
    labelled = {k: v for k, v in early.result().items() if k in groups} | rest.result()
    live: dict[ObjectId, Object] = {}
    for found in pool.map(
        lambda key: _complete(kube, key, groups[key], labelled[key], version), labelled
    ):
        live.update(found)
    return live


def _list_across(
    kube: KubeApi, keys: list[tuple[str, str, str]], selector: str, version: str
) -> dict[tuple[str, str, str], list[Object]] | None:
    """The labelled objects of one kind in each namespace of ``keys``, from one LIST across
    the cluster; nothing when the kind is unknown, None without the right to list it
    across the cluster (it is then read namespace by namespace)."""
    api_version, kind, _ = keys[0]
    try:
        found = kube.list(api_version, kind, None, label_selector=selector, not_older_than=version)
    except NotFound:
        return {}
    except Forbidden:
        return None
    by_key: dict[tuple[str, str, str], list[Object]] = {key: [] for key in keys}
    for item in found.items:
        key = (api_version, kind, item["metadata"].get("namespace") or "")
        if key in by_key:
            by_key[key].append(item)
    return by_key


def _list_labelled(
    kube: KubeApi, key: tuple[str, str, str], selector: str, version: str
) -> list[Object] | None:
    """The labelled objects of one kind in one namespace; None when the kind is unknown."""
    api_version, kind, namespace = key
    try:
        found = kube.list(
            api_version, kind, namespace or None, label_selector=selector, not_older_than=version
        )
    except NotFound:
        # The kind is unknown (its definition is not installed yet) or the namespace is.
        return None
    return found.items


def _complete(
    kube: KubeApi,
    key: tuple[str, str, str],
    names: dict[str, ObjectId],
    labelled: list[Object],
    version: str,
) -> dict[ObjectId, Object]:
    """What ``labelled`` (the kind's labelled objects in the namespace) holds of ``names``,
    and those it lacks looked up without the labels."""
    api_version, kind, namespace = key
    found = _by_name(labelled, names)
    missing = [name for name in names if names[name] not in found]
    if len(missing) > _FEW:
        everything = kube.list(api_version, kind, namespace or None, not_older_than=version)
        found.update(_by_name(everything.items, names))
    else:
        for name in missing:
            try:
                found[names[name]] = kube.get(api_version, kind, name, namespace or None)
            except NotFound:
                continue
    return found


def _by_name(items: list[Object], names: dict[str, ObjectId]) -> dict[ObjectId, Object]:
    return {names[n]: item for item in items if (n := item["metadata"]["name"]) in names}
