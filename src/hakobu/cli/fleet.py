"""``hakobu fleet add | set | unset | move | remove | list``: edit a fleet's instance files."""

from __future__ import annotations

import argparse
from typing import TypeAlias

from hakobu.cli.options import add_output_option, add_project_option, load
from hakobu.cli.output import print_json
from hakobu.releases.fleet import (
    InstanceEdit,
    apply_edit,
    list_instances,
    parse_assignment,
    plan_add,
    plan_remove,
    plan_set,
)

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
    for action in (add, change, unset, move, remove, listing):
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
