"""A render of the project, and with ``--commit`` the output and its inputs in one commit.

``render_project`` is the whole of ``hakobu render``: every chosen environment is rendered
before anything is written, so one broken environment leaves all of them untouched; with
``check`` nothing is written and the results say what is stale.

A commit that holds output rendered from inputs it does not hold is a commit where
``render --check`` fails in CI, where ``rollback --inputs`` would restore inputs from the
wrong commit and where ``history`` credits a change to the wrong commit. So the render's
commit takes, with the output, every input of what was rendered that differs from HEAD —
``hakobu.yaml``, the rendered apps' sources, the platform bases and the files that count
for image tags — and every commit it makes passes ``render --check``.

When only part of the project was rendered (``--env``, ``--app``) and a changed input also
shapes a part that was not (any environment's output depends on ``hakobu.yaml`` and on
image tags; an app's source shapes that app in every environment), committing the input
would leave that part stale: the commit is refused, naming the inputs, instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hakobu.errors import InvalidInput
from hakobu.images.project import open_project, references
from hakobu.model.bases import BASES_DIR
from hakobu.model.fleet import FLEET_FILE, TEMPLATE_DIR
from hakobu.model.gcpause import gc_paused
from hakobu.model.project import Environment, Project
from hakobu.model.tierrollout import TIERS_DIR
from hakobu.releases.sourcepin import with_source_tree
from hakobu.render.apps import discover_apps
from hakobu.render.cache import RenderCache
from hakobu.render.environment import (
    EnvironmentResult,
    finish_interrupted,
    render_environment,
    write_environment,
)
from hakobu.render.helm import Helm
from hakobu.render.inputs import Inputs
from hakobu.render.outputrecord import OutputRecord
from hakobu.render.parsedspecs import ParsedSpecs
from hakobu.render.remotepins import RemoteGit
from hakobu.repo.commit import commit_paths, open_repository
from hakobu.repo.remotetree import RemoteRepositories
from hakobu.repo.revisions import (
    LocalChanges,
    changed_locally,
    on_disk,
    repo_path,
)
from hakobu.repo.workchanges import ChangedPaths


@dataclass(frozen=True)
class RenderRequest:
    envs: Sequence[str] = ()  # none: every environment
    only_app: str | None = None
    check: bool = False  # write nothing; report what is stale
    commit: bool = False  # commit the output with the changed inputs it came from
    use_cache: bool = True


@dataclass(frozen=True)
class Rendered:
    results: list[EnvironmentResult]
    commit: str | None  # the commit made, None when none was asked for or needed

    @property
    def stale(self) -> bool:
        return any(result.has_changes for result in self.results)


# An environment's cached apps are thousands of acyclic objects, held to the end (gcpause).
@gc_paused()
def render_project(
    project: Project,
    request: RenderRequest,
    *,
    before_write: Callable[[Sequence[EnvironmentResult]], None] = lambda _: None,
    helm: Helm | None = None,
    remote_git: RemoteGit | None = None,
) -> Rendered:
    """Render, write (unless ``check``) and commit (with ``commit``) as ``request`` says.

    ``before_write`` sees the results once everything is rendered and nothing written yet,
    so a report that cannot be produced fails while the files are still as they were.
    ``helm`` renders chart apps; remote bases the project allows are fetched through
    ``remote_git`` (by default from the network into the user cache, each URL's refs listed
    once for the whole render).
    """
    project = with_source_tree(project)
    envs = (
        [project.environment(name) for name in request.envs]
        if request.envs
        else project.environments
    )
    pinned = project.source.revision if project.source else ""
    cache = RenderCache(project.root, source=pinned) if request.use_cache else None
    remote_git = remote_git or RemoteRepositories()
    images = references(project.root)
    if not request.check:
        for env in envs:
            finish_interrupted(project, env)
    committing = request.commit and not request.check
    # Each app spec is parsed once, for every environment.
    specs = ParsedSpecs()
    records: dict[str, OutputRecord] = {}
    # The work tree's changes, asked once, and only about what the commit may take: git
    # finds them while the render runs, before anything is written.
    with _local_changes(project, envs if committing else []) as asked:
        planned = [
            (
                env,
                *render_environment(
                    project,
                    env,
                    only_app=request.only_app,
                    cache=cache,
                    images=images,
                    helm=helm,
                    remote_git=remote_git,
                    specs=specs,
                    records=records,
                ),
            )
            for env in envs
        ]
        local = asked.result()
    results = [result for _, _, result in planned]
    before_write(results)
    inputs: tuple[str, ...] = ()
    if committing:
        inputs = changed_inputs(
            project, only_app=request.only_app, every_environment=not request.envs, local=local
        )
    for env, desired, result in planned:
        if not request.check and result.has_changes:
            write_environment(project, env, desired, result, records.get(env.name))
    commit = commit_render(project, results, inputs, local) if committing else None
    return Rendered(results, commit)


def changed_inputs(
    project: Project, *, only_app: str | None, every_environment: bool, local: LocalChanges
) -> tuple[str, ...]:
    """The changed inputs a render commit would take; refused when it would leave output stale.

    Asked before anything is written, so a refused commit leaves the output as it was;
    ``local`` is the work tree's changes (``_local_changes``).
    """
    repo = open_repository(project.root)
    apps = repo_path(repo, project.apps_dir)
    # Platform bases shape the apps on them in every environment.
    shared = [
        repo_path(repo, project.file),
        repo_path(repo, project.root / BASES_DIR),
        *open_project(project.root).inputs(),
    ]
    instance = _fleet_instance(project, only_app) if only_app is not None else None
    if only_app is None:
        own = [apps]
    elif instance is not None:
        # An instance's own input is its file; its fleet's file and templates (the later
        # tiers' copies too) shape every instance, so they are shared.
        # The instance's own directory: in a system repository the fleet's file and
        # templates are read from the pinned application repository, which is not committed.
        _, file = instance
        fleet_dir = file.parent.parent
        own = [repo_path(repo, file)]
        shared += [
            repo_path(repo, fleet_dir / FLEET_FILE),
            repo_path(repo, fleet_dir / TEMPLATE_DIR),
            repo_path(repo, fleet_dir / TIERS_DIR),
        ]
    else:
        own = [f"{apps}/{only_app}{suffix}" for suffix in (".yaml", ".yml", "")]
    changed_shared = changed_locally(repo, shared, local)
    changed_own = changed_locally(repo, own, local)
    stale_elsewhere = (changed_shared if only_app or not every_environment else []) + (
        changed_own if not every_environment else []
    )
    if stale_elsewhere:
        raise InvalidInput(
            f"cannot commit a partial render: {', '.join(stale_elsewhere)} "
            f"{'has' if len(stale_elsewhere) == 1 else 'have'} uncommitted changes that also "
            "shape output this render would not write",
            hint=f"render every environment{'' if only_app is None else ' and app'} with "
            "--commit, or commit those changes first",
        )
    return tuple(sorted({*changed_shared, *changed_own}))


def _local_changes(project: Project, envs: Sequence[Environment]) -> ChangedPaths:
    """What differs from HEAD among the paths a render commit of ``envs`` may take (none
    for no environment: nothing is committed): their output, the apps, ``hakobu.yaml``,
    the platform bases and the image inputs."""
    if not envs:
        return ChangedPaths(None, ())
    repo = open_repository(project.root)
    within = [
        repo_path(repo, project.file),
        repo_path(repo, project.root / BASES_DIR),
        *open_project(project.root).inputs(),
        repo_path(repo, project.apps_dir),
        *(repo_path(repo, project.output_dir / env.name) for env in envs),
    ]
    return ChangedPaths(repo, within)


def _fleet_instance(project: Project, app: str) -> tuple[Path, Path] | None:
    """The fleet directory and instance file of ``app``, when it is a fleet's instance."""
    for found in discover_apps(project, Inputs()):
        if found.name == app and found.instance is not None:
            return found.path, found.instance
    return None


def commit_render(
    project: Project,
    results: Sequence[EnvironmentResult],
    inputs: Sequence[str],
    local: LocalChanges,
) -> str | None:
    """Commit what ``results`` wrote with ``inputs`` (from ``changed_inputs``).

    Only files that may differ from HEAD are staged, not every file of the environments, so
    a one-instance change in a fleet of thousands costs that instance's files: what this
    render changed, and what already differed before it (``local``, the work tree's changes
    before the write: output an earlier plain render wrote is committed too).
    """
    repo = open_repository(project.root)
    envs = [repo_path(repo, project.output_dir / r.env) for r in results]
    written = [
        f"{env}/{path}"
        for env, result in zip(envs, results, strict=True)
        for path in (*result.added, *result.changed, *result.removed)
    ]
    output = sorted({*changed_locally(repo, envs, local), *written})
    return commit_paths(
        repo,
        [on_disk(repo, path) for path in [*output, *inputs]],
        commit_message(results, inputs),
    )


def commit_message(results: Sequence[EnvironmentResult], inputs: Sequence[str]) -> str:
    changed = [r for r in results if r.has_changes]
    summary = ", ".join(
        f"{r.env} +{len(r.added)} ~{len(r.changed)} -{len(r.removed)}" for r in changed
    )
    lines = [f"render: {summary or 'inputs only'}", ""]
    for result in changed:
        lines.append(f"{result.env}:")
        lines += [f"  added    {path}" for path in result.added]
        lines += [f"  changed  {path}" for path in result.changed]
        lines += [f"  removed  {path}" for path in result.removed]
    if inputs:
        lines.append("with the inputs it was rendered from:")
        lines += [f"  {path}" for path in inputs]
    return "\n".join(lines) + "\n"
