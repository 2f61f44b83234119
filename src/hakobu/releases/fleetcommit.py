"""Instances declared elsewhere (FleetInstance resources) written into a repository as
commits: fetch the branch, edit the instance files, render, commit, push — never forced.

A batch of changes becomes one commit. Each change is an edit ``hakobu fleet add``, ``set``
or ``remove`` would make (``releases.fleet``: the same checks, the same minimal,
comment-preserving text edits), so a key someone edited by hand in the same file is kept. A
change the fleet refuses (a tier it lacks, a value its template does not accept, a name that
cannot name an instance, an instance someone else declared) is left out and reported; the
others are committed. The commit holds the rendered output with its inputs, as ``hakobu
render --commit`` makes it, since a Delivery deploys the committed output.

A file the controller writes starts with a comment naming the resource it was written for,
the values that resource sets and the switches (``suspend``, ``maintenance``) it sets, if
any::

    # FleetInstance shops/berlin writes this file (values: host; switches: suspend); …
    tier: canary
    values:
      host: berlin.example.com
    suspend: true

so an instance a person added by hand, or another resource declared, is never taken over,
and a value or switch the resource stops declaring is removed while one set by hand stays.

When the push is refused (the branch moved: a person's commit, another writer), the branch
is fetched again and the edits are made afresh on its new tip, with a growing pause between
tries: nothing anyone pushed is lost, and no change of the batch is either.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hakobu.errors import HakobuError, InvalidInput, OperationFailed
from hakobu.model.fleet import INSTANCE_SUFFIXES, INSTANCES_DIR, Fleet, instance_name
from hakobu.model.project import Project, load_project
from hakobu.releases.fleet import (
    InstanceEdit,
    apply_edit,
    fleet_of,
    plan_add,
    plan_remove,
    plan_set,
    switched,
)
from hakobu.releases.rendercommit import Rendered, RenderRequest, render_project
from hakobu.repo.clone import (
    Credentials,
    discard_changes,
    ensure_identity,
    fetch_branch,
    open_clone,
    push_branch,
)
from hakobu.repo.commit import commit_paths, open_repository
from hakobu.repo.history import contains
from hakobu.repo.repository import Repository, releasing
from hakobu.repo.revisions import lookup

_NAME, _EMAIL = "hakobu controller", "hakobu-controller@localhost"
_MARK = re.compile(
    r"# FleetInstance (?P<owner>\S+) writes this file "
    r"\(values: (?P<keys>[^;)]*)(?:; switches: (?P<switches>[^)]*))?\)"
)


@dataclass(frozen=True)
class Put:
    """The instance as the resource ``owner`` (``namespace/name``) declares it."""

    owner: str
    fleet: str
    instance: str
    tier: str
    values: dict[str, Any]
    # The switches the resource sets (on or off); one it leaves out is not its own.
    switches: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Remove:
    """The instance ``owner`` declared is gone: its file goes, if ``owner`` wrote it."""

    owner: str
    fleet: str
    instance: str


Change = Put | Remove


@dataclass(frozen=True)
class Edited:
    change: Change
    file: Path


@dataclass(frozen=True)
class Written:
    # The commit pushed, or the branch's tip when nothing needed committing.
    commit: str
    # Whether ``commit`` was made by this write.
    made: bool
    # Each change left out, by its owner: why (nothing of it was written).
    refused: dict[str, str] = field(default_factory=dict)
    # Pushes refused before one was taken.
    retries: int = 0


def mark(owner: str, values: Sequence[str], switches: Sequence[str] = ()) -> str:
    owned = f"values: {', '.join(sorted(values))}"
    if switches:
        owned += f"; switches: {', '.join(sorted(switches))}"
    return f"# FleetInstance {owner} writes this file ({owned}); edits of other keys are kept"


class FleetWriter:
    """Writes changes to one branch of one repository, from a clone of its own in
    ``directory`` (its work tree is the writer's, so resetting it loses nothing)."""

    def __init__(self, url: str, branch: str, path: str, directory: Path) -> None:
        self.url, self.branch, self.path, self.directory = url, branch, path, directory
        self._lock = threading.Lock()

    def write(
        self,
        changes: Sequence[Change],
        *,
        credentials: Credentials | None = None,
        guard: Callable[[], None] = lambda: None,
        tries: int = 8,
        first_pause: float = 0.2,
    ) -> Written:
        """One commit of ``changes`` on the branch, pushed; ``guard`` is called before the
        push (it raises when this replica may no longer write). OperationFailed once
        ``tries`` pushes were refused."""
        with self._lock:
            for attempt in range(tries):
                written = self._attempt(changes, credentials, guard)
                if written is not None:
                    return Written(written.commit, written.made, written.refused, attempt)
                pause = min(first_pause * 2**attempt, 5.0)
                time.sleep(pause + random.uniform(0, pause))  # noqa: S311 - not a secret
        raise OperationFailed(
            f"branch {self.branch!r} of {self.url} kept moving: {tries} pushes were refused",
            hint="the changes are written on the next pass",
        )

    def includes(self, applied: str, commit: str, credentials: Credentials | None) -> bool:
        """Whether ``applied`` (a revision a Delivery applied) is ``commit`` or came after
        it; the branch is fetched when ``applied`` is not known here yet."""
        if applied == commit:
            return True
        with self._lock, releasing(open_clone(self.directory, self.url)) as repo:
            try:
                found = lookup(repo, applied)
            except LookupError:
                fetch_branch(repo, self.url, self.branch, credentials)
                try:
                    found = lookup(repo, applied)
                except LookupError:
                    return False
            try:
                return contains(repo, found, commit)
            except (KeyError, ValueError):
                return False

    def _attempt(
        self, changes: Sequence[Change], credentials: Credentials | None, guard: Callable[[], None]
    ) -> Written | None:
        """Written, or None when the push was refused."""
        with releasing(open_clone(self.directory, self.url)) as repo:
            tip = fetch_branch(repo, self.url, self.branch, credentials)
            ensure_identity(repo, _NAME, _EMAIL)
            refused: dict[str, str] = {}
            committed = False
            try:
                done = self._edit(changes, refused)
                if not done:
                    return Written(tip, False, refused)
                try:
                    rendered = _render(self._project())
                except InvalidInput:
                    if len(done) == 1:
                        raise
                    done = self._without_unrenderable(repo, done, refused)
                    rendered = _render(self._project())
                commit = _commit(self._project(), rendered, done)
                committed = commit is not None
            finally:
                # Whatever was not committed (a failed render, nothing to commit) goes.
                if not committed:
                    discard_changes(repo)
            if commit is None:
                return Written(tip, False, refused)
            guard()
            try:
                push_branch(repo, self.url, self.branch, commit, credentials)
            except OperationFailed:
                return None
            return Written(commit, True, refused)

    def _said(self, error: HakobuError) -> str:
        """``error`` naming files by their path in the repository, not in the clone."""
        return str(error).replace(f"{self.directory}/", "")

    def _project(self) -> Project:
        return load_project(self.directory / self.path)

    def _edit(self, changes: Sequence[Change], refused: dict[str, str]) -> list[Edited]:
        """Make each change's edit in the work tree; the changes edited with their files
        (a refused one is added to ``refused``, one with nothing to do is left out)."""
        project = self._project()
        done: list[Edited] = []
        for change in changes:
            try:
                edit = _plan(project, change)
            except HakobuError as e:
                refused[change.owner] = self._said(e)
                continue
            if edit is not None:
                apply_edit(edit)
                done.append(Edited(change, edit.file))
        return done

    def _without_unrenderable(
        self, repo: Repository, done: Sequence[Edited], refused: dict[str, str]
    ) -> list[Edited]:
        """The batch failed to render: each change rendered alone, those that fail alone
        refused with their render's error, and the others' edits made again."""
        for edited in done:
            discard_changes(repo)
            self._edit([edited.change], refused)
            try:
                _render(self._project())
            except InvalidInput as e:
                refused[edited.change.owner] = f"rendering it: {self._said(e)}"
        discard_changes(repo)
        return self._edit([e.change for e in done if e.change.owner not in refused], refused)


def _render(project: Project) -> Rendered:
    return render_project(project, RenderRequest())


def _commit(project: Project, rendered: Rendered, done: Sequence[Edited]) -> str | None:
    """Commit what the render changed with the instance files edited: the clone held the
    branch's tip before, so those are every input that differs from it and every output
    file the render wrote or removed (what ``render --commit`` would find, without
    reading the whole work tree again)."""
    outputs = [
        project.output_dir / result.env / path
        for result in rendered.results
        for path in (*result.added, *result.changed, *result.removed)
    ]
    return commit_paths(
        open_repository(project.root),
        [*outputs, *(edited.file for edited in done)],
        _message([edited.change for edited in done]),
    )


def _message(done: Sequence[Change]) -> str:
    puts = sum(isinstance(c, Put) for c in done)
    removes = len(done) - puts
    parts = [f"{n} {what}" for n, what in ((puts, "written"), (removes, "removed")) if n]
    lines = [f"fleet instances: {', '.join(parts)}", ""]
    for change in sorted(done, key=lambda c: (c.fleet, c.instance)):
        verb = "write " if isinstance(change, Put) else "remove"
        lines.append(f"  {verb} {change.fleet}/{change.instance} (FleetInstance {change.owner})")
    return "\n".join(lines) + "\n"


def _plan(project: Project, change: Change) -> InstanceEdit | None:
    """The edit ``change`` makes (None: nothing to do), or why the fleet refuses it."""
    # Checked before either name becomes part of a path.
    fleet = fleet_of(project, change.fleet)
    instance_name(change.fleet, Path(f"{change.instance}.yaml"))
    file = _instance_file(project, change.fleet, change.instance)
    text = file.read_text() if file is not None else None
    owned = _owned(text) if text is not None else None
    if isinstance(change, Remove):
        if file is None or owned is None or owned.owner != change.owner:
            return None  # gone already, or never this resource's
        return plan_remove(project, change.fleet, change.instance)
    first = mark(change.owner, list(change.values), list(change.switches))
    if file is None:
        edit = plan_add(project, change.fleet, change.instance, change.tier, change.values)
        added = _switches(fleet, edit.file, edit.text or "", change.switches)
        return InstanceEdit(edit.file, f"{first}\n{added}")
    if owned is None or owned.owner != change.owner:
        by = "by hand" if owned is None else f"for FleetInstance {owned.owner}"
        raise InvalidInput(
            f"fleet {change.fleet!r} has an instance {change.instance!r} already ({file}, "
            f"written {by})",
            hint="give this FleetInstance another spec.instance, or remove the other one",
        )
    edit = plan_set(
        project,
        change.fleet,
        change.instance,
        change.values,
        tier=change.tier,
        unset=[key for key in owned.values if key not in change.values],
    )
    # A switch the resource set before and no longer does goes back to off, its default.
    dropped = {s: False for s in owned.switches if s not in change.switches}
    _, _, rest = (edit.text or "").partition("\n")
    rest = _switches(fleet, edit.file, rest, {**dropped, **change.switches})
    edited = first + "\n" + rest
    return None if edited == text else InstanceEdit(edit.file, edited)


def _switches(fleet: Fleet, file: Path, text: str, switches: dict[str, bool]) -> str:
    for switch, on in sorted(switches.items()):
        text = switched(fleet, file, text, switch, on)
    return text


def _instance_file(project: Project, fleet: str, instance: str) -> Path | None:
    directory = project.apps_dir / fleet / INSTANCES_DIR
    for suffix in INSTANCE_SUFFIXES:
        if (directory / f"{instance}{suffix}").is_file():
            return directory / f"{instance}{suffix}"
    return None


@dataclass(frozen=True)
class _Owned:
    """What a file's first line says: the resource it was written for, and the values and
    switches that resource set."""

    owner: str
    values: tuple[str, ...]
    switches: tuple[str, ...]


def _owned(text: str) -> _Owned | None:
    """None: the file was not written for a resource (a person wrote it)."""
    found = _MARK.match(text.partition("\n")[0])
    if found is None:
        return None
    return _Owned(found["owner"], _names(found["keys"]), _names(found["switches"] or ""))


def _names(listed: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in listed.split(",") if k.strip())
