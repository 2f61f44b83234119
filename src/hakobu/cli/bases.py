"""``hakobu bases [upgrade APP --to N]``: platform bases, which apps use them, upgrades."""

from __future__ import annotations

import argparse

from hakobu.cli.options import add_output_option, add_project_option, load
from hakobu.cli.output import print_json
from hakobu.cli.render import print_results
from hakobu.releases.bases import base_usage, upgrade_base


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bases",
        help="list the platform bases and the apps on each version; upgrade one app",
        description="List every version under platform/bases/ and the app specs on it (a "
        "spec's own `base:`, else its environment's default; an app on a version in only "
        "some environments is listed with them).",
    )
    add_project_option(parser, long_name=True)
    add_output_option(parser)
    parser.set_defaults(handler=_list)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    upgrade = actions.add_parser(
        "upgrade",
        help="move one app to another version of its base, and render",
        description="Rewrite APP's `base: NAME@OLD` as NAME@N (a one-line edit; comments "
        "and layout stay), after checking the spec against version N (its forbidden fields "
        "and values schema), then render every environment: only APP is rendered again, "
        "and the change of its generated files is printed as a diff. Nothing is "
        "committed: review, then `hakobu render --commit` or git commit.",
    )
    upgrade.add_argument("app", metavar="APP", help="the app spec's name")
    upgrade.add_argument(
        "--to", type=int, required=True, metavar="N", help="the base version to move to"
    )
    add_project_option(upgrade, long_name=True, inherited=True)
    add_output_option(upgrade)
    upgrade.set_defaults(handler=_upgrade)


def _list(args: argparse.Namespace) -> int:
    rows = base_usage(load(args))
    if args.output == "json":
        print_json({"bases": rows})
        return 0
    if not rows:
        print("no platform bases (platform/bases/NAME/VERSION/) and no app names one")
        return 0
    width = max(len("BASE"), *(len(row.base) for row in rows))
    print(f"{'BASE':<{width}}  VERSION  APPS")
    for row in rows:
        print(f"{row.base:<{width}}  {row.version:<7}  {', '.join(row.apps) or '-'}")
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    upgrade = upgrade_base(load(args), args.app, args.to)
    if args.output == "json":
        print_json(
            {
                "app": upgrade.app,
                "file": str(upgrade.file),
                "before": upgrade.before,
                "after": upgrade.after,
                "environments": upgrade.results,
                "diff": upgrade.diff,
            }
        )
        return 0
    print(f"{upgrade.file}: base: {upgrade.before} → {upgrade.after}")
    print_results(upgrade.results, check=False, commit=None)
    if upgrade.diff:
        print()
        print(upgrade.diff, end="")
    return 0
