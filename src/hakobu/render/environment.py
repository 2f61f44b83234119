"""Render a whole environment into ``<output>/<env>/``: all of it, or nothing.

Every app is rendered and checked in memory first; only when the whole environment is valid
is the environment's directory replaced, whole, by one that holds exactly the new files
(``output``). A failed or killed render leaves the output exactly as it was. What render
finds in the output directory that it did not write is reported and left alone
(``hakobu.model.generated``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from hakobu.errors import InvalidInput
from hakobu.model.dependencies import Declared, annotated, check_graph
from hakobu.model.gcpause import collect_young, gc_paused
from hakobu.model.generated import refuse_links_between
from hakobu.model.objects import object_id
from hakobu.model.project import Environment, Project
from hakobu.model.source import SourceError
from hakobu.model.yamlbounds import shared_limit
from hakobu.render.apps import App, declared_dependencies, discover_apps, render_app
from hakobu.render.bases import RenderBases
from hakobu.render.cache import AppOutput, Consumer, RenderCache
from hakobu.render.canaryspec import check_canaries
from hakobu.render.checks import (
    check_no_plaintext_secrets,
    check_objects,
    check_unique,
    default_namespace,
)
from hakobu.render.envsecrets import check_sealed_namespaces, check_unknown, environment_secrets
from hakobu.render.helm import Helm
from hakobu.render.inputs import Inputs
from hakobu.render.layout import file_names
from hakobu.render.output import Tree, recover, update_environment
from hakobu.render.outputrecord import OutputRecord, current_output, remember_written
from hakobu.render.parsedspecs import ParsedSpecs
from hakobu.render.remotepins import RemoteGit
from hakobu.render.rollout import checksum, config_digest, references, with_checksum
from hakobu.render.yamlout import dump_object

# What one environment's render may read and run in all, beyond each file's and each
# template app's own bounds, so hostile input spread over many files or apps stays bounded.
# YAML costs time in proportion to its nodes (about 20 µs each here), so the total bounds
# memory (some 200 MB) more than time; templates can cost far more than their size, so
# together they get a few seconds, well beyond what honest apps take.
MAX_NODES = 1_000_000
TEMPLATE_SECONDS = 4.0


@dataclass(frozen=True)
class EnvironmentResult:
    env: str
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    rendered: tuple[str, ...]
    cached: tuple[str, ...]

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.changed or self.removed)


@gc_paused()
def render_environment(
    project: Project,
    env: Environment,
    *,
    only_app: str | None = None,
    cache: RenderCache | None = None,
    images: Mapping[str, str] | None = None,
    helm: Helm | None = None,
    remote_git: RemoteGit | None = None,
    specs: ParsedSpecs | None = None,
    records: dict[str, OutputRecord] | None = None,
) -> tuple[Tree, EnvironmentResult]:
    """Render ``env`` and compare with what is on disk; write nothing.

    With ``only_app``, every app is still rendered in memory (from the cache where it is
    fresh) because identities and configuration checksums span apps, but only that app's
    files are taken; the others keep what is on disk. ``images`` maps declared image names
    to their built references, for app specs and templates that refer to them; ``helm``
    renders chart apps; ``remote_git`` fetches the remote bases the project allows (without
    it they are refused); ``specs`` keeps the app specs parsed for one environment for the
    next ones of the same render; ``records`` keeps what the environment's output was found
    to hold, for ``write_environment``.
    """
    # Before rendering: an output that leads out of the project is refused at no cost.
    refuse_links_between(project.root, project.output_dir / env.name)
    images = dict(images or {})
    apps = discover_apps(project, Inputs())
    check_unknown(project, env, [app.name for app in apps], Inputs())
    if only_app is not None and only_app not in {app.name for app in apps}:
        known = ", ".join(app.name for app in apps) or "none"
        raise InvalidInput(f"no app named {only_app!r}; the project's apps are: {known}")
    outputs: dict[str, AppOutput] = {}
    fresh: dict[str, Inputs] = {}
    # Inputs this render compared with the cache already: a fleet's template once.
    checked: dict[int, bool] = {}
    deadline = time.monotonic() + TEMPLATE_SECONDS
    bases = RenderBases(project.root, images)
    specs = specs if specs is not None else ParsedSpecs()
    with shared_limit(MAX_NODES):
        for app in apps:
            listed = _listed(project, app.name)
            output = (
                cache.lookup(env, app.name, images, listed, checked, remote_git=remote_git)
                if cache
                else None
            )
            if output is None:
                fresh[app.name] = Inputs()
                output = render_app_output(
                    app,
                    env,
                    project,
                    fresh[app.name],
                    images,
                    deadline=deadline,
                    helm=helm,
                    bases=bases,
                    remote_git=remote_git,
                    specs=specs,
                )
                # The collector is paused for the cached apps' thousands of objects; what a
                # template engine's render left in cycles is freed here (see gcpause).
                collect_young()
            outputs[app.name] = output
    check_unique({name: output.ids for name, output in outputs.items()})
    by_name = {app.name: app for app in apps}
    _check_dependencies(project, env, by_name, outputs)
    digests = {ref: d for output in outputs.values() for ref, d in output.digests.items()}
    outputs = {name: _with_checksums(output, digests) for name, output in outputs.items()}
    if cache is not None:
        for name, inputs in fresh.items():
            cache.store(env, name, images, inputs, outputs[name], depends_on=_listed(project, name))
        cache.save(env, by_name)
    files = {name: output.files for name, output in outputs.items()}
    current, record = current_output(project.output_dir / env.name, project.root, files)
    desired = files if only_app is None else {**current, only_app: files[only_app]}
    rendered = [name for name in fresh if only_app in (None, name)]
    cached = [name for name in outputs if name not in fresh and only_app in (None, name)]
    if records is not None:
        records[env.name] = record
    return desired, _compare(env.name, current, desired, rendered, cached)


def app_files(
    project: Project,
    env: Environment,
    path: Path,
    *,
    cache: RenderCache | None = None,
    images: Mapping[str, str] | None = None,
    helm: Helm | None = None,
    remote_git: RemoteGit | None = None,
) -> dict[str, str]:
    """The files ``hakobu render`` would write for the app at ``path`` (name → content)."""
    wanted = path.resolve()
    for app in discover_apps(project, Inputs()):
        # A fleet's instance is found by its file: the fleet's directory holds them all.
        if (app.instance or app.path).resolve() == wanted:
            desired, _ = render_environment(
                project,
                env,
                only_app=app.name,
                cache=cache,
                images=images,
                helm=helm,
                remote_git=remote_git,
            )
            return desired[app.name]
    raise InvalidInput(
        f"{path} is neither a kustomization nor an app of project {project.name!r}",
        hint=f"apps are the entries of {project.apps_dir}; build one instance from its file "
        "(e.g. apps/<fleet>/instances/<instance>.yaml)",
    )


def render_app_output(
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
) -> AppOutput:
    rendered = render_app(
        app,
        env,
        project,
        inputs,
        images,
        deadline=deadline,
        helm=helm,
        bases=bases,
        remote_git=remote_git,
        specs=specs,
    )
    depends_on = tuple(sorted(rendered.declared.names)) if rendered.declared is not None else ()
    objects = rendered.objects + environment_secrets(project, env, app.name, inputs)
    # Sync reads only the committed objects, so they carry what the app waits for.
    objects = annotated(objects, depends_on)
    check_objects(app.name, objects)
    check_canaries(app.name, objects, source=_shown_path(app.path, project.root))
    objects = default_namespace(objects, env.namespace)
    check_sealed_namespaces(app.name, env, objects)
    check_no_plaintext_secrets(env, {app.name: objects})
    ids = tuple(object_id(obj) for obj in objects)
    check_unique({app.name: ids})
    files: dict[str, str] = {}
    digests: dict[str, str] = {}
    consumers: dict[str, Consumer] = {}
    for name, obj in zip(file_names(objects), objects, strict=True):
        files[name] = dump_object(obj)
        config = config_digest(obj)
        if config is not None:
            digests[config[0]] = config[1]
        refs = references(obj)
        if refs:
            consumers[name] = Consumer(obj, refs, None)
    return AppOutput(dict(sorted(files.items())), ids, digests, consumers, depends_on)


def _listed(project: Project, app: str) -> tuple[str, ...]:
    declared = project.depends_on.get(app)
    return declared.names if declared is not None else ()


def _check_dependencies(
    project: Project, env: Environment, apps: Mapping[str, App], outputs: Mapping[str, AppOutput]
) -> None:
    """Dependencies name apps of the environment and make no cycle; the project file lists
    only apps that exist."""
    for name, listed in project.depends_on.items():
        if name not in apps:
            raise SourceError(
                project.file,
                f"no app named {name!r} in {project.apps_dir.name}/",
                line=listed.lines[0] if listed.lines else None,
                field=("dependsOn", name),
                hint=f"the apps are: {', '.join(sorted(apps)) or 'none'}",
            )

    def declared(name: str) -> Declared:
        found = declared_dependencies(apps[name], project, Inputs())
        if found is None:
            raise InvalidInput(
                f"app {name!r}: its dependencies changed while it was rendered",
                hint="render again",
            )
        return found

    check_graph(
        {name: output.depends_on for name, output in outputs.items()},
        declared,
        where=f"environment {env.name!r}",
    )


def _with_checksums(output: AppOutput, digests: dict[str, str]) -> AppOutput:
    files = dict(output.files)
    consumers = {}
    for name, consumer in output.consumers.items():
        value = checksum(consumer.refs, digests)
        if value != consumer.checksum:
            # Only a workload whose checksum moved is written out again.
            obj = with_checksum(consumer.object, value) if value else consumer.object
            files[name] = dump_object(obj)
        consumers[name] = Consumer(consumer.object, consumer.refs, value)
    return replace(output, files=files, consumers=consumers)


def finish_interrupted(project: Project, env: Environment) -> None:
    """Put in place, or remove, what a render killed while writing ``env`` left behind."""
    env_dir = project.output_dir / env.name
    # Recovering moves and removes directories: never through a link out of the project.
    refuse_links_between(project.root, env_dir)
    recover(env_dir)


def write_environment(
    project: Project,
    env: Environment,
    desired: Tree,
    result: EnvironmentResult,
    record: OutputRecord | None = None,
) -> None:
    """Make ``<output>/<env>/`` hold exactly ``desired``, writing only the apps that change,
    each in one step a reader cannot see (``output``).

    It runs only after the whole environment rendered and passed its checks, so bad input
    never writes anything. ``record``: what the render found the output to hold
    (``render_environment``'s ``records``), so it is not read again.
    """
    touched = {path.split("/", 1)[0] for path in (*result.added, *result.changed, *result.removed)}
    changed = {app: desired[app] for app in touched if app in desired}
    removed = touched - set(desired)
    env_dir = project.output_dir / env.name
    update_environment(env_dir, changed, removed)
    if record is None:
        record = OutputRecord.load(env_dir, project.root)
    remember_written(record, env_dir, changed, removed)


def _compare(
    env: str, current: Tree, desired: Tree, rendered: list[str], cached: list[str]
) -> EnvironmentResult:
    def flat(tree: Tree) -> dict[str, str]:
        return {
            f"{app}/{name}": text for app, files in tree.items() for name, text in files.items()
        }

    before, after = flat(current), flat(desired)
    return EnvironmentResult(
        env=env,
        added=tuple(sorted(set(after) - set(before))),
        changed=tuple(sorted(p for p in set(after) & set(before) if after[p] != before[p])),
        removed=tuple(sorted(set(before) - set(after))),
        rendered=tuple(rendered),
        cached=tuple(cached),
    )


def _shown_path(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
