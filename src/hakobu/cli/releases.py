"""``hakobu rollback | promote``: releases as git commits, never hidden cluster state."""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeAlias

import pygit2

from hakobu.cli.output import print_json
from hakobu.cli.sync import _kubeconfig
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import Unreachable
from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.project import Environment, Project, find_root, load_project
from hakobu.render.apps import discover_apps
from hakobu.render.environment import Tree, render_environment
from hakobu.render.inputs import Inputs
from hakobu.repo.branches import Advance, advance, branch_tip, push, tier_branches, undo
from hakobu.repo.changes import Replacement, commit_replacements, update_worktree
from hakobu.repo.commit import open_repository
from hakobu.repo.promote import SpecPromotion, promote_spec
from hakobu.repo.revisions import (
    File,
    changed_locally,
    export,
    files_at,
    head,
    repo_path,
    subtree,
)
from hakobu.repo.rollback import RollbackRequest, apply_rollback, plan_rollback
from hakobu.sync import app_status, observe, read_desired

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(subparsers: Subparsers) -> None:
    back = subparsers.add_parser(
        "rollback",
        help="commit an environment's earlier manifests as a new commit",
        description="Make a new commit that restores generated/<env>/ (or one app of it) to "
        "its content at --to (default: the state before the most recent commit that "
        "changed it). History is not rewritten and nothing is pushed; sync the environment "
        "to deploy the rollback. The inputs under apps/ are left alone, so the next "
        "`hakobu render` re-creates the rolled-back state unless they are reverted too: "
        "--inputs restores the app's input files at the same revision.",
    )
    back.add_argument("env", metavar="ENV", help="the environment, as named in hakobu.yaml")
    back.add_argument("--to", metavar="REV", help="the revision whose content to restore")
    back.add_argument("--app", metavar="APP", help="only this app's output")
    back.add_argument(
        "--inputs",
        action="store_true",
        help="also restore the app's inputs (apps/<app>…; all of apps/ without --app)",
    )
    back.add_argument("-m", "--message", metavar="WHY", help="why; recorded in the commit")
    _common(back)
    back.set_defaults(handler=_rollback)

    ahead = subparsers.add_parser(
        "promote",
        help="carry what runs in one environment into the next",
        description="For app specs, write FROM's image (tag, digest, pull policy) as TO's "
        "override `environments.<TO>.image`, render TO and commit both (with --branch, on "
        "a new branch for review). When FROM and TO track branches of their own (`branch:` "
        "in hakobu.yaml), move the commit FROM runs onto TO's branch instead: a "
        "fast-forward when possible, else a merge commit. Refused unless FROM is Synced and "
        "Healthy at that revision in the cluster (--force skips the check).",
    )
    ahead.add_argument("source", metavar="FROM", help="the environment whose release to carry")
    ahead.add_argument("target", metavar="TO", help="the environment that receives it")
    ahead.add_argument("--app", metavar="APP", help="only this app")
    ahead.add_argument("--branch", metavar="NAME", help="commit on this new branch for review")
    ahead.add_argument("--force", action="store_true", help="skip the health check of FROM")
    ahead.add_argument(
        "--push", metavar="REMOTE", help="push TO's tier branch to this remote (never forced)"
    )
    ahead.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help="default: $KUBECONFIG, else the local cluster started by `hakobu cluster up`",
    )
    _common(ahead)
    ahead.set_defaults(handler=_promote)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-C",
        dest="directory",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="the project directory (default: the current one, or a parent with hakobu.yaml)",
    )
    parser.add_argument("-o", "--output", choices=["text", "json"], default="text")


# ---------------------------------------------------------------------------------------
# rollback
# ---------------------------------------------------------------------------------------


def _rollback(args: argparse.Namespace) -> int:
    project = load_project(find_root(args.directory))
    env = project.environment(args.env)
    repo = open_repository(project.root)
    tracked = tier_branches(project.file).get(env.name)
    if tracked is not None and (repo.head_is_detached or repo.head.shorthand != tracked):
        raise InvalidInput(
            f"environment {env.name!r} tracks branch {tracked!r}, which is not checked out",
            hint=f"`git checkout {tracked}` and roll back there",
        )
    plan = plan_rollback(
        repo,
        RollbackRequest(
            output=repo_path(repo, project.output_dir),
            apps=repo_path(repo, project.apps_dir),
            env=env.name,
            to=args.to,
            app=args.app,
            restore_inputs=args.inputs,
            reason=args.message,
        ),
    )
    commit = apply_rollback(repo, plan)
    if args.output == "json":
        print_json(
            {
                "commit": commit,
                "path": plan.path,
                "target": plan.target,
                "replaced": plan.replaced,
                "undone": [asdict(c) for c in plan.undone],
                "inputs": list(plan.inputs),
            }
        )
        return 0
    print(f"rolled back {plan.path} to {plan.target[:12]} in commit {commit[:12]}")
    for change in plan.undone:
        print(f"  undone {change.short} {change.subject}")
    if not plan.inputs:
        print(
            "the inputs are unchanged: the next `hakobu render` re-creates the rolled-back "
            "state unless they are reverted too (--inputs)"
        )
    print(f"deploy it with `hakobu sync {env.name}`")
    return 0


# ---------------------------------------------------------------------------------------
# promote
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Promotion:
    source: str
    target: str
    revision: str
    commit: str | None
    branch: str | None
    apps: tuple[SpecPromotion, ...]
    skipped: tuple[str, ...]
    advance: Advance | None = None


def _promote(args: argparse.Namespace) -> int:
    project = load_project(find_root(args.directory))
    source = project.environment(args.source)
    target = project.environment(args.target)
    if source.name == target.name:
        raise InvalidInput(f"cannot promote {source.name!r} to itself")
    repo = open_repository(project.root)
    tiers = tier_branches(project.file)
    if source.name in tiers and target.name in tiers:
        result = promote_tier(
            repo, project=project, source=source, target=target, tiers=tiers, args=args
        )
    elif source.name in tiers or target.name in tiers:
        raise InvalidInput(
            "only one of the two environments tracks a branch of its own",
            hint="give both a `branch:` in hakobu.yaml to promote by moving commits, or "
            "neither to promote by editing the target's inputs",
        )
    else:
        result = promote_inputs(repo, project, source, target, args)
    if args.output == "json":
        print_json(_promotion_json(result))
    else:
        _print_promotion(result)
    return 0


def promote_tier(
    repo: pygit2.Repository,
    *,
    project: Project,
    source: Environment,
    target: Environment,
    tiers: dict[str, str],
    args: argparse.Namespace,
) -> _Promotion:
    """Move the commit ``source``'s branch holds onto ``target``'s branch."""
    if args.app is not None or args.branch is not None:
        raise InvalidInput(
            "--app and --branch do not apply between tier branches: promotion moves whole "
            "commits from one tier's branch to the next",
        )
    tip = branch_tip(repo, tiers[source.name])
    output = repo_path(repo, project.output_dir)
    _same_apps(tip, output, source.name, target.name)
    _require_healthy(args, project, source, str(tip.id), None)
    message = (
        f"promote {source.name} → {target.name}: {tip.short_id}\n\n"
        f"Merges what {source.name} ({tiers[source.name]}) runs at {tip.id} into "
        f"{tiers[target.name]}.\n"
    )
    moved = advance(repo, tip, tiers[target.name], message)
    if args.push:
        try:
            push(repo, args.push, tiers[target.name])
        except OperationFailed:
            # Nothing is left half-done: the local branch goes back to where it was.
            undo(repo, moved)
            raise
    return _Promotion(
        source.name, target.name, str(tip.id), None, tiers[target.name], (), (), moved
    )


def promote_inputs(
    repo: pygit2.Repository,
    project: Project,
    source: Environment,
    target: Environment,
    args: argparse.Namespace,
) -> _Promotion:
    """Write ``source``'s images into ``target``'s overrides, render ``target``, commit."""
    current = head(repo)
    output = repo_path(repo, project.output_dir)
    apps = _same_apps(current, output, source.name, target.name)
    if args.app is not None and args.app not in apps:
        raise InvalidInput(
            f"no app named {args.app!r} in {output}/{source.name}",
            hint=f"apps: {', '.join(sorted(apps))}",
        )
    if args.branch is not None and repo.references.get(f"refs/heads/{args.branch}"):
        raise InvalidInput(
            f"branch {args.branch!r} exists already",
            hint="name a new branch; promotion for review starts one from the current commit",
        )
    _require_healthy(args, project, source, str(current.id), args.app)
    chosen = [args.app] if args.app is not None else sorted(apps)
    root = repo_path(repo, project.root)
    with tempfile.TemporaryDirectory(prefix="hakobu-promote-") as scratch:
        # Render from the committed inputs, not the work tree: the commit then holds
        # exactly what FROM runs plus this edit, whatever else is being edited locally.
        export(current.tree, Path(scratch))
        copy = load_project(Path(scratch) / root)
        copy_target = copy.environment(target.name)
        _, stale = render_environment(copy, copy_target, only_app=args.app)
        if stale.has_changes:
            raise InvalidInput(
                f"{output}/{target.name} in the current commit is not what its inputs "
                "render: promoting now would carry those changes too",
                hint=f"run `hakobu render --env {target.name} --commit` first, then promote",
            )
        promoted, skipped, edited = _edit_specs(
            copy, Path(scratch), chosen, source.name, target.name
        )
        if not promoted:
            return _Promotion(
                source.name, target.name, str(current.id), None, args.branch, (), skipped
            )
        desired, _ = render_environment(copy, copy_target, only_app=args.app)
    replacements = [
        Replacement(path, {path: File(text.encode(), files_at(current.tree, path)[path].mode)})
        for path, text in edited.items()
    ]
    replacements.append(_output_replacement(output, target.name, args.app, desired))
    if args.branch is None:
        dirty = changed_locally(repo, [r.path for r in replacements])
        if dirty:
            raise InvalidInput(
                "the files a promotion writes have local changes: " + ", ".join(dirty[:5]),
                hint="commit or discard them, or promote onto a new branch with --branch",
            )
    message = _promotion_message(source.name, target.name, current, promoted, skipped)
    ref = "HEAD" if args.branch is None else f"refs/heads/{args.branch}"
    commit = commit_replacements(repo, current, replacements, message, ref=ref)
    if commit is not None and args.branch is None:
        update_worktree(repo, replacements)
    return _Promotion(
        source.name, target.name, str(current.id), commit, args.branch, promoted, skipped
    )


def _same_apps(commit: pygit2.Commit, output: str, source: str, target: str) -> set[str]:
    sets = {}
    for env in (source, target):
        tree = subtree(commit.tree, f"{output}/{env}")
        if tree is None:
            raise InvalidInput(
                f"{output}/{env} is not in commit {commit.short_id}",
                hint=f"render and commit it first (`hakobu render --env {env} --commit`)",
            )
        sets[env] = {e.name or "" for e in tree if isinstance(e, pygit2.Tree)}
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


def _edit_specs(
    project: Project, scratch: Path, chosen: list[str], source: str, target: str
) -> tuple[tuple[SpecPromotion, ...], tuple[str, ...], dict[str, str]]:
    """Edit the specs of ``chosen`` in the scratch copy of the repository at ``scratch``;
    returns repository path → new text."""
    by_name = {app.name: app for app in discover_apps(project, Inputs())}
    promoted: list[SpecPromotion] = []
    skipped: list[str] = []
    edited: dict[str, str] = {}
    for name in chosen:
        app = by_name.get(name)
        if app is None or app.kind != "spec":
            kind = app.kind if app is not None else "no inputs"
            skipped.append(f"{name} ({kind}: only app specs are promoted)")
            continue
        file = app.path if app.path.is_file() else app.path / "app.yaml"
        promotion = promote_spec(name, file, file.read_text(), source, target)
        if promotion is None:
            continue
        file.write_text(promotion.text)
        promoted.append(promotion)
        edited[file.relative_to(scratch).as_posix()] = promotion.text
    if skipped and len(chosen) == 1:
        raise InvalidInput(
            f"app {skipped[0]}",
            hint="carry kustomize and template apps by editing their overlay for the target",
        )
    return tuple(promoted), tuple(skipped), edited


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


def _require_healthy(
    args: argparse.Namespace,
    project: Project,
    env: Environment,
    revision: str,
    only_app: str | None,
) -> None:
    if args.force:
        return
    short = revision[:12]
    try:
        kube = KubeClient.from_kubeconfig(_kubeconfig(args.kubeconfig))
    except InvalidInput as e:
        raise OperationFailed(
            f"cannot tell whether {env.name} is healthy at {short}: {e.message}",
            hint=f"{e.hint or 'point at the cluster'}; or pass --force to promote unchecked",
        ) from e
    desired = read_desired(project, env, revision)
    try:
        with kube:
            states = observe(kube, project, env, desired, only_app=only_app)
    except Unreachable as e:
        raise OperationFailed(
            f"cannot tell whether {env.name} is healthy at {short}: {e.message}",
            hint="start or point at the cluster, or pass --force to promote unchecked",
        ) from e
    problems = [
        f"{s.app}: {s.sync}, {s.health}"
        for s in map(app_status, states)
        if s.sync != "Synced" or s.health != "Healthy"
    ]
    if problems:
        raise OperationFailed(
            f"{env.name} is not Synced and Healthy at {short}: " + "; ".join(problems),
            hint=f"sync {env.name} (`hakobu sync {env.name} --rev {short}`) and wait until "
            "it is Healthy, or pass --force",
        )


def _promotion_message(
    source: str,
    target: str,
    current: pygit2.Commit,
    promoted: tuple[SpecPromotion, ...],
    skipped: tuple[str, ...],
) -> str:
    names = ", ".join(p.app for p in promoted)
    lines = [f"promote {source} → {target}: {names}", ""]
    lines.append(f"Carries the images {source} runs at {current.id} into {target}:")
    lines += [f"  {p.app}: {p.before} → {p.after}" for p in promoted]
    if skipped:
        lines += ["", "Not promoted (not app specs):"] + [f"  {s}" for s in skipped]
    return "\n".join(lines) + "\n"


def _promotion_json(result: _Promotion) -> dict[str, Any]:
    return {
        "from": result.source,
        "to": result.target,
        "revision": result.revision,
        "commit": result.commit,
        "branch": result.branch,
        "apps": [{"app": p.app, "before": p.before, "after": p.after} for p in result.apps],
        "skipped": list(result.skipped),
        "advance": asdict(result.advance) if result.advance is not None else None,
    }


def _print_promotion(result: _Promotion) -> None:
    if result.advance is not None:
        moved = result.advance
        print(
            f"promoted {result.source} → {result.target}: {moved.branch} {moved.how} "
            f"to {moved.after[:12]}"
        )
        return
    for line in result.skipped:
        print(f"  skipped {line}")
    if result.commit is None:
        print(f"{result.target} already runs what {result.source} runs: nothing to promote")
        return
    where = f" on new branch {result.branch}" if result.branch else ""
    print(f"promoted {result.source} → {result.target} in commit {result.commit[:12]}{where}")
    for p in result.apps:
        print(f"  {p.app}: {p.before} → {p.after}")
