"""``hakobu build``: print what one directory builds to, as YAML.

A kustomization directory builds exactly as `kustomize build` would. An app of a hakobu
project (an app spec, or a template directory) prints what `hakobu render` would write for
it in one environment.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hakobu.errors import InvalidInput
from hakobu.model.remotetarget import RemotePolicy
from hakobu.render.kustomize.build import build
from hakobu.render.kustomize.loader import NONE as LOAD_RESTRICTIONS_NONE
from hakobu.render.kustomize.loader import ROOT_ONLY as LOAD_RESTRICTIONS_ROOT_ONLY
from hakobu.render.kustomize.remote import Remotes
from hakobu.render.yamlout import dump_documents

_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "build",
        help="print what a kustomization (as `kustomize build`) or an app builds to",
        description="Build DIR and print the objects as YAML. A kustomization directory "
        "(resources, bases, components, generators, patches and transformers) prints byte "
        "for byte what `kustomize build DIR` prints. An app of a hakobu project (an app "
        "spec file or directory, or a template directory) prints what `hakobu render` "
        "would write for it in the environment given with --env.",
    )
    parser.add_argument("directory", metavar="PATH", type=Path, help="a directory or app spec")
    parser.add_argument(
        "--load-restrictor",
        choices=[LOAD_RESTRICTIONS_ROOT_ONLY, LOAD_RESTRICTIONS_NONE],
        default=LOAD_RESTRICTIONS_ROOT_ONLY,
        help="whether files must lie in or below each kustomization's directory "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--enable-helm",
        action="store_true",
        help="inflate the charts a kustomization lists (helmCharts:) with hakobu's helm, "
        "as `kustomize build --enable-helm` does",
    )
    parser.add_argument(
        "--allow-remote",
        metavar="PATTERN",
        action="append",
        default=[],
        help="let the kustomization name remote bases and components in git repositories "
        "matching PATTERN (host/org/repo, * within one segment; repeatable), each pinned "
        "with ?ref=; a kustomization in a hakobu project also takes the project's "
        "kustomize.remoteResources.allow",
    )
    parser.add_argument("--env", help="the environment to build an app for")
    parser.set_defaults(handler=_build)


def _build(args: argparse.Namespace) -> int:
    path: Path = args.directory
    if path.is_dir() and any((path / name).is_file() for name in _KUSTOMIZATION_FILES):
        helm = None
        if args.enable_helm:
            from hakobu.cli.output import Progress  # noqa: PLC0415
            from hakobu.localcluster.helmtool import helm_for_render  # noqa: PLC0415

            helm = helm_for_render(Progress())
        built = build(
            path,
            load_restrictor=args.load_restrictor,
            helm=helm,
            remotes=_remotes(path, args.allow_remote),
        )
        sys.stdout.write(dump_documents(built))
    else:
        sys.stdout.write(_build_app(path, args.env))
    return 0


def _remotes(path: Path, allowed: list[str]) -> Remotes | None:
    """The remote repositories a kustomization may name: ``--allow-remote`` patterns, and
    those of the project holding it; None when there are none."""
    from hakobu.model.project import PROJECT_FILE, load_project  # noqa: PLC0415
    from hakobu.repo.remotetree import fetch_target  # noqa: PLC0415

    patterns = list(allowed)
    for directory in (path.resolve(), *path.resolve().parents):
        if (directory / PROJECT_FILE).is_file():
            patterns.extend(load_project(directory).remote_resources.allow)
            break
    if not patterns:
        return None
    return Remotes(RemotePolicy(tuple(patterns)), fetch_target)


def _build_app(path: Path, env_name: str | None) -> str:
    # Imported here: a plain kustomize build needs none of the project machinery.
    from hakobu.cli.output import Progress  # noqa: PLC0415
    from hakobu.images.project import references  # noqa: PLC0415
    from hakobu.localcluster.helmtool import helm_for_render  # noqa: PLC0415
    from hakobu.model.project import find_root, load_project  # noqa: PLC0415
    from hakobu.releases.sourcepin import with_source_tree  # noqa: PLC0415
    from hakobu.render.cache import RenderCache  # noqa: PLC0415
    from hakobu.render.environment import app_files  # noqa: PLC0415
    from hakobu.repo.remotetree import RemoteRepositories  # noqa: PLC0415

    if not path.exists():
        raise InvalidInput(f"{path} does not exist")
    project = with_source_tree(load_project(find_root(path if path.is_dir() else path.parent)))
    if env_name is None:
        if len(project.environments) != 1:
            names = ", ".join(e.name for e in project.environments)
            raise InvalidInput(
                f"project {project.name!r} has several environments: say which one to "
                f"build {path} for with --env ({names})"
            )
        env_name = project.environments[0].name
    env = project.environment(env_name)
    cache = RenderCache(project.root, source=project.source.revision if project.source else "")
    helm = helm_for_render(Progress())
    files = app_files(
        project,
        env,
        path,
        cache=cache,
        images=references(project.root),
        helm=helm,
        remote_git=RemoteRepositories(),
    )
    return "---\n".join(content for _, content in sorted(files.items()))
