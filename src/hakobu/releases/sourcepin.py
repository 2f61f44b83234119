"""Fetch the application repository a system repository pins (``hakobu.model.sourcepin``).

The pinned commit's tree is written once into the user's cache and reused by every later
render (``hakobu.repo.remotetree``); a render reads the fleets' files and templates there.
A repository that cannot be reached and a commit it does not hold are errors on the line of
``hakobu.yaml`` that names them, raised before anything is rendered or written.

``plan_pin`` moves the pin: it resolves a branch, tag or commit id of the application
repository, fetches it (so a revision that does not exist is refused) and rewrites the
commit id on the one ``revision:`` line, leaving every other byte of ``hakobu.yaml``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from hakobu.errors import InvalidInput
from hakobu.model.project import Project
from hakobu.model.source import SourceError
from hakobu.model.sourcepin import SourcePin, repository_url
from hakobu.repo.remotetree import (
    MAX_FETCH_SECONDS,
    CommitNotFetched,
    RepositoryUnreachable,
    fetch_tree,
)


def with_source_tree(project: Project) -> Project:
    """``project`` with the tree of the application repository it pins, fetched if needed;
    ``project`` itself when it pins none."""
    if project.source is None or project.source_tree is not None:
        return project
    return dataclasses.replace(project, source_tree=source_tree(project, project.source))


def source_tree(project: Project, pin: SourcePin) -> Path:
    """The tree of the commit ``pin`` names, fetched into the user cache unless there."""
    try:
        tree = fetch_tree(
            repository_url(pin, project.root), pin.revision, timeout=MAX_FETCH_SECONDS
        )
    except RepositoryUnreachable as e:
        raise _unreachable(pin, e) from None
    except (CommitNotFetched, InvalidInput) as e:
        raise pin.error(
            "revision",
            f"the application repository {pin.repository!r} has no commit "
            f"{pin.revision}: {e.message}",
            hint="pin a commit the repository holds: `hakobu source pin --to REV`",
        ) from None
    return tree.path


@dataclass(frozen=True)
class PinMove:
    before: str
    after: str
    # hakobu.yaml with only the revision changed, to be written; None: the pin stays.
    text: str | None


def plan_pin(project: Project, to: str) -> PinMove:
    """Move the pin to ``to`` (a branch, tag or full commit id of the application
    repository), which is fetched first: a revision it cannot fetch is refused."""
    pin = project.source
    if pin is None:
        raise SourceError(
            project.file,
            "the project pins no application repository",
            hint="add source: {repository: URL-or-path, revision: COMMIT} to hakobu.yaml",
        )
    url = repository_url(pin, project.root)
    try:
        commit = fetch_tree(url, to, timeout=MAX_FETCH_SECONDS).commit
    except RepositoryUnreachable as e:
        raise _unreachable(pin, e) from None
    except (CommitNotFetched, InvalidInput) as e:
        raise InvalidInput(
            f"the application repository {pin.repository!r} has no branch, tag or commit "
            f"{to!r}: {e.message}",
            hint="name an existing branch or tag, or a full 40-digit commit id",
        ) from None
    if commit == pin.revision:
        return PinMove(pin.revision, commit, None)
    text = project.file.read_text()
    lines = text.splitlines(keepends=True)
    index = (pin.revision_line or 0) - 1
    if not 0 <= index < len(lines) or lines[index].count(pin.revision) != 1:
        raise pin.error(
            "revision",
            "the commit id is not written on one line of its own",
            hint="write it as `revision: <commit id>` on its own line",
        )
    lines[index] = lines[index].replace(pin.revision, commit)
    return PinMove(pin.revision, commit, "".join(lines))


def _unreachable(pin: SourcePin, e: RepositoryUnreachable) -> SourceError:
    return pin.error(
        "repository",
        f"cannot reach the application repository {pin.repository!r}: {e.message}",
        hint="check the URL or path, and that this machine may read the repository",
    )
