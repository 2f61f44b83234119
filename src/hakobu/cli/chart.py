"""``hakobu chart lock``: record the digest of each pinned chart, so a render can check it."""

from __future__ import annotations

import argparse

from hakobu.cli.options import add_output_option, add_project_option, load
from hakobu.cli.output import Progress, print_json
from hakobu.localcluster.gobuild import ensure_tool
from hakobu.localcluster.helmtool import helm_for_render
from hakobu.localcluster.toolchain import HELM
from hakobu.render.apps import lock_charts


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "chart",
        help="pin the charts that apps pull from registries and repositories",
        description="Chart apps with a helm.yaml name a chart in an OCI registry or a chart "
        "repository at a version; helm.lock beside it records the digest that chart must "
        "have, and every render refuses a chart whose digest differs.",
    )
    commands = parser.add_subparsers(dest="chart_command", required=True, metavar="COMMAND")
    lock = commands.add_parser(
        "lock",
        help="pull each pinned chart and write its digest to helm.lock",
        description="Pull the chart each named app's helm.yaml pins (every such app when "
        "none is named) and write its digest to the app's helm.lock. Commit helm.lock: "
        "renders check the chart against it. Example: hakobu chart lock web",
    )
    lock.add_argument("apps", nargs="*", metavar="APP", help="apps to lock (default: all)")
    add_project_option(lock)
    add_output_option(lock)
    lock.set_defaults(handler=_lock)
    build = commands.add_parser(
        "build",
        help="build helm now rather than on the first render of a chart app",
        description="Build the pinned helm from its Go module into ~/.cache/hakobu/tools "
        "(once; later runs find it there), so a CI job can build it in a step of its own.",
    )
    build.set_defaults(handler=_build)


def _build(_: argparse.Namespace) -> int:
    print(f"helm {HELM.version}: {ensure_tool(HELM, Progress()).binary('helm')}")
    return 0


def _lock(args: argparse.Namespace) -> int:
    project = load(args)
    locked = lock_charts(project, args.apps, helm_for_render(Progress()))
    if args.output == "json":
        print_json(
            {
                "locks": [
                    {
                        "app": app,
                        "chart": lock.chart.reference,
                        "digest": lock.digest,
                        "changed": changed,
                    }
                    for app, lock, changed in locked
                ]
            }
        )
        return 0
    if not locked:
        print("no app pins a chart (no apps/<app>/helm.yaml)")
    for app, lock, changed in locked:
        state = "written" if changed else "unchanged"
        print(f"{app}: {lock.chart.reference} {lock.digest} ({state})")
    return 0
