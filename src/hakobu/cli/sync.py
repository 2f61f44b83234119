"""``hakobu diff | sync | status | history ENV``: carry generated/<env>/ to a cluster.

Exit codes: 0 in sync (and, for ``status``, healthy); 1 differences, an unhealthy app or a
failed sync; 2 bad input; 3 the cluster could not be reached (``--request-timeout``).

An environment that lists ``clusters`` is acted on in each of them at once (``--cluster``
picks one); the output is grouped per cluster, and the exit code is 0 only when every
cluster's part is, 3 when none could be reached, else 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, TypeAlias, TypeVar

from hakobu.cli.kube import (
    add_cluster_options,
    add_keys_namespace_option,
    connect,
    connect_cluster,
    duration,
)
from hakobu.cli.options import add_output_option, add_project_option, load
from hakobu.cli.output import Progress, print_json
from hakobu.cli.rolloutbrief import app_json, rollout_lines
from hakobu.cluster.api import KubeApi
from hakobu.cluster.client import KubeClient
from hakobu.errors import InvalidInput
from hakobu.model.clusters import Cluster
from hakobu.model.project import Environment, Project
from hakobu.releases.canary.overview import environment_rollouts
from hakobu.releases.canary.strategy import AnyRollout
from hakobu.sync import DesiredState, SyncOptions, SyncResult, read_desired, sync
from hakobu.sync.diff import ObjectDiff, environment_diff
from hakobu.sync.fanout import ClusterOutcome, Reach, each_cluster, fan_out
from hakobu.sync.record import record_sync
from hakobu.sync.status import AppStatus, environment_status
from hakobu.sync.timeline import EnvironmentHistory, SyncSummary, environment_history
from hakobu.sync.windows import WindowOverride, WindowState, admit_manual, window_state

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
T = TypeVar("T")


def register(subparsers: Subparsers) -> None:
    diff = _command(
        subparsers,
        "diff",
        "show what a sync would change (exit 0 in sync, 1 differences, 3 unreachable)",
        "Compare generated/<env>/ (from the work tree, or a git revision with --rev) with "
        "the cluster. Objects that would change are shown as unified YAML diffs of the "
        "fields hakobu manages, computed by server-side dry runs; objects hakobu applied "
        "that git no longer holds are shown as deletions; hooks a sync would run are shown "
        "too. Exits 0 when there is nothing to do, 1 when there are differences, like "
        "`kubectl diff`, 2 on bad input and 3 when the cluster cannot be reached.",
    )
    _revision_args(diff)
    add_keys_namespace_option(diff)
    diff.set_defaults(handler=_diff)

    run = _command(
        subparsers,
        "sync",
        "apply generated/<env>/ to the cluster, wave by wave, and wait until Healthy",
        "Make the cluster equal to generated/<env>/: PreSync hooks, then each sync wave "
        "applied with server-side apply (field manager `hakobu`) and waited on until "
        "Healthy, then PostSync hooks and, with --prune, deletion of what hakobu applied "
        "earlier and git no longer holds. SyncFail hooks run when a phase fails. Hooks run "
        "only for an app that changes (annotation `hakobu.dev/hook-policy: Always` runs one "
        "on every sync). A sync holds the environment's lock (Lease hakobu-sync-<env> in its "
        "namespace) while it runs; another sync of the environment fails at once naming the "
        "holder, or waits with --wait-lock. Inside a closed sync window (`syncWindows` of "
        "the environment) the sync is refused, naming the window, unless the window says "
        "`manualSync: true` or --override-window gives a reason, which the sync record keeps "
        "with the user's name. One app failing does not stop the others; the exit code is 1 "
        "if any failed (or the lock is held, or a window refused it), 3 when the cluster "
        "cannot be reached.",
    )
    _revision_args(run)
    add_keys_namespace_option(run)
    run.add_argument("--prune", action="store_true", help="delete what git no longer holds")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="have the server check every change, but change nothing",
    )
    run.add_argument(
        "--force-conflicts",
        action="store_true",
        help="take over fields another field manager changed",
    )
    run.add_argument(
        "--allow-empty",
        action="store_true",
        help="allow pruning everything when git holds no objects for the environment",
    )
    run.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long the whole sync may wait for objects to become Healthy (default 300)",
    )
    run.add_argument(
        "--wait-lock",
        type=duration,
        default=0.0,
        metavar="DURATION",
        help="wait up to DURATION (e.g. 30s, 2m) for another sync of the environment to "
        "release its lock (default: fail at once, naming the holder); a lock whose holder "
        "died is taken over 15s after it was last renewed",
    )
    run.add_argument(
        "--override-window",
        default=None,
        metavar="REASON",
        help="sync even though a sync window closes the environment; REASON and the user's "
        "name are kept in the sync record and shown by `hakobu history`",
    )
    run.set_defaults(handler=_sync, pause_collector=True)

    status = _command(
        subparsers,
        "status",
        "per app: Synced, OutOfSync or Drifted, and its health",
        "For each app of the environment, say whether the cluster matches git (Synced), "
        "git has changes not yet synced (OutOfSync), or the cluster was changed since the "
        "last sync of these manifests (Drifted), and how healthy its objects are; and, when "
        "the environment has sync windows, whether they let syncs run now, which closes it "
        "and until when. Exits 0 "
        "when every app is Synced and Healthy (or Suspended), 1 otherwise, 3 when the "
        "cluster cannot be reached.",
    )
    add_keys_namespace_option(status)
    status.set_defaults(handler=_status)

    past = _command(
        subparsers,
        "history",
        "the commits that changed an environment, newest first, with their syncs",
        "List the commits that changed generated/<env>/, newest first: id, author, date, "
        "subject and the apps they changed, joined with the syncs the cluster recorded for "
        "each revision (each sync's own result) and the health of the revision the cluster "
        "runs now: the one its last successful sync applied. Without a cluster the git "
        "history alone is shown; when the cluster cannot be reached it is shown too, and "
        "the exit code is 3.",
    )
    past.add_argument(
        "-n", dest="limit", type=int, default=20, metavar="N", help="at most N commits"
    )
    past.set_defaults(handler=_history)


def _command(
    subparsers: Subparsers, name: str, help_text: str, description: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help_text, description=description
    )
    parser.add_argument("env", metavar="ENV", help="the environment, as named in hakobu.yaml")
    add_project_option(parser)
    add_cluster_options(parser)
    parser.add_argument(
        "--cluster",
        default=None,
        metavar="NAME",
        help="only this one of the environment's clusters (`clusters` in hakobu.yaml; "
        "default: every one, in parallel)",
    )
    add_output_option(parser)
    return parser


def _revision_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rev",
        default=None,
        metavar="REV",
        help="a git revision to read generated/<env>/ from (default: the work tree)",
    )
    parser.add_argument("--app", default=None, metavar="APP", help="only this app")


@dataclass(frozen=True)
class _Context:
    project: Project
    env: Environment
    kube: KubeClient


def _context(args: argparse.Namespace, project: Project | None = None) -> _Context:
    project = project or load(args)
    env = project.environment(args.env)
    return _Context(project, env, connect(args, log=Progress()))


def _clusters(args: argparse.Namespace, env: Environment) -> tuple[Cluster, ...]:
    """The clusters of ``env`` the command acts on; none for an environment of one cluster
    (the kubeconfig's current context, or ``--context``)."""
    if not env.clusters:
        if args.cluster is not None:
            raise InvalidInput(
                f"--cluster {args.cluster}: environment {env.name!r} lists no clusters",
                hint="it goes to the kubeconfig's current context (or --context); list its "
                f"clusters under environments.{env.name}.clusters in hakobu.yaml",
            )
        return ()
    if args.context is not None:
        raise InvalidInput(
            f"--context: environment {env.name!r} names the contexts of its clusters in "
            "hakobu.yaml",
            hint="pick one of them with --cluster NAME",
        )
    if args.cluster is not None:
        return (env.cluster(args.cluster),)
    return env.clusters


def _fanned(
    args: argparse.Namespace,
    clusters: tuple[Cluster, ...],
    work: Callable[[Cluster, KubeClient, Callable[[str], None]], T],
) -> list[ClusterOutcome[T]]:
    """``work`` on each cluster at once, its progress lines marked with the cluster's name."""
    progress = Progress()

    def marked(cluster: Cluster) -> Callable[[str], None]:
        return lambda message: progress(f"[{cluster.name}] {message}")

    return fan_out(
        clusters,
        lambda cluster: connect_cluster(args, cluster, log=marked(cluster)),
        lambda cluster, kube: work(cluster, kube, marked(cluster)),
    )


def _fanned_code(outcomes: list[ClusterOutcome[T]], good: Callable[[T], bool]) -> int:
    if all(o.reach is Reach.UNREACHABLE for o in outcomes):
        return 3
    done = all(o.reach is Reach.DONE and o.value is not None and good(o.value) for o in outcomes)
    return 0 if done else 1


def _cluster_heading(outcome: ClusterOutcome[Any]) -> str:
    cluster = outcome.cluster
    where = f"cluster {cluster.name} (context {cluster.context})"
    if outcome.reach is Reach.DONE:
        return f"{where}:"
    return f"{where}: {outcome.reach} — {outcome.error}"


def _clusters_json(
    env: Environment, outcomes: list[ClusterOutcome[T]], body: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """``{"env", "clusters": [{"cluster", "context", "reach", "error", …body}]}``."""
    return {
        "env": env.name,
        "clusters": [
            {
                "cluster": o.cluster.name,
                "context": o.cluster.context,
                "reach": str(o.reach),
                "error": o.error,
                **({} if o.value is None else body(o.value)),
            }
            for o in outcomes
        ],
    }


def _admitted(args: argparse.Namespace, env: Environment) -> WindowOverride | None:
    """The window override to record, None when the windows let the sync run; exits 1
    through ``WindowClosed`` when one closes the environment and nobody overrides it."""
    if args.dry_run:
        return None
    reason = args.override_window
    if reason is not None and not reason.strip():
        raise InvalidInput("--override-window needs a reason: it is kept in the sync record")
    return admit_manual(
        env,
        datetime.now(UTC),
        override=None if reason is None else (getpass.getuser(), reason.strip()),
        hint=f"to sync now all the same, run `hakobu sync {env.name} --override-window "
        "'<why>'`: the sync record keeps the reason and your user name (a window with "
        "`manualSync: true` lets manual syncs through)",
    )


def _diff(args: argparse.Namespace) -> int:
    project = load(args)
    env = project.environment(args.env)
    clusters = _clusters(args, env)
    if clusters:
        return _diff_clusters(args, project, env, clusters)
    ctx = _context(args, project)
    with ctx.kube:
        diffs = _diff_one(args, ctx.kube, project, env)
    if args.output == "json":
        print_json([asdict(d) for d in diffs])
    else:
        _print_diffs(diffs)
    return 1 if diffs else 0


def _diff_one(
    args: argparse.Namespace, kube: KubeClient, project: Project, env: Environment
) -> list[ObjectDiff]:
    return environment_diff(
        kube,
        project,
        env,
        revision=args.rev,
        only_app=args.app,
        keys_namespace=args.keys_namespace,
    )


def _diff_clusters(
    args: argparse.Namespace, project: Project, env: Environment, clusters: tuple[Cluster, ...]
) -> int:
    outcomes = _fanned(args, clusters, lambda _, kube, __: _diff_one(args, kube, project, env))
    if args.output == "json":
        print_json(_clusters_json(env, outcomes, lambda diffs: {"diffs": diffs}))
    else:
        for outcome in outcomes:
            print(_cluster_heading(outcome))
            if outcome.value is not None:
                _print_diffs(outcome.value)
    return _fanned_code(outcomes, lambda diffs: not diffs)


def _print_diffs(diffs: list[ObjectDiff]) -> None:
    for d in diffs:
        print(f"# {d.app}: {d.change} {d.ref}" + (f" — {d.note}" if d.note else ""))
        if d.text:
            print(d.text, end="" if d.text.endswith("\n") else "\n")


def _sync(args: argparse.Namespace) -> int:
    project = load(args)
    env = project.environment(args.env)
    clusters = _clusters(args, env)
    override = _admitted(args, env)
    options = SyncOptions(
        prune=args.prune,
        dry_run=args.dry_run,
        force_conflicts=args.force_conflicts,
        allow_empty=args.allow_empty,
        timeout=args.timeout,
        only_app=args.app,
        keys_namespace=args.keys_namespace,
        wait_lock=args.wait_lock,
    )
    if clusters:
        desired = read_desired(project, env, args.rev)
        outcomes = _fanned(
            args,
            clusters,
            lambda _, kube, progress: _sync_one(
                kube,
                project,
                env,
                desired,
                options=options,
                override=override,
                progress=progress,
            ),
        )
        if args.output == "json":
            print_json(_clusters_json(env, outcomes, lambda result: {"sync": result}))
        else:
            for outcome in outcomes:
                print(_cluster_heading(outcome))
                if outcome.value is not None:
                    _print_result(outcome.value)
        return _fanned_code(outcomes, lambda result: result.succeeded)
    ctx = _context(args, project)
    with ctx.kube:
        desired = read_desired(ctx.project, ctx.env, args.rev)
        result = _sync_one(
            ctx.kube, project, env, desired, options=options, override=override, progress=Progress()
        )
    if args.output == "json":
        print_json(result)
    else:
        _print_result(result)
    return 0 if result.succeeded else 1


def _sync_one(
    kube: KubeClient,
    project: Project,
    env: Environment,
    desired: DesiredState,
    *,
    options: SyncOptions,
    override: WindowOverride | None,
    progress: Callable[[str], None],
) -> SyncResult:
    """One cluster's sync, recorded in that cluster."""
    result = sync(kube, project, env, desired, options=options, progress=progress)
    if override is not None:
        result = dataclasses.replace(result, window_override=override)
        progress(f"sync window overridden by {override.by}: {override.reason}")
    record_sync(kube, env.namespace, result)
    return result


def _print_result(result: SyncResult) -> None:
    mode = " (dry run)" if result.dry_run else ""
    print(
        f"sync {result.env} at {result.revision}{mode}: {result.result} — "
        f"{result.applied} applied, {result.unchanged} unchanged, {result.pruned} pruned "
        f"in {result.durations.get('total', 0.0):.1f}s"
    )
    for app in result.apps:
        phases = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in app.durations.items())
        print(
            f"  {app.app}: {app.result} — {app.created} created, {app.updated} updated, "
            + (f"{app.recreated} recreated, " if app.recreated else "")
            + f"{app.unchanged} unchanged, {app.pruned} pruned, {app.hooks} hooks"
            + (f" ({phases})" if phases else "")
        )
        for message in app.messages:
            print(f"    {message}")
    if result.left:
        print(
            f"{result.left} object{'s' if result.left != 1 else ''} left git and stay in the "
            "cluster; run with --prune to delete them"
        )


def _status(args: argparse.Namespace) -> int:
    project = load(args)
    env = project.environment(args.env)
    clusters = _clusters(args, env)
    windows = window_state(env.sync_windows, datetime.now(UTC))
    if clusters:
        outcomes = _fanned(
            args,
            clusters,
            lambda _, kube, __: _observed(kube, project, env, args.keys_namespace),
        )
        if args.output == "json":
            print_json(
                {
                    **_clusters_json(env, outcomes, lambda seen: {"apps": _apps_json(*seen)}),
                    "syncWindows": _windows_json(env, windows),
                }
            )
        else:
            if env.sync_windows:
                print(_windows_text(windows))
            for outcome in outcomes:
                print(_cluster_heading(outcome))
                if outcome.value is not None:
                    _print_statuses(*outcome.value, indent="  ")
        return _fanned_code(outcomes, lambda seen: all(s.good for s in seen[0]))
    ctx = _context(args, project)
    with ctx.kube:
        statuses, rollouts = _observed(ctx.kube, ctx.project, ctx.env, args.keys_namespace)
    good = all(s.good for s in statuses)
    if args.output == "json":
        print_json(
            {
                "env": ctx.env.name,
                "apps": _apps_json(statuses, rollouts),
                "syncWindows": _windows_json(ctx.env, windows),
            }
        )
        return 0 if good else 1
    if ctx.env.sync_windows:
        print(_windows_text(windows))
    _print_statuses(statuses, rollouts)
    return 0 if good else 1


def _observed(
    kube: KubeApi, project: Project, env: Environment, keys_namespace: str | None
) -> tuple[list[AppStatus], dict[str, AnyRollout]]:
    """Every app's status, and the rollouts of those whose Deployment has one."""
    statuses = environment_status(kube, project, env, keys_namespace=keys_namespace)
    return statuses, environment_rollouts(kube, project.name, env.name)


def _apps_json(statuses: list[AppStatus], rollouts: dict[str, AnyRollout]) -> list[dict[str, Any]]:
    return [app_json(s, rollouts.get(s.app)) for s in statuses]


def _print_statuses(
    statuses: list[AppStatus], rollouts: dict[str, AnyRollout], indent: str = ""
) -> None:
    for s in statuses:
        print(f"{indent}{s.app}: {s.sync}, {s.health}")
        if s.waiting_for:
            print(f"{indent}  waiting for {', '.join(s.waiting_for)}")
        for line in (*s.differing, *s.unhealthy):
            print(f"{indent}  {line}")
        rollout = rollouts.get(s.app)
        for line in rollout_lines(rollout) if rollout is not None else ():
            print(f"{indent}  {line}")


def _windows_text(state: WindowState) -> str:
    if state.automatic:
        names = ", ".join(o.window.name for o in state.open)
        return "sync windows: open" + (f" ({names})" if names else "")
    manual = (
        "manual syncs allowed (manualSync)"
        if state.manual
        else "manual syncs need --override-window"
    )
    return f"sync windows: closed — {state.message()}; {manual}"


def _windows_json(env: Environment, state: WindowState) -> dict[str, Any]:
    return {
        "state": "open" if state.automatic else "closed",
        "manualSync": state.manual,
        "reason": state.reason,
        "reopens": None if state.reopens is None else state.reopens.isoformat(),
        "open": [
            {"window": o.window.name, "start": o.start.isoformat(), "end": o.end.isoformat()}
            for o in state.open
        ],
        "closing": [w.name for w in state.closing],
        "windows": [
            {
                "window": w.name,
                "kind": str(w.kind),
                "schedule": w.schedule,
                "duration": w.duration,
                "timeZone": w.time_zone,
                "manualSync": w.manual_sync,
            }
            for w in env.sync_windows
        ],
    }


def _history(args: argparse.Namespace) -> int:
    project = load(args)
    env = project.environment(args.env)
    clusters = _clusters(args, env)
    if clusters:
        return _history_clusters(args, project, env, clusters)
    past = environment_history(project, env, limit=args.limit, connect=lambda: connect(args))
    code = 3 if past.unreachable else 0
    if args.output == "json":
        print_json(_history_json(past))
        return code
    _print_history(past)
    return code


def _history_clusters(
    args: argparse.Namespace, project: Project, env: Environment, clusters: tuple[Cluster, ...]
) -> int:
    """The git history joined with each cluster's own sync records."""
    pasts = each_cluster(
        clusters,
        lambda cluster: environment_history(
            project, env, limit=args.limit, connect=lambda: connect_cluster(args, cluster)
        ),
    )
    if args.output == "json":
        print_json(
            {
                "env": env.name,
                "clusters": [
                    _cluster_history_json(cluster, past)
                    for cluster, past in zip(clusters, pasts, strict=True)
                ],
            }
        )
    else:
        for cluster, past in zip(clusters, pasts, strict=True):
            print(f"cluster {cluster.name} (context {cluster.context}):")
            _print_history(past)
    if all(past.unreachable for past in pasts):
        return 3
    # A cluster named in hakobu.yaml that cannot be asked is a failure, not a git-only view.
    return 1 if any(past.cluster_note is not None for past in pasts) else 0


def _cluster_history_json(cluster: Cluster, past: EnvironmentHistory) -> dict[str, Any]:
    # "cluster" names the cluster here; why its part is missing is the "note".
    history = _history_json(past)
    note = history.pop("cluster")
    return {"cluster": cluster.name, "context": cluster.context, "note": note, **history}


def _history_json(past: EnvironmentHistory) -> dict[str, Any]:
    return {
        "env": past.env,
        "path": past.path,
        "cluster": past.cluster_note,
        "running": past.running,
        "last_sync_failed": past.last_sync_failed,
        "commits": [
            {
                **asdict(row.change),
                "short": row.change.short,
                "syncs": [asdict(s) for s in row.syncs],
                "running": row.running,
                "health": row.health,
            }
            for row in past.commits
        ],
        "other_syncs": [
            {"revision": other.revision, **asdict(other.sync)} for other in past.other_syncs
        ],
    }


def _print_history(past: EnvironmentHistory) -> None:
    if past.cluster_note:
        print(f"({past.cluster_note})")
    if not past.commits:
        print(f"no commit changed {past.path}")
    for row in past.commits:
        change = row.change
        print(
            f"{change.short}  {change.date[:16].replace('T', ' ')}  {change.author}  "
            f"{change.subject}"
        )
        print(f"    apps: {', '.join(change.apps) or '-'}")
        for record in row.syncs:
            print(f"    synced {record.started}: {_outcome(record)}")
            if record.window_override:
                print(f"      sync window overridden {record.window_override}")
        if row.running:
            print(f"    running now: {row.health or 'yes'}")
    if past.other_syncs:
        print("syncs of revisions not listed above:")
    for other in past.other_syncs:
        print(f"  {other.sync.started}  {other.revision[:12]}  {_outcome(other.sync)}")
        if other.sync.window_override:
            print(f"    sync window overridden {other.sync.window_override}")
    if past.last_sync_failed:
        print(
            f"the last sync ({past.last_sync_failed}) failed: the cluster may run parts of it"
            + (f" over {past.running[:12]}" if past.running else "")
        )


def _outcome(summary: SyncSummary) -> str:
    failed = summary.failed_apps
    return str(summary.result) + (f" (failed: {', '.join(failed)})" if failed else "")
