"""A project's images and their tags: now (with the work tree) and at a commit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygit2

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.images.snapshot import Snapshot
from hakobu.images.tags import TagSet, compute_tags
from hakobu.model.images import ImageSpec, load_images
from hakobu.repo.commit import open_repository


@dataclass(frozen=True)
class ProjectImages:
    root: Path
    specs: tuple[ImageSpec, ...]
    repo: pygit2.Repository
    # The project root relative to the repository root ("" when they are the same).
    prefix: str

    def spec(self, name: str) -> ImageSpec:
        for spec in self.specs:
            if spec.name == name:
                return spec
        known = ", ".join(s.name for s in self.specs) or "none"
        raise InvalidInput(
            f"no image named {name!r} in {self.root / 'hakobu.yaml'}",
            hint=f"the project declares: {known}",
        )

    def inputs(self) -> tuple[str, ...]:
        """Every repository path whose content counts for some image's tag."""
        paths: list[str] = []
        for spec in self.specs:
            for path in (spec.context, spec.dockerfile, f"{spec.dockerfile}.dockerignore"):
                paths.append(self._repo_path(path))
            paths.extend(self._repo_path(path) for path in spec.inputs)
        return tuple(sorted(set(paths)))

    def _repo_path(self, path: str) -> str:
        if not self.prefix:
            return path
        return self.prefix if path == "." else f"{self.prefix}/{path}"


def open_project(project_root: Path) -> ProjectImages:
    specs = load_images(project_root)
    repo = open_repository(project_root)
    if repo.workdir is None:
        raise InvalidInput(f"{project_root} is in a bare git repository; images need a checkout")
    workdir = Path(repo.workdir).resolve()
    try:
        prefix = project_root.resolve().relative_to(workdir).as_posix()
    except ValueError:
        raise InvalidInput(f"{project_root} is not inside {workdir}") from None
    return ProjectImages(project_root, specs, repo, "" if prefix == "." else prefix)


def current_tags(project: ProjectImages, *, require_clean: bool = False) -> TagSet:
    """Tags of what a build would see now: HEAD plus uncommitted changes to the inputs."""
    snapshot = Snapshot.work_tree(project.repo, project.inputs())
    if require_clean and snapshot.changes:
        listed = "\n  ".join(c.path for c in snapshot.changes[:20])
        more = f"\n  … and {len(snapshot.changes) - 20} more" if len(snapshot.changes) > 20 else ""
        raise OperationFailed(
            f"uncommitted changes in image inputs:\n  {listed}{more}",
            hint="commit or stash them; tags of uncommitted content end in -dirty",
        )
    return compute_tags(snapshot, project.specs, project.prefix)


def tags_at(project: ProjectImages, revision: str) -> TagSet | None:
    """Tags at a commit, None when there is no such commit; images that did not exist
    then are in ``failures``."""
    snapshot = Snapshot.at(project.repo, revision)
    if snapshot is None:
        return None
    try:
        return compute_tags(snapshot, project.specs, project.prefix, tolerant=True)
    except InvalidInput as e:
        # A FROM cycle then, fixed since: no image had a tag at that commit.
        return TagSet({}, (), {spec.name: e.message for spec in project.specs})


def references(project_root: Path, revision: str | None = None) -> dict[str, str]:
    """``name → registry/name:tag`` of every declared image, for a render: as the work
    tree holds them now, or at ``revision``. Empty when the project declares no images."""
    if not load_images(project_root):
        return {}
    project = open_project(project_root)
    tags = current_tags(project) if revision is None else tags_at(project, revision)
    if tags is None:
        raise InvalidInput(f"unknown revision {revision!r}")
    return {name: tag.reference for name, tag in tags.tags.items()}


def image_reference(project_root: Path, name: str) -> str:
    """``registry/name:tag`` of the image ``name`` as the work tree holds it now."""
    project = open_project(project_root)
    project.spec(name)
    return current_tags(project).tags[name].reference
