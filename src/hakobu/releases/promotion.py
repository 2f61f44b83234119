"""Promotion: carry the release one environment runs into the next, as a git commit.

Planned first, then applied, as a rollback is: ``plan_promotion`` works out everything the
promotion would do — the commit (every replaced path with its new content, the message),
or the tier branch to move, the apps, values and images that change, and the health the
source must show — without touching the repository or a cluster, so it can be shown before
anything happens; ``apply_promotion`` checks that health and commits exactly that.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import Unreachable
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.health import HealthStatus
from hakobu.images.project import references
from hakobu.localcluster.helmtool import helm_for_render
from hakobu.model.clusters import Cluster
from hakobu.model.project import PROJECT_FILE, Environment, Project, load_project
from hakobu.releases.appspec import AppPromotion, FieldChange, promote_spec
from hakobu.releases.overlays import promote_overlay
from hakobu.releases.values import ValuesPromotion, promote_values
from hakobu.render.apps import App, discover_apps
from hakobu.render.environment import render_environment
from hakobu.render.inputs import Inputs
from hakobu.render.output import Tree
from hakobu.repo.branches import (
    Advance,
    advance,
    branch_exists,
    branch_tip,
    push,
    tier_branches,
    undo,
)
from hakobu.repo.changes import Replacement, commit_replacements, update_worktree
from hakobu.repo.commit import open_repository
from hakobu.repo.remotetree import RemoteRepositories
from hakobu.repo.repository import Commit, Repository
from hakobu.repo.revisions import (
    File,
    changed_locally,
    export,
    files_at,
    head,
    lookup,
    repo_path,
)
from hakobu.repo.trees import directories
from hakobu.sync import DesiredState, app_status, observe, read_desired
from hakobu.sync.fanout import Reach, fan_out
from hakobu.sync.status import SyncState

_log = logging.getLogger(__name__)

Connect: TypeAlias = Callable[[Cluster | None], KubeClient]
"""Opens a client to a cluster that runs the source environment: one of its ``clusters``,
or None for an environment of one cluster. Called only when a plan is applied, so a request
refused for its own sake never needs a cluster."""


def one_cluster(open_client: Callable[[], KubeClient]) -> Connect:
    """A ``Connect`` that reaches one cluster only, and says so for an environment that
    names clusters of its own."""

    def connect(cluster: Cluster | None) -> KubeClient:
        if cluster is not None:
            raise InvalidInput(
                f"only one cluster is reachable from here, not cluster {cluster.name!r}",
                hint="promote with `hakobu promote`, which reaches each cluster through its "
                "kubeconfig context",
            )
        return open_client()

    return connect


@dataclass(frozen=True)
class PromotionRequest:
    source: str  # the environment whose release to carry
    target: str  # the environment that receives it
    app: str | None = None  # only this app (not between tier branches)
    branch: str | None = None  # commit on this new branch for review (not between tiers)
    push: str | None = None  # push the target's tier branch to this remote (tiers only)
    # Where the sealing keys are, to judge the source's health (None: its keysNamespace).
    keys_namespace: str | None = None


@dataclass(frozen=True)
class HealthCheck:
    """What must hold before the promotion is applied: every app of ``env`` (or ``app``)
    Synced and Healthy at ``revision`` in its cluster."""

    env: str
    revision: str
    app: str | None
    keys_namespace: str | None  # where its sealing keys are; None: its keysNamespace


@dataclass(frozen=True)
class PlannedCommit:
    """The commit that promotes by editing the target's inputs."""

    parent: str  # the commit it is made on (the current one)
    ref: str  # ``HEAD``, or ``refs/heads/<branch>`` for a new branch to review
    replacements: tuple[Replacement, ...]  # each path and every file it holds afterwards
    message: str


@dataclass(frozen=True)
class BranchMove:
    """Promotion between tier branches: ``commit`` (the tip of ``source_branch``) goes onto
    ``branch``: a fast-forward when possible, else a merge commit with ``message``."""

    source_branch: str
    branch: str
    commit: str
    message: str
    push: str | None  # the remote that receives ``branch`` afterwards


@dataclass(frozen=True)
class PromotionPlan:
    source: str
    target: str
    revision: str  # the revision of the source that is promoted
    health: HealthCheck
    branch: str | None  # the new branch for review, or the target's tier branch
    # What changes; all empty for a tier move, which carries whole commits.
    apps: tuple[AppPromotion, ...] = ()
    values: tuple[FieldChange, ...] = ()
    skipped: tuple[str, ...] = ()
    commit: PlannedCommit | None = None  # None: the target runs the source's release already
    move: BranchMove | None = None  # set between tier branches, instead of a commit


@dataclass(frozen=True)
class Promotion:
    source: str
    target: str
    revision: str  # the revision of the source that was promoted
    commit: str | None  # the commit made, None when the target already ran it
    branch: str | None
    apps: tuple[AppPromotion, ...]
    skipped: tuple[str, ...]
    advance: Advance | None = None  # how the target's tier branch moved
    # The environment values hakobu.yaml declares promotable (`promote: values:`).
    values: tuple[FieldChange, ...] = ()


def promote(project: Project, request: PromotionRequest, *, connect: Connect | None) -> Promotion:
    """Plan the promotion and apply it; ``connect=None`` skips the health check."""
    return apply_promotion(project, plan_promotion(project, request), connect=connect)


def plan_promotion(project: Project, request: PromotionRequest) -> PromotionPlan:
    """Promote by moving commits when both environments track a branch of their own, else
    by editing the target's inputs. Refuses, with InvalidInput, what cannot apply."""
    source = project.environment(request.source)
    target = project.environment(request.target)
    if source.name == target.name:
        raise InvalidInput(f"cannot promote {source.name!r} to itself")
    repo = open_repository(project.root)
    tiers = tier_branches(project.file)
    if source.name in tiers and target.name in tiers:
        if request.app is not None or request.branch is not None:
            raise InvalidInput(
                "--app and --branch do not apply between tier branches: promotion moves "
                "whole commits from one tier's branch to the next",
            )
        return plan_tier(
            repo,
            project=project,
            source=source,
            target=target,
            tiers=tiers,
            push_to=request.push,
            keys_namespace=request.keys_namespace,
        )
    if source.name in tiers or target.name in tiers:
        raise InvalidInput(
            "only one of the two environments tracks a branch of its own",
            hint="give both a `branch:` in hakobu.yaml to promote by moving commits, or "
            "neither to promote by editing the target's inputs",
        )
    return plan_inputs(
        repo,
        project=project,
        source=source,
        target=target,
        app=request.app,
        branch=request.branch,
        keys_namespace=request.keys_namespace,
    )


def apply_promotion(project: Project, plan: PromotionPlan, *, connect: Connect | None) -> Promotion:
    """Check the source's health (unless ``connect`` is None), then make the plan's commit
    or move its branch; the work tree shows a commit made on the current branch."""
    if connect is not None:
        require_healthy(connect, project, plan.health)
    repo = open_repository(project.root)
    if plan.move is not None:
        return _move(repo, plan, plan.move)
    planned = plan.commit
    commit = None
    if planned is not None:
        on_head = planned.ref == "HEAD"
        if on_head:
            # Checked again: the health check may have taken a while.
            _refuse_local_changes(repo, planned.replacements)
        parent = lookup(repo, planned.parent)
        commit = commit_replacements(
            repo, parent, planned.replacements, planned.message, ref=planned.ref
        )
        if commit is not None and on_head:
            update_worktree(repo, planned.replacements)
    return Promotion(
        plan.source,
        plan.target,
        plan.revision,
        commit,
        plan.branch,
        plan.apps,
        plan.skipped,
        values=plan.values,
    )


def plan_tier(
    repo: Repository,
    *,
    project: Project,
    source: Environment,
    target: Environment,
    tiers: dict[str, str],
    push_to: str | None,
    keys_namespace: str | None = None,
) -> PromotionPlan:
    """Plan to move the commit ``source``'s branch holds onto ``target``'s branch."""
    tip = branch_tip(repo, tiers[source.name])
    output = repo_path(repo, project.output_dir)
    _same_apps(tip, output, source.name, target.name)
    message = (
        f"promote {source.name} → {target.name}: {tip.short_id}\n\n"
        f"Merges what {source.name} ({tiers[source.name]}) runs at {tip.id} into "
        f"{tiers[target.name]}.\n"
    )
    revision = str(tip.id)
    return PromotionPlan(
        source.name,
        target.name,
        revision,
        HealthCheck(source.name, revision, None, keys_namespace),
        tiers[target.name],
        move=BranchMove(tiers[source.name], tiers[target.name], revision, message, push_to),
    )


def _move(repo: Repository, plan: PromotionPlan, move: BranchMove) -> Promotion:
    moved = advance(repo, lookup(repo, move.commit), move.branch, move.message)
    if move.push:
        try:
            push(repo, move.push, move.branch)
        except OperationFailed:
            # Nothing is left half-done: the local branch goes back to where it was.
            undo(repo, moved)
            raise
    return Promotion(plan.source, plan.target, plan.revision, None, move.branch, (), (), moved)


def plan_inputs(
    repo: Repository,
    *,
    project: Project,
    source: Environment,
    target: Environment,
    app: str | None,
    branch: str | None,
    keys_namespace: str | None = None,
) -> PromotionPlan:
    """Plan to write the values ``source`` runs that each app spec declares promotable
    (``promote``, default the image) into ``target``'s overrides, and each kustomize app's
    images into ``target``'s overlay; render ``target``; commit both."""
    current = head(repo)
    output = repo_path(repo, project.output_dir)
    apps = _same_apps(current, output, source.name, target.name)
    if app is not None and app not in apps:
        raise InvalidInput(
            f"no app named {app!r} in {output}/{source.name}",
            hint=f"apps: {', '.join(sorted(apps))}",
        )
    if branch is not None and branch_exists(repo, branch):
        raise InvalidInput(
            f"branch {branch!r} exists already",
            hint="name a new branch; promotion for review starts one from the current commit",
        )
    revision = str(current.id)
    health = HealthCheck(source.name, revision, app, keys_namespace)
    chosen = [app] if app is not None else sorted(apps)
    root = repo_path(repo, project.root)
    with tempfile.TemporaryDirectory(prefix="hakobu-promote-") as scratch:
        # Render from the committed inputs, not the work tree: the commit then holds
        # exactly what FROM runs plus this edit, whatever else is being edited locally.
        export(current, Path(scratch))
        copy = load_project(Path(scratch) / root)
        copy_target = copy.environment(target.name)
        # Image tags as the commit holds them: the scratch copy is no git checkout.
        images = references(project.root, revision)
        helm = helm_for_render(_log.info)
        remote_git = RemoteRepositories()
        _, stale = render_environment(
            copy, copy_target, only_app=app, images=images, helm=helm, remote_git=remote_git
        )
        if stale.has_changes:
            raise InvalidInput(
                f"{output}/{target.name} in the current commit is not what its inputs "
                "render: promoting now would carry those changes too",
                hint=f"run `hakobu render --env {target.name} --commit` first, then promote",
            )
        promoted, skipped, edited = _edit_inputs(
            copy, Path(scratch), chosen, source.name, target.name
        )
        # Environment values belong to every app: a single app's promotion leaves them.
        values = _edit_values(copy, source.name, target.name) if app is None else None
        if values is not None:
            file = copy.root / PROJECT_FILE
            file.write_text(values.text)
            edited[file.relative_to(scratch).as_posix()] = values.text
            copy = load_project(copy.root)
            copy_target = copy.environment(target.name)
        changes = values.changes if values is not None else ()
        if not promoted and not changes:
            return PromotionPlan(
                source.name, target.name, revision, health, branch, skipped=skipped
            )
        desired, _ = render_environment(
            copy, copy_target, only_app=app, images=images, helm=helm, remote_git=remote_git
        )
    replacements = [
        Replacement(path, {path: File(text.encode(), files_at(current, path)[path].mode)})
        for path, text in edited.items()
    ]
    replacements.append(_output_replacement(output, target.name, app, desired))
    if branch is None:
        _refuse_local_changes(repo, replacements)
    message = _promotion_message(
        source.name, target.name, current, promoted=promoted, skipped=skipped, values=changes
    )
    return PromotionPlan(
        source.name,
        target.name,
        revision,
        health,
        branch,
        apps=promoted,
        values=changes,
        skipped=skipped,
        commit=PlannedCommit(
            revision,
            "HEAD" if branch is None else f"refs/heads/{branch}",
            tuple(replacements),
            message,
        ),
    )


def _refuse_local_changes(repo: Repository, replacements: Sequence[Replacement]) -> None:
    dirty = changed_locally(repo, [r.path for r in replacements])
    if dirty:
        raise InvalidInput(
            "the files a promotion writes have local changes: " + ", ".join(dirty[:5]),
            hint="commit or discard them, or promote onto a new branch with --branch",
        )


def _edit_values(project: Project, source: str, target: str) -> ValuesPromotion | None:
    """Edit hakobu.yaml in the scratch copy so that ``target`` has ``source``'s values at
    the paths it declares promotable; None when they are equal already (or none are)."""
    if not project.promoted_values:
        return None
    file = project.root / PROJECT_FILE
    text = _project_text(project, file)
    return promote_values(text, file, source, target, project.promoted_values)


def require_healthy(connect: Connect, project: Project, check: HealthCheck) -> None:
    """Refuse unless every app of the checked environment (or its one app) is Synced and
    Healthy at the checked revision in the cluster: in every one of its clusters, when it
    names them."""
    env = project.environment(check.env)
    if check.keys_namespace is not None:
        # The source's health is judged with its SealedSecrets opened by these keys.
        env = dataclasses.replace(env, keys_namespace=check.keys_namespace)
    short = check.revision[:12]
    desired = read_desired(project, env, check.revision)
    hint = (
        f"sync {env.name} (`hakobu sync {env.name} --rev {short}`) and wait until it is "
        "Healthy, or pass --force"
    )
    if env.clusters:
        outcomes = fan_out(
            env.clusters,
            connect,
            lambda _, kube: _problems(kube, project, env, desired, check.app),
        )
        refusals = [
            f"cluster {o.cluster.name}: "
            + ("; ".join(o.value or ()) if o.reach is Reach.DONE else f"{o.reach}: {o.error}")
            for o in outcomes
            if o.reach is not Reach.DONE or o.value
        ]
        if refusals:
            raise OperationFailed(
                f"{env.name} is not Synced and Healthy at {short} in every cluster — "
                + " | ".join(refusals),
                hint=hint,
            )
        return
    try:
        kube = connect(None)
    except InvalidInput as e:
        raise OperationFailed(
            f"cannot tell whether {env.name} is healthy at {short}: {e.message}",
            hint=f"{e.hint or 'point at the cluster'}; or pass --force to promote unchecked",
        ) from e
    try:
        with kube:
            problems = _problems(kube, project, env, desired, check.app)
    except Unreachable as e:
        raise Unreachable(
            f"cannot tell whether {env.name} is healthy at {short}: {e.message}",
            hint="start or point at the cluster, or pass --force to promote unchecked",
        ) from e
    if problems:
        raise OperationFailed(
            f"{env.name} is not Synced and Healthy at {short}: " + "; ".join(problems),
            hint=hint,
        )


def _problems(
    kube: KubeClient, project: Project, env: Environment, desired: DesiredState, app: str | None
) -> list[str]:
    """The apps of ``env`` that are not Synced and Healthy in the cluster, in words."""
    states = observe(kube, project, env, desired, only_app=app)
    return [
        f"{s.app}: {s.sync}, {s.health}"
        for s in (app_status(state, project.health) for state in states)
        if s.sync is not SyncState.SYNCED or s.health is not HealthStatus.HEALTHY
    ]


def _same_apps(commit: Commit, output: str, source: str, target: str) -> set[str]:
    sets = {}
    for env in (source, target):
        apps = directories(commit, f"{output}/{env}")
        if apps is None:
            raise InvalidInput(
                f"{output}/{env} is not in commit {commit.short_id}",
                hint=f"render and commit it first (`hakobu render --env {env} --commit`)",
            )
        sets[env] = set(apps)
    if sets[source] != sets[target]:
        only_source = ", ".join(sorted(sets[source] - sets[target])) or "none"
        only_target = ", ".join(sorted(sets[target] - sets[source])) or "none"
        raise InvalidInput(
            f"{source} and {target} run different apps (only in {source}: {only_source}; "
            f"only in {target}: {only_target})",
            hint="promotion carries releases between environments with the same apps; "
            "promote a single app with --app",
        )
    return sets[source]


def _edit_inputs(
    project: Project, scratch: Path, chosen: list[str], source: str, target: str
) -> tuple[tuple[AppPromotion, ...], tuple[str, ...], dict[str, str]]:
    """Edit the inputs of ``chosen`` in the scratch copy of the repository at ``scratch``;
    returns repository path → new text."""
    by_name = {app.name: app for app in discover_apps(project, Inputs())}
    promoted: list[AppPromotion] = []
    skipped: list[str] = []
    edited: dict[str, str] = {}
    hint = _NOT_PROMOTED_HINTS["templates"]
    for name in chosen:
        app = by_name.get(name)
        if app is not None and app.kind == "chart":
            # One chart version for every environment (helm.yaml); what differs per
            # environment is its values-<env>.yaml, which a person edits.
            skipped.append(f"{name} ({_NOT_PROMOTED['chart']})")
            hint = _NOT_PROMOTED_HINTS["chart"]
            continue
        if app is None or app.kind in ("templates", "fleet"):
            # A template app's release is the environment values it reads: with values
            # declared promotable, those travel (for every app at once), and it is not left out.
            if app is None or not project.promoted_values or len(chosen) == 1:
                skipped.append(f"{name} ({_NOT_PROMOTED[app.kind if app else 'no inputs']})")
            continue
        result = _promote_app(project, app, source, target)
        if result is None:
            continue
        file, promotion = result
        promoted.append(promotion)
        edited[file.relative_to(scratch).as_posix()] = promotion.text
    if skipped and len(chosen) == 1:
        raise InvalidInput(f"app {skipped[0]}", hint=hint)
    return tuple(promoted), tuple(skipped), edited


def _promote_app(
    project: Project, app: App, source: str, target: str
) -> tuple[Path, AppPromotion] | None:
    """Edit ``app``'s inputs so that ``target`` runs what ``source`` runs: the edited file
    and what changed, or None when ``target`` runs it already."""
    if app.kind == "kustomize":
        return promote_overlay(
            project, app, project.environment(source), project.environment(target)
        )
    file = app.path if app.path.is_file() else app.path / "app.yaml"
    promotion = promote_spec(app.name, file, _project_text(project, file), source, target)
    if promotion is None:
        return None
    file.write_text(promotion.text)
    return file, promotion


_NOT_PROMOTED = {
    # Images built in the repository are tagged by their content, so at one commit every
    # environment's templates refer to the same ones.
    "templates": "templates: their images are the same in every environment; their values "
    "travel with `promote: values:` in hakobu.yaml",
    "fleet": "a fleet's instance: its template and values are the same in every environment",
    "no inputs": "no inputs: nothing to promote",
    "chart": "a chart: the same chart version in every environment",
}
_NOT_PROMOTED_HINTS = {
    "templates": "a template app's values per environment are in hakobu.yaml: edit them there",
    "chart": "a chart app's values per environment are its values-<env>.yaml files: edit "
    "them there",
}


def _output_replacement(output: str, env: str, app: str | None, desired: Tree) -> Replacement:
    base = f"{output}/{env}"
    path = base if app is None else f"{base}/{app}"
    files = {
        f"{base}/{name}/{file}": File(text.encode())
        for name, content in desired.items()
        if app is None or name == app
        for file, text in content.items()
    }
    return Replacement(path, files)


def _promotion_message(
    source: str,
    target: str,
    current: Commit,
    *,
    promoted: tuple[AppPromotion, ...],
    skipped: tuple[str, ...],
    values: tuple[FieldChange, ...],
) -> str:
    names = ", ".join([p.app for p in promoted] + (["values"] if values else []))
    lines = [f"promote {source} → {target}: {names}", ""]
    lines.append(f"Carries what {source} runs at {current.id} into {target}:")
    lines.append("app specs' values in promote: (default image), kustomize overlays' images:")
    for p in promoted:
        lines.append(f"  {p.app}:")
        lines += [f"    {c.field}: {c.before} → {c.after}" for c in p.changes]
    if values:
        lines.append(f"  hakobu.yaml, environments.{target} (promote: values:):")
        lines += [f"    {c.field}: {c.before} → {c.after}" for c in values]
    if skipped:
        lines += ["", "Not promoted:"] + [f"  {s}" for s in skipped]
    return "\n".join(lines) + "\n"


def _project_text(project: Project, file: Path) -> str:
    """A file of ``project`` to edit, read as a render reads it: bounded, and refused when a
    link leads out of the project (writing it back would change a file elsewhere)."""
    return Inputs().within(project.root).read_text(file)
