"""``hakobu images``: content-addressed tags; ``hakobu images build``: build what is missing."""

from __future__ import annotations

import argparse
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from hakobu.cli.output import Progress, print_json
from hakobu.errors import HakobuError
from hakobu.images.build import BUILDERS, execute, format_command, plan_builds
from hakobu.images.project import current_tags, open_project, tags_at
from hakobu.images.registry import RegistryClient
from hakobu.images.tags import TagSet
from hakobu.model.project import find_root

_REGISTRY_WORKERS = 8


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
    parser.add_argument("-o", "--output", choices=["text", "json"], default="text")
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
    parser.add_argument(
        "-C",
        "--directory",
        type=Path,
        default=argparse.SUPPRESS if nested else Path(),
        help="project directory",
    )
    parser.add_argument(
        "--require-clean",
        action="store_true",
        default=argparse.SUPPRESS if nested else False,
        help="refuse when image inputs have uncommitted changes",
    )


@dataclass(frozen=True)
class ImageRow:
    name: str
    reference: str
    tag: str
    dirty: bool
    # The tag at HEAD differs from the tag at HEAD~1 (or the image is new).
    changed: bool
    # "present", "missing" or "unknown" (offline, unreachable, refused).
    registry: str


def _list(args: argparse.Namespace) -> int:
    project = open_project(find_root(args.directory))
    tags = current_tags(project, require_clean=args.require_clean)
    previous = tags_at(project, "HEAD~1")
    at_head = tags if not any(t.dirty for t in tags.tags.values()) else tags_at(project, "HEAD")
    present = {} if args.offline else _registry_status(tags)
    rows = []
    for name in tags.order:
        tag = tags.tags[name]
        head = at_head.tags.get(name) if at_head else None
        before = previous.tags.get(name) if previous else None
        changed = before is None or head is None or before.tag != head.tag
        registry = _presence(present.get(name))
        rows.append(ImageRow(name, tag.reference, tag.tag, tag.dirty, changed, registry))
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
    project = open_project(find_root(args.directory))
    tags = current_tags(project, require_clean=args.require_clean)
    builder = args.builder or ("docker" if shutil.which("docker") else "buildah")
    present = {} if args.offline else _registry_status(tags)
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


def _registry_status(tags: TagSet) -> dict[str, bool | None]:
    """Per image: tag present, absent, or None when the registry could not say."""
    # One failure per registry host is reported; its other images are not asked, so an
    # offline run costs one timeout per host rather than one per image.
    failed: dict[str, HakobuError] = {}

    def check(name: str) -> bool | None:
        tag = tags.tags[name]
        host = tag.repository.split("/", 1)[0]
        if host in failed:
            return None
        try:
            return client.has_tag(tag.repository, tag.tag)
        except HakobuError as e:
            failed.setdefault(host, e)
            return None

    with RegistryClient() as client, ThreadPoolExecutor(_REGISTRY_WORKERS) as pool:
        present = dict(zip(tags.order, pool.map(check, tags.order), strict=True))
    for error in failed.values():
        print(f"warning: {error.message}; registry status unknown", file=sys.stderr)
    return present


def _presence(state: bool | None) -> str:
    return "unknown" if state is None else "present" if state else "missing"
