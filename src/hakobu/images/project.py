"""A project's images and their tags: now (with the work tree) and at a commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.images.cache import TagCache, cache_directory
from hakobu.images.tags import TagSet, compute_tags
from hakobu.model import files
from hakobu.model.images import PROJECT_FILE, ImageSpec, load_images
from hakobu.model.source import SourceError
from hakobu.repo.commit import open_repository
from hakobu.repo.repository import Repository, blob_id, work_tree
from hakobu.repo.snapshot import Snapshot, Trees


@dataclass(frozen=True)
class ProjectImages:
    root: Path
    specs: tuple[ImageSpec, ...]
    repo: Repository
    # The project root relative to the repository root ("" when they are the same).
    prefix: str
    cache: TagCache = field(default_factory=TagCache, compare=False, repr=False)
    # Directory listings read so far, shared by the snapshots of every revision.
    trees: Trees = field(default_factory=dict, compare=False, repr=False)

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
    cache = TagCache(cache_directory(project_root))
    return _open(project_root, _load_specs(project_root, cache), cache)


def _load_specs(project_root: Path, cache: TagCache) -> tuple[ImageSpec, ...]:
    file = project_root / PROJECT_FILE
    try:
        data = files.read_bytes(file)
    except FileNotFoundError:
        raise SourceError(file, "file does not exist") from None
    text = files.decode(file, data)
    return cache.specs(blob_id(data), file, lambda: load_images(project_root, text))


def _open(project_root: Path, specs: tuple[ImageSpec, ...], cache: TagCache) -> ProjectImages:
    repo = open_repository(project_root)
    workdir = work_tree(repo)
    if workdir is None:
        raise InvalidInput(f"{project_root} is in a bare git repository; images need a checkout")
    try:
        prefix = project_root.resolve().relative_to(workdir).as_posix()
    except ValueError:
        raise InvalidInput(f"{project_root} is not inside {workdir}") from None
    return ProjectImages(project_root, specs, repo, "" if prefix == "." else prefix, cache)


def current_tags(project: ProjectImages, *, require_clean: bool = False) -> TagSet:
    """Tags of what a build would see now: HEAD plus uncommitted changes to the inputs."""
    snapshot = Snapshot.work_tree(project.repo, project.inputs(), trees=project.trees)
    if require_clean and snapshot.changes:
        listed = "\n  ".join(c.path for c in snapshot.changes[:20])
        more = f"\n  … and {len(snapshot.changes) - 20} more" if len(snapshot.changes) > 20 else ""
        raise OperationFailed(
            f"uncommitted changes in image inputs:\n  {listed}{more}",
            hint="commit or stash them; tags of uncommitted content end in -dirty",
        )
    tags = compute_tags(snapshot, project.specs, project.prefix, cache=project.cache)
    project.cache.save()
    return tags


def tags_at(project: ProjectImages, revision: str) -> TagSet | None:
    """Tags at a commit, None when there is no such commit; images that did not exist
    then are in ``failures``."""
    snapshot = Snapshot.at(project.repo, revision, trees=project.trees)
    if snapshot is None:
        return None
    try:
        tags = compute_tags(
            snapshot, project.specs, project.prefix, tolerant=True, cache=project.cache
        )
    except InvalidInput as e:
        # A FROM cycle then, fixed since: no image had a tag at that commit.
        return TagSet({}, (), {spec.name: e.message for spec in project.specs})
    project.cache.save()
    return tags


def references(project_root: Path, revision: str | None = None) -> dict[str, str]:
    """``name → registry/name:tag`` of every declared image, for a render: as the work
    tree holds them now, or at ``revision``. Empty when the project declares no images."""
    cache = TagCache(cache_directory(project_root))
    specs = _load_specs(project_root, cache)
    if not specs:
        return {}
    project = _open(project_root, specs, cache)
    tags = current_tags(project) if revision is None else tags_at(project, revision)
    if tags is None:
        raise InvalidInput(f"unknown revision {revision!r}")
    return {name: tag.reference for name, tag in tags.tags.items()}


def image_reference(project_root: Path, name: str) -> str:
    """``registry/name:tag`` of the image ``name`` as the work tree holds it now."""
    project = open_project(project_root)
    project.spec(name)
    return current_tags(project).tags[name].reference
