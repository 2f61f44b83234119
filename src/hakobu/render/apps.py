"""Find a project's apps and render one app for one environment.

An app is an entry of the project's apps directory, and its kind follows from what it holds:

- ``apps/<app>.yaml`` or ``apps/<app>/app.yaml``: an app spec (a few lines → manifests);
- ``apps/<app>/Chart.yaml`` or ``apps/<app>/helm.yaml``: a Helm chart, in the repository
  or pinned in a registry, rendered exactly as ``helm template`` would (see ``charts``);
- ``apps/<app>/overlays/<env>/kustomization.yaml``, else ``apps/<app>/kustomization.yaml``:
  a kustomize tree, built exactly as ``kustomize build`` would;
- ``apps/<fleet>/fleet.yaml``: a fleet, one app ``<fleet>-<instance>`` per instance file
  (see ``hakobu.model.fleet``);
- any other directory: templates (plain YAML and Jinja files, see ``templates``).

An app spec is rendered over its platform base, if it names one or its environment has a
default (``bases``); the base's files are then inputs of that app's render.

Apps read only inside their project: a symbolic link that leads out of it is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.appspec import load_app
from hakobu.model.bases import check_app
from hakobu.model.dependencies import Declared
from hakobu.model.fleet import app_name
from hakobu.model.objects import Object
from hakobu.model.project import Environment, Project
from hakobu.model.source import SourceError
from hakobu.render.appspec import expand_app
from hakobu.render.bases import RenderBases, chosen_base
from hakobu.render.charts import SOURCE_FILE, Lock, is_chart_app, lock_app, render_chart
from hakobu.render.fleet import fleet_source, instance_files, is_fleet, render_instance
from hakobu.render.helm import Helm
from hakobu.render.inputs import Inputs
from hakobu.render.parsedspecs import ParsedSpecs
from hakobu.render.remotepins import RemoteGit, app_remotes
from hakobu.render.templates import render_template_dir

AppKind = Literal["spec", "chart", "kustomize", "templates", "fleet"]
_KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class App:
    name: str
    path: Path
    kind: AppKind
    # A fleet's instance: its file (``path`` is the fleet's directory).
    instance: Path | None = None


def discover_apps(project: Project, inputs: Inputs) -> list[App]:
    inputs = inputs.within(project.root, project.read_roots)
    if not inputs.is_dir(project.apps_dir):
        raise SourceError(
            project.file,
            f"the apps directory {project.apps_dir} does not exist",
            field=("apps",),
            hint="create it, or point `apps:` in hakobu.yaml at the right directory",
        )
    apps: dict[str, App] = {}
    for entry in inputs.list_dir(project.apps_dir):
        if entry.startswith("."):
            continue
        path = project.apps_dir / entry
        if entry.endswith((".yaml", ".yml")) and inputs.is_file(path):
            found = [App(entry.rsplit(".", 1)[0], path, "spec")]
        elif inputs.is_dir(path) and is_fleet(fleet_source(project, path, inputs), inputs):
            found = [
                App(app_name(entry, instance), fleet_source(project, path, inputs), "fleet", file)
                for instance, file in instance_files(path, inputs).items()
            ]
        elif inputs.is_dir(path):
            found = [App(entry, path, _directory_kind(path, inputs))]
        else:
            continue
        for app in found:
            if app.name in apps:
                raise SourceError(
                    app.instance or path,
                    f"app {app.name!r} is defined twice "
                    f"({_shown(apps[app.name])} and {_shown(app)})",
                    hint="keep one of the two, or rename the instance",
                )
            apps[app.name] = app
    return [apps[name] for name in sorted(apps)]


@dataclass(frozen=True)
class RenderedApp:
    objects: list[Object]
    # The apps it waits for (its ``dependsOn``), read from the same parse as its objects.
    declared: Declared | None


def render_app(
    app: App,
    env: Environment,
    project: Project,
    inputs: Inputs,
    images: Mapping[str, str],
    *,
    deadline: float | None = None,
    helm: Helm | None = None,
    bases: RenderBases | None = None,
    remote_git: RemoteGit | None = None,
    specs: ParsedSpecs | None = None,
) -> RenderedApp:
    """``app``'s objects in ``env`` and its ``dependsOn`` (from its app spec, else from the
    project file); template apps stop at ``deadline`` (monotonic time); chart apps are
    rendered by ``helm``; ``bases``: the platform bases the apps of one render share (each
    version read and compiled once); ``remote_git`` fetches the remote bases of kustomize
    apps (without it they are refused); ``specs``: the app specs the render parsed already,
    in another environment."""
    # Whatever its links say, an app reads nothing from outside its project (and the
    # application repository's tree it pins).
    inputs = inputs.within(project.root, project.read_roots)
    if app.kind != "spec":
        objects = _render_other(
            app, env, project, inputs, images, deadline=deadline, helm=helm, remote_git=remote_git
        )
        return RenderedApp(objects, project.depends_on.get(app.name))
    spec_file = _spec_file(app, inputs)
    _refuse_listed(app, project, spec_file)
    # One read serves both the cache's record and the loader: what is cached is exactly
    # what was rendered.
    text = inputs.read_text(spec_file)
    if specs is None:
        specs = ParsedSpecs()
    document = specs.document(spec_file, text)
    chosen = chosen_base(document, env.name, env.base, project.file)
    if bases is None:
        bases = RenderBases(project.root, images)
    base = bases.load(chosen, inputs) if chosen is not None else None
    if base is not None:
        check_app(base, document, tuple(e.name for e in project.environments))
    spec = specs.spec(spec_file, text, base.defaults if base is not None else None)
    if spec.name != app.name:
        raise SourceError(
            spec_file,
            f"the app is named {spec.name!r} but its file says {app.name!r}",
            line=1,
            field=("name",),
            hint=f"rename the file or set name: {app.name}",
        )
    unknown = sorted(set(spec.environments) - {e.name for e in project.environments})
    if unknown:
        raise SourceError(
            spec_file,
            f"overrides for unknown environment {unknown[0]!r}",
            field=("environments", unknown[0]),
            hint="the project's environments are: "
            + ", ".join(e.name for e in project.environments),
        )
    objects = expand_app(spec, environment=env.name, namespace=env.namespace, images=images)
    if base is not None:
        objects = bases.apply(
            base,
            spec,
            objects,
            environment=env.name,
            namespace=env.namespace,
            inputs=inputs,
            deadline=deadline,
        )
    return RenderedApp(objects, spec.depends_on)


def _render_other(
    app: App,
    env: Environment,
    project: Project,
    inputs: Inputs,
    images: Mapping[str, str],
    *,
    deadline: float | None,
    helm: Helm | None,
    remote_git: RemoteGit | None,
) -> list[Object]:
    """The objects of an app that is not an app spec."""
    if app.kind == "chart":
        if helm is None:
            raise OperationFailed(f"app {app.name!r} is a chart, and helm was not made available")
        return render_chart(
            app.name,
            app.path,
            environment=env.name,
            namespace=env.namespace,
            inputs=inputs,
            helm=helm,
        )
    if app.kind == "kustomize":
        # Here, not at the top: a fleet's render of one changed instance never needs it.
        from hakobu.render.kustomize.build import build as kustomize_build  # noqa: PLC0415

        remotes = app_remotes(project, remote_git, inputs) if remote_git is not None else None
        return kustomize_build(
            kustomize_root(app, env, inputs), files=inputs, helm=helm, remotes=remotes
        )
    if app.instance is not None:
        return render_instance(app.path, app.instance, env, inputs, images, deadline=deadline)
    return render_template_dir(
        app.path,
        app=app.name,
        environment=env.name,
        namespace=env.namespace,
        values=env.values,
        inputs=inputs,
        images=images,
        deadline=deadline,
    )


def declared_dependencies(app: App, project: Project, inputs: Inputs) -> Declared | None:
    """``app``'s ``dependsOn``: from its app spec, else from the project file.

    A render has them from ``render_app``; this reads them again only to point at a list
    at fault, for an app whose output came from the cache."""
    if app.kind != "spec":
        return project.depends_on.get(app.name)
    inputs = inputs.within(project.root)
    spec_file = _spec_file(app, inputs)
    _refuse_listed(app, project, spec_file)
    return load_app(spec_file, inputs.read_text(spec_file)).depends_on


def _spec_file(app: App, inputs: Inputs) -> Path:
    return app.path if inputs.is_file(app.path) else app.path / "app.yaml"


def _refuse_listed(app: App, project: Project, spec_file: Path) -> None:
    """An app spec lists its own dependencies: the project file may not list them too."""
    declared = project.depends_on.get(app.name)
    if declared is not None:
        raise SourceError(
            project.file,
            f"app {app.name!r} has an app spec: its dependencies are listed there",
            line=declared.lines[0] if declared.lines else None,
            field=("dependsOn", app.name),
            hint=f"move the list to dependsOn in {spec_file}",
        )


def _shown(app: App) -> str:
    if app.instance is not None:
        return f"{app.path.name}/{app.instance.parent.name}/{app.instance.name}"
    return app.path.name


def _directory_kind(path: Path, inputs: Inputs) -> AppKind:
    if inputs.is_file(path / "app.yaml"):
        return "spec"
    if is_chart_app(path, inputs):
        return "chart"
    if inputs.is_dir(path / "overlays") or any(
        inputs.is_file(path / name) for name in _KUSTOMIZATION_FILES
    ):
        return "kustomize"
    return "templates"


def kustomize_root(app: App, env: Environment, inputs: Inputs) -> Path:
    """The directory ``env`` builds of a kustomize app: its overlay, else the app's top."""
    overlay = app.path / "overlays" / env.name
    for root in (overlay, app.path):
        if any(inputs.is_file(root / name) for name in _KUSTOMIZATION_FILES):
            return root
    raise SourceError(
        app.path,
        f"kustomize app {app.name!r} has no overlay for environment {env.name!r} "
        "and no kustomization at its top",
        hint=f"add {overlay}/kustomization.yaml",
    )


def lock_charts(project: Project, names: Sequence[str], helm: Helm) -> list[tuple[str, Lock, bool]]:
    """Record the digest of the chart each named app pins (every such app, when ``names``
    is empty): the app, its lock, and whether its lock file changed."""
    inputs = Inputs()
    pinned = {
        app.name: app
        for app in discover_apps(project, inputs)
        if app.kind == "chart" and inputs.within(project.root).is_file(app.path / SOURCE_FILE)
    }
    for name in names:
        if name not in pinned:
            raise InvalidInput(
                f"app {name!r} is not a chart pinned in a registry or repository",
                hint=f"those are the apps with a {SOURCE_FILE}: "
                + (", ".join(sorted(pinned)) or "none"),
            )
    chosen = list(names) or sorted(pinned)
    return [(name, *lock_app(pinned[name].path, helm)) for name in chosen]
