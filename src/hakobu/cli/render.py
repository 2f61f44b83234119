"""``hakobu render``: write each environment's manifests under generated/<env>/."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from hakobu.cli.options import add_output_option, add_project_option, load
from hakobu.cli.output import Progress, json_text, print_json
from hakobu.localcluster.helmtool import helm_for_render
from hakobu.releases.rendercommit import RenderRequest, render_project
from hakobu.render.environment import EnvironmentResult


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render apps into generated/<env>/ (the committed manifests)",
        description="Render every app of every environment (or those chosen) into "
        "<output>/<env>/<app>/<kind>-<name>.yaml. Unchanged apps come from a cache that is "
        "used only when every file they read is unchanged. An environment is written whole "
        "or not at all.",
    )
    parser.add_argument("--env", action="append", help="only this environment (repeatable)")
    parser.add_argument("--app", help="only this app")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the committed output is stale (for CI)",
    )
    parser.add_argument(
        "--commit",
        action="store_true",
        help="commit the rendered change to git, with the changed inputs it was rendered from",
    )
    parser.add_argument("--no-cache", action="store_true", help="render every app afresh")
    add_project_option(parser, long_name=True)
    add_output_option(parser)
    parser.set_defaults(handler=_render)


def _render(args: argparse.Namespace) -> int:
    project = load(args)
    request = RenderRequest(
        envs=args.env or (),
        only_app=args.app,
        check=args.check,
        commit=args.commit,
        use_cache=not args.no_cache,
    )

    def report_first(results: Sequence[EnvironmentResult]) -> None:
        # Produced once before anything is written, so a report that cannot be printed
        # fails the command while the files are still as they were.
        if args.output == "json":
            json_text({"environments": results, "commit": None})

    rendered = render_project(
        project, request, before_write=report_first, helm=helm_for_render(Progress())
    )
    if args.output == "json":
        print_json({"environments": rendered.results, "commit": rendered.commit})
    else:
        print_results(rendered.results, check=args.check, commit=rendered.commit)
        if args.commit and not args.check and rendered.commit is None:
            print("nothing to commit: the output and its inputs are as HEAD holds them")
    return 1 if args.check and rendered.stale else 0


def print_results(results: list[EnvironmentResult], *, check: bool, commit: str | None) -> None:
    for result in results:
        apps = f"{len(result.rendered)} apps rendered, {len(result.cached)} from cache"
        if not result.has_changes:
            print(f"{result.env}: up to date ({apps})")
            continue
        verb = "is stale" if check else "rendered"
        print(
            f"{result.env}: {verb}: {len(result.added)} added, {len(result.changed)} changed, "
            f"{len(result.removed)} removed ({apps})"
        )
        for marks, paths in (("+", result.added), ("~", result.changed), ("-", result.removed)):
            for path in paths:
                print(f"  {marks} {path}")
    if check and any(r.has_changes for r in results):
        print("the committed output is stale: run `hakobu render` and commit the result")
    if commit:
        print(f"committed {commit[:12]}")
