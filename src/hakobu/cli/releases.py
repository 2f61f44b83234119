"""``hakobu rollback | promote``: releases as git commits, never hidden cluster state."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeAlias

from hakobu.cli.kube import (
    add_cluster_options,
    add_keys_namespace_option,
    connect,
    connect_cluster,
)
from hakobu.cli.options import add_output_option, add_project_option
from hakobu.cli.output import print_json
from hakobu.cluster.client import KubeClient
from hakobu.errors import InvalidInput
from hakobu.model.clusters import Cluster
from hakobu.model.project import Project, find_root, load_project
from hakobu.model.source import load_documents
from hakobu.releases import (
    FieldChange,
    Promotion,
    PromotionRequest,
    RollbackRequest,
    apply_promotion,
    apply_rollback,
    plan_promotion,
    plan_rollback,
)
from hakobu.releases.tierpromotion import promote_tier
from hakobu.repo.branches import checked_out_branch, tier_branches
from hakobu.repo.commit import open_repository
from hakobu.repo.revisions import repo_path
from hakobu.sync.clusterstatus import statuses_on_every_cluster
from hakobu.sync.status import environment_status

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
        description="For app specs, write the fields each spec declares promotable "
        "(`promote:`, default [image]) as TO's overrides `environments.<TO>.<field>`, so "
        "that TO gets exactly FROM's values; for kustomize apps, make the `images:` entries "
        "of TO's overlay FROM's; for hakobu.yaml's `promote: values:`, set those paths of "
        "TO's values to FROM's (not with --app); render TO and commit both (with --branch, "
        "on a new branch for review). When FROM and TO track branches of their own (`branch:` "
        "in hakobu.yaml), move the commit FROM runs onto TO's branch instead: a "
        "fast-forward when possible, else a merge commit. Refused unless FROM is Synced and "
        "Healthy at that revision in the cluster (--force skips the check). With --fleet, "
        "FROM and TO are tiers of that fleet: TO's copy of the template (tiers/<TO>/) "
        "becomes the template FROM renders; every environment is rendered and both are "
        "committed, refused unless every instance of FROM is Synced and Healthy in --env.",
    )
    ahead.add_argument(
        "source", metavar="FROM", help="the environment (with --fleet: the tier) to carry"
    )
    ahead.add_argument(
        "target", metavar="TO", help="the environment (with --fleet: the tier) that receives it"
    )
    ahead.add_argument("--fleet", metavar="FLEET", help="promote between this fleet's tiers")
    ahead.add_argument(
        "--env",
        metavar="ENV",
        help="with --fleet: the environment whose cluster shows FROM's health",
    )
    ahead.add_argument("--app", metavar="APP", help="only this app")
    ahead.add_argument("--branch", metavar="NAME", help="commit on this new branch for review")
    ahead.add_argument("--force", action="store_true", help="skip the health check of FROM")
    ahead.add_argument(
        "--push", metavar="REMOTE", help="push TO's tier branch to this remote (never forced)"
    )
    add_cluster_options(ahead)
    add_keys_namespace_option(ahead)
    _common(ahead)
    ahead.set_defaults(handler=_promote)


def _common(parser: argparse.ArgumentParser) -> None:
    add_project_option(parser)
    add_output_option(parser)


# ---------------------------------------------------------------------------------------
# rollback
# ---------------------------------------------------------------------------------------


def _rollback(args: argparse.Namespace) -> int:
    project = load_project(find_root(args.directory))
    env = project.environment(args.env)
    repo = open_repository(project.root)
    tracked = tier_branches(project.file).get(env.name)
    if tracked is not None and checked_out_branch(repo) != tracked:
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
                # Under one app's directory the changed entries are files: name the app.
                "undone": [
                    {**asdict(c), "apps": [args.app] if args.app else list(c.apps)}
                    for c in plan.undone
                ],
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


def _promote(args: argparse.Namespace) -> int:
    project = load_project(find_root(args.directory))
    if args.fleet is not None:
        return _promote_tier(args, project)
    if args.env is not None:
        raise InvalidInput("--env goes with --fleet", hint="promote FROM TO names environments")
    request = PromotionRequest(
        args.source,
        args.target,
        app=args.app,
        branch=args.branch,
        push=args.push,
        keys_namespace=args.keys_namespace,
    )

    def cluster(named: Cluster | None) -> KubeClient:
        return connect(args) if named is None else connect_cluster(args, named)

    plan = plan_promotion(project, request)
    result = apply_promotion(project, plan, connect=None if args.force else cluster)
    if args.output == "json":
        print_json(_promotion_json(result))
    else:
        _print_promotion(result)
    return 0


def _promote_tier(args: argparse.Namespace, project: Project) -> int:
    for option in ("app", "branch", "push"):
        if getattr(args, option) is not None:
            raise InvalidInput(f"--{option} does not go with --fleet")
    statuses = None
    if not args.force:
        if args.env is None:
            raise InvalidInput(
                "--fleet needs --env ENV: the environment whose cluster shows the tier's health",
                hint="or skip the check with --force",
            )
        env = project.environment(args.env)
        if env.clusters:
            # Each instance as good as its worst cluster.
            statuses = statuses_on_every_cluster(
                lambda c: connect_cluster(args, c),
                project,
                env,
                keys_namespace=args.keys_namespace,
            )
        else:
            with connect(args) as kube:
                statuses = environment_status(
                    kube, project, env, keys_namespace=args.keys_namespace
                )
    result = promote_tier(project, args.fleet, args.source, args.target, statuses=statuses)
    if args.output == "json":
        print_json(asdict(result))
    elif result.commit is None:
        print(
            f"tier {result.target} already renders what {result.source} renders: nothing to promote"
        )
    else:
        print(
            f"promoted fleet {result.fleet} {result.source} → {result.target} "
            f"(template {result.version[:12]}, was {result.previous[:12]}) "
            f"in commit {result.commit[:12]}"
        )
    return 0


def _promotion_json(result: Promotion) -> dict[str, Any]:
    return {
        "from": result.source,
        "to": result.target,
        "revision": result.revision,
        "commit": result.commit,
        "branch": result.branch,
        "apps": [
            {"app": p.app, "changes": [_change_json(c) for c in p.changes]} for p in result.apps
        ],
        "values": [_change_json(c) for c in result.values],
        "skipped": list(result.skipped),
        "advance": asdict(result.advance) if result.advance is not None else None,
    }


def _change_json(change: FieldChange) -> dict[str, Any]:
    """Values as JSON values: the one-line YAML kept for display becomes what it says."""
    return {
        "field": change.field,
        "before": _yaml_value(change.field, change.before),
        "after": _yaml_value(change.field, change.after),
    }


def _yaml_value(field: str, text: str) -> Any:
    documents = load_documents(Path(field), text)
    return documents[0].data if documents else None


def _print_promotion(result: Promotion) -> None:
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
        print(f"  {p.app}:")
        for change in p.changes:
            print(f"    {change.field}: {change.before} → {change.after}")
    if result.values:
        print(f"  hakobu.yaml, environments.{result.target}:")
        for change in result.values:
            print(f"    {change.field}: {change.before} → {change.after}")
