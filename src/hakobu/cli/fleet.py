"""``hakobu fleet add | set | unset | move | remove | list``: edit a fleet's instance files;
``hakobu fleet status``: its tiers in a cluster."""

from __future__ import annotations

import argparse
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
from hakobu.errors import InvalidInput
from hakobu.releases.fleet import (
    InstanceEdit,
    apply_edit,
    list_instances,
    parse_assignment,
    plan_add,
    plan_remove,
    plan_set,
    tier_statuses,
)
from hakobu.sync.status import environment_status

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
    status.add_argument("fleet", metavar="FLEET")
    status.add_argument("env", metavar="ENV", help="the environment, as named in hakobu.yaml")
    add_cluster_options(status)
    status.add_argument(
        "--cluster",
        default=None,
        metavar="NAME",
        help="which of the environment's clusters to read, when it has several",
    )
    add_keys_namespace_option(status)
    add_output_option(status)
    status.set_defaults(handler=_status)
    for action in (add, change, unset, move, remove, listing, status):
        add_project_option(action, inherited=True)


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
        print_json([{"name": i.name, "tier": i.tier, "values": i.values} for i in instances])
        return 0
    for i in instances:
        values = " ".join(f"{key}={value}" for key, value in sorted(i.values.items()))
        print(f"{i.name}\t{i.tier}\t{values}".rstrip())
    return 0


def _status(args: argparse.Namespace) -> int:
    project = load(args)
    env = project.environment(args.env)
    if env.clusters:
        if args.cluster is None:
            names = ", ".join(c.name for c in env.clusters)
            raise InvalidInput(
                f"environment {env.name!r} has several clusters: {names}",
                hint="pick the one to read with --cluster NAME",
            )
        kube = connect_cluster(args, env.cluster(args.cluster), log=Progress())
    else:
        kube = connect(args, log=Progress())
    with kube:
        statuses = environment_status(kube, project, env, keys_namespace=args.keys_namespace)
    tiers = tier_statuses(project, args.fleet, statuses)
    good = all(t.good == t.instances for t in tiers)
    if args.output == "json":
        print_json({"fleet": args.fleet, "env": env.name, "tiers": [asdict(t) for t in tiers]})
        return 0 if good else 1
    for t in tiers:
        health = ", ".join(f"{count} {state}" for state, count in t.health.items())
        print(
            f"{t.tier}: {t.good}/{t.instances} Synced and Healthy"
            + (f" ({health})" if health else "")
        )
        for line in t.not_good:
            print(f"  {line}")
    return 0 if good else 1
