"""``hakobu fleet add | set | unset | move | remove | suspend | resume | maintenance | list``:
edit a fleet's instance files;
``hakobu fleet status``: its tiers in a cluster; ``hakobu fleet rollout``: one step of its
tiered rollout."""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from typing import TypeAlias

from hakobu.cli.kube import (
    add_cluster_options,
    add_keys_namespace_option,
    connect,
    connect_cluster,
)
from hakobu.cli.options import add_output_option, add_project_option, load
from hakobu.cli.output import Progress, print_json
from hakobu.cluster.client import KubeClient
from hakobu.model.project import Project
from hakobu.releases.fleet import (
    InstanceEdit,
    apply_edit,
    fleet_of,
    list_instances,
    parse_assignment,
    plan_add,
    plan_remove,
    plan_set,
    plan_switch,
    tier_statuses,
)
from hakobu.releases.tierpromotion import tier_versions
from hakobu.releases.tierrollout import rollout_step
from hakobu.sync.clusterstatus import statuses_on_every_cluster
from hakobu.sync.status import AppStatus, environment_status

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(subparsers: Subparsers) -> None:
    fleet = subparsers.add_parser(
        "fleet",
        help="add, remove, change and list a fleet's instances",
        description="A fleet is a directory of the apps directory holding fleet.yaml (its "
        "tiers and the values an instance may set), template/ and instances/<name>.yaml, one "
        "file per instance. These commands edit those files with minimal text edits "
        "(comments and layout stay) after checking the edit as render would; they do not "
        "render or commit.",
    )
    add_project_option(fleet)
    actions = fleet.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="add an instance (a new file)")
    _names(add)
    add.add_argument("tier", metavar="TIER", help="one of the fleet's tiers")
    _assignments(add, "*")
    add.set_defaults(handler=_add)

    change = actions.add_parser("set", help="set values of an instance")
    _names(change)
    _assignments(change, "+")
    change.set_defaults(handler=_set)

    unset = actions.add_parser("unset", help="drop values of an instance (back to defaults)")
    _names(unset)
    unset.add_argument("keys", nargs="+", metavar="KEY")
    unset.set_defaults(handler=_unset)

    move = actions.add_parser("move", help="move an instance to another tier")
    _names(move)
    move.add_argument("tier", metavar="TIER", help="one of the fleet's tiers")
    move.set_defaults(handler=_move)

    remove = actions.add_parser("remove", help="remove an instance (its file)")
    _names(remove)
    remove.set_defaults(handler=_remove)

    suspend = actions.add_parser(
        "suspend",
        help="stop syncing an instance (suspend: true); its objects stay as they are",
    )
    _names(suspend)
    suspend.set_defaults(handler=_switch, switch="suspend", on=True)
    resume = actions.add_parser(
        "resume", help="sync an instance again (drops suspend: true); render and sync after"
    )
    _names(resume)
    resume.set_defaults(handler=_switch, switch="suspend", on=False)
    maintenance = actions.add_parser(
        "maintenance",
        help="put an instance into the maintenance state fleet.yaml declares, or take it out",
    )
    _names(maintenance)
    maintenance.add_argument("state", choices=("on", "off"), metavar="on|off")
    maintenance.set_defaults(handler=_switch, switch="maintenance", on=None)

    listing = actions.add_parser("list", help="list the instances with their tier and values")
    listing.add_argument("fleet", metavar="FLEET")
    add_output_option(listing)
    listing.set_defaults(handler=_list)
    status = actions.add_parser(
        "status",
        help="per tier: how many instances are Synced and Healthy in an environment",
        description="Read the environment's cluster as `hakobu status` does and sum up the "
        "fleet's instances per tier, in the order of the fleet's tiers. Exit code 1 while any "
        "instance is not Synced and Healthy.",
    )
    _environment(status)
    status.set_defaults(handler=_status)
    rollout = actions.add_parser(
        "rollout",
        help="one step of the tiered rollout: promote the next tier once the one before "
        "has soaked, or halt at a Degraded instance",
        description="Read the environment's cluster and the template version each tier "
        "renders. When every instance of a tier has been Synced and Healthy for the soak "
        "time (rollout: soak: in fleet.yaml) and the next tier renders another version, "
        "promote the next tier as `hakobu promote --fleet` does (a commit; sync to deploy "
        "it). A Degraded instance halts the rollout until its tier's template changes or "
        "--resume. Exit code 0 when a tier was promoted or every tier runs the same version, 1 "
        "while it waits (not yet healthy, soaking) or is halted by a Degraded instance.",
    )
    _environment(rollout)
    rollout.add_argument(
        "--resume",
        action="store_true",
        help="end a halt (it holds until the halted tier's template changes, or this); a "
        "tier with a Degraded instance halts it again at once",
    )
    rollout.set_defaults(handler=_rollout)
    for action in (
        add,
        change,
        unset,
        move,
        remove,
        suspend,
        resume,
        maintenance,
        listing,
        status,
        rollout,
    ):
        add_project_option(action, inherited=True)


def _environment(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("fleet", metavar="FLEET")
    parser.add_argument("env", metavar="ENV", help="the environment, as named in hakobu.yaml")
    add_cluster_options(parser)
    parser.add_argument(
        "--cluster",
        default=None,
        metavar="NAME",
        help="with several clusters: read this one alone (default: every one, each instance "
        "as good as its worst cluster; a rollout's record is kept in the first)",
    )
    add_keys_namespace_option(parser)
    add_output_option(parser)


def _names(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("fleet", metavar="FLEET", help="the fleet's directory name")
    parser.add_argument("instance", metavar="INSTANCE", help="the instance's name")


def _assignments(parser: argparse.ArgumentParser, count: str) -> None:
    parser.add_argument(
        "values", nargs=count, metavar="KEY=VALUE", help="values, read as YAML scalars"
    )


def _add(args: argparse.Namespace) -> int:
    values = dict(parse_assignment(word) for word in args.values)
    return _done(plan_add(load(args), args.fleet, args.instance, args.tier, values))


def _set(args: argparse.Namespace) -> int:
    values = dict(parse_assignment(word) for word in args.values)
    return _done(plan_set(load(args), args.fleet, args.instance, values))


def _switch(args: argparse.Namespace) -> int:
    on = args.state == "on" if args.on is None else args.on
    return _done(plan_switch(load(args), args.fleet, args.instance, args.switch, on))


def _unset(args: argparse.Namespace) -> int:
    return _done(plan_set(load(args), args.fleet, args.instance, {}, unset=args.keys))


def _move(args: argparse.Namespace) -> int:
    return _done(plan_set(load(args), args.fleet, args.instance, {}, tier=args.tier))


def _remove(args: argparse.Namespace) -> int:
    return _done(plan_remove(load(args), args.fleet, args.instance))


def _done(edit: InstanceEdit) -> int:
    apply_edit(edit)
    print(f"{'removed' if edit.text is None else 'wrote'} {edit.file}")
    return 0


def _list(args: argparse.Namespace) -> int:
    instances = list_instances(load(args), args.fleet)
    if args.output == "json":
        print_json(
            [
                {
                    "name": i.name,
                    "tier": i.tier,
                    "values": i.values,
                    "suspend": i.suspend,
                    "maintenance": i.maintenance,
                }
                for i in instances
            ]
        )
        return 0
    for i in instances:
        values = " ".join(f"{key}={value}" for key, value in sorted(i.values.items()))
        switches = [
            name for name, on in (("suspended", i.suspend), ("maintenance", i.maintenance)) if on
        ]
        print(f"{i.name}\t{i.tier}\t{values}\t{' '.join(switches)}".rstrip())
    return 0


def _kube(args: argparse.Namespace) -> KubeClient:
    """The environment's cluster; with several, the one --cluster names, else the first
    (where a rollout keeps its record)."""
    env = load(args).environment(args.env)
    if not env.clusters:
        return connect(args, log=Progress())
    cluster = env.clusters[0] if args.cluster is None else env.cluster(args.cluster)
    return connect_cluster(args, cluster, log=Progress())


def _statuses(args: argparse.Namespace, project: Project, kube: KubeClient) -> list[AppStatus]:
    """The environment's apps: from ``kube``, or with several clusters and no --cluster,
    each app's worst over every cluster."""
    env = project.environment(args.env)
    if env.clusters and args.cluster is None:
        progress = Progress()
        return statuses_on_every_cluster(
            lambda cluster: connect_cluster(args, cluster, log=progress),
            project,
            env,
            keys_namespace=args.keys_namespace,
        )
    return environment_status(kube, project, env, keys_namespace=args.keys_namespace)


def _status(args: argparse.Namespace) -> int:
    project = load(args)
    env = project.environment(args.env)
    with _kube(args) as kube:
        statuses = _statuses(args, project, kube)
    tiers = tier_statuses(project, args.fleet, statuses)
    versions = {v.tier: v for v in tier_versions(project, fleet_of(project, args.fleet))}
    good = all(t.good == t.instances for t in tiers)
    if args.output == "json":
        print_json(
            {
                "fleet": args.fleet,
                "env": env.name,
                "tiers": [
                    {
                        **asdict(t),
                        "version": versions[t.tier].version,
                        "template": versions[t.tier].path,
                    }
                    for t in tiers
                ],
            }
        )
        return 0 if good else 1
    for t in tiers:
        health = ", ".join(f"{count} {state}" for state, count in t.health.items())
        version = versions[t.tier]
        shown = (version.version[:12] or "uncommitted") + (
            ", changed in the work tree" if version.changed else ""
        )
        print(
            f"{t.tier} (template {shown}): {t.good}/{t.instances} Synced and Healthy"
            + (f" ({health})" if health else "")
        )
        for line in t.not_good:
            print(f"  {line}")
    return 0 if good else 1


def _rollout(args: argparse.Namespace) -> int:
    project = load(args)
    env = project.environment(args.env)
    with _kube(args) as kube:
        statuses = _statuses(args, project, kube)
        result = rollout_step(
            kube, project, env, args.fleet, statuses, now=time.time(), resume=args.resume
        )
    step, promotion = result.step, result.promotion
    if args.output == "json":
        print_json(
            {
                "fleet": result.fleet,
                "env": result.env,
                "verdict": step.verdict,
                "tier": step.tier,
                "target": step.target,
                "reason": step.reason,
                "promotion": asdict(promotion) if promotion is not None else None,
                "pinned": result.pinned,
            }
        )
        return 0 if step.verdict in ("promote", "done") else 1
    if result.pinned is not None:
        print(f"gave the later tiers their own copy of the template in commit {result.pinned[:12]}")
    if promotion is not None:
        print(
            f"promoted {promotion.source} → {promotion.target} "
            f"(template {promotion.version[:12]}, was {promotion.previous[:12]}): {step.reason}"
        )
        if promotion.commit is not None:
            print(f"  in commit {promotion.commit[:12]}; deploy it with `hakobu sync {env.name}`")
    else:
        label = {"wait": "waiting", "halt": "halted", "done": "done", "promote": "promote"}
        print(f"{label[step.verdict]}: {step.reason}")
    if step.verdict == "halt":
        print(
            f"  it holds until the template of tier {step.tier} changes (fix or revert it), "
            f"or `hakobu fleet rollout {result.fleet} {env.name} --resume`"
        )
    return 0 if step.verdict in ("promote", "done") else 1
