"""Which apps use which platform base, and moving one app to another version of its base.

``base_usage`` lists every version under ``platform/bases/`` and the app specs on it, in
each environment (a spec's own ``base``, else its environment's default). ``upgrade_base``
rewrites one spec's ``base: NAME@OLD`` to ``NAME@NEW`` as a one-line text edit (the
comment-preserving editor of promotion), after checking the spec against the new version
(its forbidden fields and values schema), then renders the project: the render cache knows
the base's files as inputs of the apps on each version, so only that app is rendered
again, and the result says exactly which generated files change and how. A render that
fails puts the spec back as it was.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from hakobu.errors import InvalidInput
from hakobu.model import files
from hakobu.model.appspec import load_app_document
from hakobu.model.bases import BASES_DIR, BaseRef, check_app, parse_ref
from hakobu.model.project import Project
from hakobu.model.source import load_one
from hakobu.releases.overrides import set_path
from hakobu.releases.rendercommit import RenderRequest, render_project
from hakobu.render.apps import App, discover_apps
from hakobu.render.bases import Chosen, chosen_base, load_base
from hakobu.render.environment import EnvironmentResult
from hakobu.render.inputs import Inputs


@dataclass(frozen=True)
class BaseUse:
    """One version of a base and the apps on it; an app on it in only some environments
    is listed as ``app (env, ...)``."""

    base: str
    version: int
    apps: tuple[str, ...]


def base_usage(project: Project) -> list[BaseUse]:
    inputs = Inputs().within(project.root)
    users: dict[BaseRef, dict[str, list[str]]] = {}
    for ref in _versions(project.root / BASES_DIR, inputs):
        users[ref] = {}
    env_names = [env.name for env in project.environments]
    for app in discover_apps(project, inputs):
        if app.kind != "spec":
            continue
        document = load_one(_spec_file(app, inputs), inputs.read_text(_spec_file(app, inputs)))
        for env in project.environments:
            chosen = chosen_base(document, env.name, env.base, project.file)
            if chosen is not None:
                users.setdefault(chosen.ref, {}).setdefault(app.name, []).append(env.name)
    rows: list[BaseUse] = []
    for ref in sorted(users, key=lambda r: (r.name, r.version)):
        apps = tuple(
            name if envs == env_names else f"{name} ({', '.join(envs)})"
            for name, envs in sorted(users[ref].items())
        )
        rows.append(BaseUse(ref.name, ref.version, apps))
    return rows


def _versions(directory: Path, inputs: Inputs) -> list[BaseRef]:
    if not inputs.is_dir(directory):
        return []
    found: list[BaseRef] = []
    for name in inputs.list_dir(directory):
        if not inputs.is_dir(directory / name):
            continue
        for version in inputs.list_dir(directory / name):
            try:
                found.append(parse_ref(f"{name}@{version}"))
            except ValueError:
                continue
    return found


def _spec_file(app: App, inputs: Inputs) -> Path:
    return app.path if inputs.is_file(app.path) else app.path / "app.yaml"


@dataclass(frozen=True)
class Upgrade:
    app: str
    file: Path
    before: str  # NAME@OLD
    after: str  # NAME@NEW
    results: list[EnvironmentResult]
    diff: str  # of the generated files that changed, unified


def upgrade_base(project: Project, app_name: str, version: int) -> Upgrade:
    """Move ``app_name``'s spec to ``version`` of its base and render the project."""
    inputs = Inputs().within(project.root)
    apps = {app.name: app for app in discover_apps(project, inputs)}
    app = apps.get(app_name)
    if app is None or app.kind != "spec":
        specs = ", ".join(name for name, a in apps.items() if a.kind == "spec") or "none"
        raise InvalidInput(
            f"{app_name!r} is not an app spec of the project"
            if app is None
            else f"app {app_name!r} is a {app.kind} app: only app specs have a base",
            hint=f"the project's app specs: {specs}",
        )
    file = _spec_file(app, inputs)
    text = inputs.read_text(file)
    document = load_one(file, text)
    load_app_document(document)
    written = document.data.get("base")
    if written is None:
        raise InvalidInput(
            f"{file}: app {app_name!r} names no base",
            hint="write base: NAME@VERSION in the spec first; an environment's default base "
            "is changed in hakobu.yaml",
        )
    current = parse_ref(written)
    target = BaseRef(current.name, version)
    if target == current:
        raise InvalidInput(f"{file}: app {app_name!r} is on {current} already")
    edited = set_path(text, file, ("base",), str(target))
    new_document = load_one(file, edited)
    where = Chosen(target, file, new_document.line_of(("base",)), ("base",))
    base = load_base(where, project.root, inputs)
    check_app(base, new_document, tuple(env.name for env in project.environments))
    load_app_document(new_document, base.defaults)
    before = _generated(project, app_name)
    file.write_text(edited)
    try:
        rendered = render_project(project, RenderRequest())
    except BaseException:
        file.write_text(text)
        raise
    after = _generated(project, app_name)
    return Upgrade(
        app_name, file, str(current), str(target), rendered.results, _diff(before, after)
    )


def _generated(project: Project, app: str) -> dict[str, str]:
    """The app's generated files in every environment, by path relative to the output."""
    found: dict[str, str] = {}
    for env in project.environments:
        directory = project.output_dir / env.name / app
        if directory.is_dir():
            for path in sorted(directory.iterdir()):
                if path.is_file():
                    found[str(path.relative_to(project.output_dir))] = files.read_text(path)
    return found


def _diff(before: dict[str, str], after: dict[str, str]) -> str:
    chunks: list[str] = []
    for path in sorted(before.keys() | after.keys()):
        old, new = before.get(path, ""), after.get(path, "")
        if old == new:
            continue
        chunks.extend(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                new.splitlines(keepends=True),
                f"a/{path}" if path in before else "/dev/null",
                f"b/{path}" if path in after else "/dev/null",
            )
        )
    return "".join(chunks)
