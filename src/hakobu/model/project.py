"""The project file, ``hakobu.yaml``: environments, where apps live, where output goes.

::

    apiVersion: hakobu.dev/v1alpha1
    kind: Project
    name: shop
    apps: apps                # a directory; each entry in it is one app
    output: generated         # generated/<env>/<app>/<kind>-<name>.yaml
    secrets: secrets          # secrets/<env>/<app>/*.yaml: SealedSecrets of one environment
    environments:
      evaluation:
        namespace: shop-eval
        values: {replicas: 1}
      production:
        namespace: shop
        values: {replicas: 3}
        allowPlaintextSecrets: false
        branch: tier-1            # optional: this environment follows its own branch
        sealedSecrets: controller # or hakobu: sync unseals with the cluster's key store
        keysNamespace: kube-system  # where that key store is (with sealedSecrets: hakobu)
        autoRollback: {window: 300}  # the agent rolls back a sync that turns Degraded
        syncWindows:              # no automatic sync from 22:00 to 06:00, Berlin time
        - {kind: deny, schedule: "0 22 * * *", duration: 8h, timeZone: Europe/Berlin}
        clusters:                 # optional: sync to each (default: the current context)
        - {name: eu, context: prod-eu}
        - {name: us, context: prod-us}
        base: web@2               # the platform base of app specs that name none
    promote:
      values: [release, features.checkout]  # what `hakobu promote` carries between them
    notifications:                # messages about syncs, health, rollbacks, promotions
      commitUrl: https://git.example/shop/commit/{revision}
      targets:
      - {name: team-chat, provider: slack, secretRef: {name: shop-chat}}
    dependsOn:                    # apps without an app spec: synced after these are Healthy
      web: [redis]
    health:                       # CEL rules for custom resources (model.healthrules)
    - apiVersion: db.example.com/v1
      kind: Database
      failed: "has(status.phase) && status.phase == 'Failed'"
      current: "has(status.phase) && status.phase == 'Available'"
    kustomize:                    # remote bases, fetched at a pinned ref (model.remotetarget)
      remoteResources: {allow: [github.com/shop/*]}
    source:                       # a system repository's fleets render from (model.sourcepin)
      repository: https://git.example/shop/app.git
      revision: 4f0c3a9d2b7e61c58a0f9e3d1c2b4a5968776655
    previews:                     # an environment per branch (model.previews)
      from: evaluation
      branches: "feature/*"
      namespace: "preview-{{branch}}"
      host: "{{branch}}.preview.example.com"
      ttl: 72h
      maxCount: 5
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hakobu.errors import InvalidInput
from hakobu.health import HealthRules
from hakobu.model.appspec_schema import BASE_REF_PATTERN
from hakobu.model.clusters import Cluster, parse_clusters
from hakobu.model.dependencies import Declared, parse_declared
from hakobu.model.healthrules import parse_health_rules
from hakobu.model.ignoredifferences import IgnoreRule, parse_ignore_differences
from hakobu.model.notifications import Notifications, parse_notifications
from hakobu.model.previews import Previews, parse_previews
from hakobu.model.remotetarget import RemotePolicy, parse_policy
from hakobu.model.source import Document, FieldPath, SourceError, load_one
from hakobu.model.sourcepin import SourcePin, parse_source
from hakobu.model.syncwindows import SyncWindow, parse_sync_windows

PROJECT_FILE = "hakobu.yaml"
API_VERSION = "hakobu.dev/v1alpha1"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# `images` is read by hakobu.model.images.
_TOP_FIELDS = (
    "apiVersion",
    "kind",
    "name",
    "apps",
    "output",
    "secrets",
    "environments",
    "images",
    "promote",
    "notifications",
    "dependsOn",
    "ignoreDifferences",
    "health",
    "previews",
    "kustomize",
    "source",
)
_ENV_FIELDS = (
    "namespace",
    "values",
    "allowPlaintextSecrets",
    "branch",
    "sealedSecrets",
    "keysNamespace",
    "autoRollback",
    "syncWindows",
    "ignoreDifferences",
    "clusters",
    "base",
)
SEALED_SECRETS_MODES = ("controller", "hakobu")
# What `git check-ref-format --branch` accepts, minus the rarely used corners.
_BRANCH = re.compile(r"^(?!/|.*(\.\.|//|@\{|\.lock$|/$|\.$))[^\s~^:?*\[\\\x00-\x1f\x7f]+$")


@dataclass(frozen=True)
class Environment:
    name: str
    namespace: str
    values: dict[str, Any]
    allow_plaintext_secrets: bool
    # A tier branch this environment follows (promotion moves it); None: the main line.
    branch: str | None = None
    # Who turns SealedSecrets into Secrets: the Bitnami controller in the cluster (the
    # SealedSecret is applied as it is), or hakobu itself during a sync (with the keys of
    # the cluster's key store).
    sealed_secrets: str = "controller"
    # Seconds after a sync during which a Degraded app makes the agent commit a rollback;
    # None: never roll back automatically.
    auto_rollback_window: int | None = None
    # Where the sealing keys are kept, for sealedSecrets: hakobu (None: the controller's
    # default namespace, kube-system).
    keys_namespace: str | None = None
    # When syncs may run: automatic ones only in an open window, manual ones there or with
    # an override (``hakobu.sync.windows``); none: always.
    sync_windows: tuple[SyncWindow, ...] = ()
    # Fields of live objects a sync neither applies nor compares: the project's rules, then
    # the environment's.
    ignore_differences: tuple[IgnoreRule, ...] = ()
    # The clusters a sync fans out to; none: the one cluster the kubeconfig (or the
    # controller's own) points at.
    clusters: tuple[Cluster, ...] = ()
    # The platform base (NAME@VERSION) of the app specs that name none; None: no base.
    base: str | None = None

    def cluster(self, name: str) -> Cluster:
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        known = ", ".join(c.name for c in self.clusters) or "none (it uses one cluster)"
        raise InvalidInput(
            f"environment {self.name!r} has no cluster named {name!r}",
            hint=f"its clusters in hakobu.yaml: {known}",
        )


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    apps_dir: Path
    output_dir: Path
    environments: tuple[Environment, ...]
    # SealedSecrets sealed for one environment's namespace: <secrets>/<env>/<app>/*.yaml.
    secrets_dir: Path
    # Paths into the environments' values that `hakobu promote` carries from one
    # environment into the next, each split at its dots.
    promoted_values: tuple[tuple[str, ...], ...] = ()
    # Who hears about syncs, health, rollbacks and promotions (``model.notifications``).
    notifications: Notifications = field(default_factory=Notifications)
    # ``dependsOn`` of the apps that have no app spec to say it (kustomize, templates).
    depends_on: dict[str, Declared] = field(default_factory=dict)
    # How custom resources' health is judged, before hakobu's own checks and rules.
    health: HealthRules = field(default_factory=HealthRules)
    # Preview environments of branches (``model.previews``); None: the project has none.
    previews: Previews | None = None
    # Which git repositories kustomizations may name as remote bases (none by default).
    remote_resources: RemotePolicy = field(default_factory=RemotePolicy)
    # The application repository this (system) repository renders fleets from.
    source: SourcePin | None = None
    # That repository's tree at the pinned commit, once fetched (``releases.sourcepin``).
    source_tree: Path | None = None

    @property
    def read_roots(self) -> tuple[Path, ...]:
        """Where a render may read besides the project: the pinned tree."""
        return (self.source_tree,) if self.source_tree is not None else ()

    @property
    def file(self) -> Path:
        return self.root / PROJECT_FILE

    def environment(self, name: str) -> Environment:
        for env in self.environments:
            if env.name == name:
                return env
        known = ", ".join(e.name for e in self.environments)
        raise SourceError(
            self.file,
            f"no environment named {name!r}",
            field=("environments",),
            hint=f"the project defines: {known}",
        )


def find_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` that holds a ``hakobu.yaml``."""
    current = start.resolve()
    for candidate in (current, *current.parents):
        if (candidate / PROJECT_FILE).is_file():
            return candidate
    raise SourceError(
        start / PROJECT_FILE,
        "no hakobu.yaml here or in any parent directory",
        hint="run `hakobu init` to create a project, or run hakobu inside one",
    )


def load_project(root: Path, text: str | None = None) -> Project:
    """The project at ``root``; from ``text`` instead of its file when given (an edit to check)."""
    doc = load_one(root / PROJECT_FILE, text)
    data = _mapping(doc, (), doc.data)
    _no_unknown(doc, (), data, _TOP_FIELDS)
    if data.get("apiVersion") != API_VERSION:
        raise doc.error(("apiVersion",), f"expected apiVersion {API_VERSION!r}")
    if data.get("kind") != "Project":
        raise doc.error(("kind",), "expected kind 'Project'")
    name = _dns_label(doc, ("name",), data.get("name"))
    apps_dir = _relative_dir(doc, root, "apps", data.get("apps", "apps"))
    output_dir = _relative_dir(doc, root, "output", data.get("output", "generated"))
    _separate(doc, root, apps_dir, output_dir)
    secrets_dir = _relative_dir(doc, root, "secrets", data.get("secrets", "secrets"))
    envs_data = _mapping(doc, ("environments",), data.get("environments"))
    if not envs_data:
        raise doc.error(("environments",), "at least one environment is required")
    ignored = parse_ignore_differences(doc, ("ignoreDifferences",), data.get("ignoreDifferences"))
    environments: list[Environment] = []
    for env_name in sorted(envs_data):
        path: FieldPath = ("environments", env_name)
        _dns_label(doc, path, env_name)
        env = _mapping(doc, path, envs_data[env_name] or {})
        _no_unknown(doc, path, env, _ENV_FIELDS)
        namespace = _dns_label(doc, (*path, "namespace"), env.get("namespace"))
        values = _mapping(doc, (*path, "values"), env.get("values") or {})
        allow = env.get("allowPlaintextSecrets", False)
        if not isinstance(allow, bool):
            raise doc.error((*path, "allowPlaintextSecrets"), "expected true or false")
        branch = env.get("branch")
        if branch is not None and (not isinstance(branch, str) or not _BRANCH.match(branch)):
            raise doc.error((*path, "branch"), f"expected a git branch name, found {branch!r}")
        if branch is not None and branch in {e.branch for e in environments}:
            raise doc.error((*path, "branch"), f"branch {branch!r} is used by two environments")
        sealed = env.get("sealedSecrets", "controller")
        if sealed not in SEALED_SECRETS_MODES:
            raise doc.error(
                (*path, "sealedSecrets"),
                f"expected one of {', '.join(SEALED_SECRETS_MODES)}, found {sealed!r}",
            )
        environments.append(
            Environment(
                env_name,
                namespace,
                values,
                allow,
                branch,
                sealed,
                _auto_rollback(doc, (*path, "autoRollback"), env.get("autoRollback")),
                _keys_namespace(doc, (*path, "keysNamespace"), env.get("keysNamespace")),
                parse_sync_windows(doc, (*path, "syncWindows"), env.get("syncWindows")),
                ignored
                + parse_ignore_differences(
                    doc, (*path, "ignoreDifferences"), env.get("ignoreDifferences")
                ),
                parse_clusters(doc, (*path, "clusters"), env.get("clusters")),
                _base(doc, (*path, "base"), env.get("base")),
            )
        )
    promoted = _promoted_values(doc, data.get("promote"))
    notifications = parse_notifications(
        doc,
        ("notifications",),
        data.get("notifications"),
        environments=[e.name for e in environments],
    )
    return Project(
        root,
        name,
        apps_dir,
        output_dir,
        tuple(environments),
        secrets_dir,
        promoted,
        notifications,
        _depends_on(doc, data.get("dependsOn")),
        parse_health_rules(doc, ("health",), data.get("health")),
        parse_previews(
            doc,
            ("previews",),
            data.get("previews"),
            environments=[e.name for e in environments],
        ),
        parse_policy(doc, ("kustomize",), data.get("kustomize")),
        parse_source(doc, root, data.get("source")),
    )


def _depends_on(doc: Document, value: Any) -> dict[str, Declared]:
    """``dependsOn: {web: [redis]}``: app → the apps it depends on."""
    if value is None:
        return {}
    data = _mapping(doc, ("dependsOn",), value)
    declared = {}
    for app, names in data.items():
        if not isinstance(app, str) or not app:
            raise doc.error(("dependsOn",), f"expected app names as keys, found {app!r}")
        declared[app] = parse_declared(doc, ("dependsOn", app), app, names)
    return declared


def _promoted_values(doc: Document, value: Any) -> tuple[tuple[str, ...], ...]:
    """``promote: {values: [release, features.checkout]}``: dot-separated paths."""
    if value is None:
        return ()
    data = _mapping(doc, ("promote",), value)
    _no_unknown(doc, ("promote",), data, ("values",))
    listed = data.get("values", [])
    if not isinstance(listed, list):
        raise doc.error(
            ("promote", "values"), f"expected a list of paths, found {type(listed).__name__}"
        )
    paths: list[tuple[str, ...]] = []
    for index, item in enumerate(listed):
        field: FieldPath = ("promote", "values", index)
        if not isinstance(item, str) or not all(item.split(".")):
            raise doc.error(
                field, f"expected a dot-separated path such as features.checkout, found {item!r}"
            )
        path = tuple(item.split("."))
        for earlier in paths:
            if earlier == path:
                raise doc.error(field, f"{item} is listed twice")
            inner, outer = sorted((earlier, path), key=len)
            if outer[: len(inner)] == inner:
                raise doc.error(
                    field,
                    f"{'.'.join(outer)} lies inside {'.'.join(inner)}, which travels whole",
                    hint=f"list only {'.'.join(inner)}, or only the paths inside it",
                )
        paths.append(path)
    return tuple(paths)


def _keys_namespace(doc: Document, path: FieldPath, value: Any) -> str | None:
    return None if value is None else _dns_label(doc, path, value)


def _auto_rollback(doc: Document, path: FieldPath, value: Any) -> int | None:
    """``autoRollback: {window: 300}`` (seconds), or absent/false for never."""
    if value is None or value is False:
        return None
    data = _mapping(doc, path, value)
    _no_unknown(doc, path, data, ("window",))
    window = data.get("window", 300)
    if not isinstance(window, int) or isinstance(window, bool) or not 0 < window <= 86400:
        raise doc.error((*path, "window"), f"expected seconds from 1 to 86400, found {window!r}")
    return window


def _mapping(doc: Document, path: FieldPath, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise doc.error(path, f"expected a mapping, found {type(value).__name__}")
    return value


def _no_unknown(
    doc: Document, path: FieldPath, data: dict[str, Any], known: tuple[str, ...]
) -> None:
    for key in data:
        if key not in known:
            raise doc.error((*path, key), f"unknown field; expected one of: {', '.join(known)}")


def _dns_label(doc: Document, path: FieldPath, value: Any) -> str:
    if not isinstance(value, str) or not _DNS_LABEL.match(value) or len(value) > 63:
        raise doc.error(
            path,
            f"expected a DNS label (lower-case letters, digits and '-', at most 63), "
            f"found {value!r}",
        )
    return value


def _separate(doc: Document, root: Path, apps_dir: Path, output_dir: Path) -> None:
    """Render replaces what is under the output directory: it must hold nothing else."""
    output = output_dir.relative_to(root)
    apps = apps_dir.relative_to(root)
    if output.parts[:1] == (".git",) or apps.parts[:1] == (".git",):
        field = "output" if output.parts[:1] == (".git",) else "apps"
        raise doc.error((field,), "may not be inside .git, git's own directory")
    if output == Path() or output.parts[: len(apps.parts)] == apps.parts:
        raise doc.error(
            ("output",),
            f"{output.as_posix()!r} overlaps the apps directory {apps.as_posix()!r} "
            "or holds the project file",
            hint="give the output its own directory, such as generated",
        )
    if apps.parts[: len(output.parts)] == output.parts:
        raise doc.error(
            ("output",),
            f"the apps directory {apps.as_posix()!r} lies inside the output directory",
            hint="give the output its own directory, such as generated",
        )


def _base(doc: Document, path: FieldPath, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.match(BASE_REF_PATTERN, value):
        raise doc.error(
            path,
            f"expected a platform base as NAME@VERSION, such as web@2, found {value!r}",
            hint="a base is the directory platform/bases/NAME/VERSION/ of the project",
        )
    return value


def _relative_dir(doc: Document, root: Path, field: str, value: Any) -> Path:
    if (
        not isinstance(value, str)
        or not value
        or Path(value).is_absolute()
        or ".." in Path(value).parts
    ):
        raise doc.error((field,), f"expected a directory inside the project, found {value!r}")
    return root / value
