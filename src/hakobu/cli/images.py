"""``hakobu images``: content-addressed tags; ``hakobu images build``: build what is missing."""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import asdict

from hakobu.cli.options import add_output_option, add_project_option, project_root
from hakobu.cli.output import Progress, print_json
from hakobu.images.build import BUILDERS, execute, format_command, plan_builds
from hakobu.images.project import current_tags, open_project
from hakobu.images.status import RegistryStatus, image_rows, registry_status
from hakobu.images.tags import TagSet


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "images",
        help="image tags computed from the git trees of their inputs",
        description="List the images of hakobu.yaml with their content-addressed tags "
        "(from git tree ids of the build context, Dockerfile, extra inputs, build args and "
        "in-repository base images), whether their inputs changed since the previous "
        "commit, and whether the registry has the tag. Uncommitted changes give tags "
        "ending in -dirty.",
    )
    _common(parser, nested=False)
    add_output_option(parser)
    parser.add_argument(
        "--offline", action="store_true", help="do not ask registries (status: unknown)"
    )
    parser.set_defaults(handler=_list)
    commands = parser.add_subparsers(dest="images_command", metavar="COMMAND")
    build = commands.add_parser(
        "build",
        help="build (and push) the images the registry lacks, bases first",
        description="Build every image whose tag the registry does not have (or whose "
        "status is unknown), in dependency order, with in-repository bases pinned to "
        "their computed tags.",
    )
    _common(build, nested=True)
    build.add_argument("--push", action="store_true", help="push each image after building")
    build.add_argument(
        "--dry-run", action="store_true", help="print the exact commands, run nothing"
    )
    build.add_argument(
        "--builder",
        choices=BUILDERS,
        help="the build tool (default: docker when installed, else buildah)",
    )
    build.add_argument(
        "--offline",
        action="store_true",
        default=argparse.SUPPRESS,
        help="do not ask registries; build everything",
    )
    build.set_defaults(handler=_build)


def _common(parser: argparse.ArgumentParser, *, nested: bool) -> None:
    # Accepted before `build` and after it; a subcommand's own defaults would overwrite
    # what was given before it, so it has none.
    add_project_option(parser, long_name=True, inherited=nested)
    parser.add_argument(
        "--require-clean",
        action="store_true",
        default=argparse.SUPPRESS if nested else False,
        help="refuse when image inputs have uncommitted changes",
    )


def _list(args: argparse.Namespace) -> int:
    project = open_project(project_root(args))
    tags = current_tags(project, require_clean=args.require_clean)
    rows = image_rows(project, tags, None if args.offline else _registry_status(tags))
    if args.output == "json":
        print_json([asdict(row) for row in rows])
        return 0
    width = max([5, *(len(row.name) for row in rows)])
    ref_width = max([9, *(len(row.reference) for row in rows)])
    print(f"{'IMAGE':<{width}}  {'REFERENCE':<{ref_width}}  CHANGED  REGISTRY")
    for row in rows:
        said = "yes" if row.changed else "no"
        print(f"{row.name:<{width}}  {row.reference:<{ref_width}}  {said:<7}  {row.registry}")
    return 0


def _build(args: argparse.Namespace) -> int:
    project = open_project(project_root(args))
    tags = current_tags(project, require_clean=args.require_clean)
    builder = args.builder or ("docker" if shutil.which("docker") else "buildah")
    present = {} if args.offline else _registry_status(tags).present
    steps = plan_builds(tags, project.specs, present, builder=builder, push=args.push)
    if args.dry_run:
        print(f"# in {project.root.resolve()}")
        for step in steps:
            print(f"# {step.image}: {step.reason}")
            for command in step.commands:
                print(format_command(command))
        if not steps:
            print("# every image is in its registry; nothing to build")
        return 0
    if not steps:
        print("every image is in its registry; nothing to build")
        return 0
    execute(steps, project.root, Progress())
    for step in steps:
        print(f"built {step.reference}" + (" and pushed it" if args.push else ""))
    return 0


def _registry_status(tags: TagSet) -> RegistryStatus:
    status = registry_status(tags)
    for error in status.failed:
        print(f"warning: {error.message}; registry status unknown", file=sys.stderr)
    return status
