"""Fetch the application repository a system repository pins (``hakobu.model.sourcepin``).

The pinned commit's tree is written once into the user's cache and reused by every later
render (``hakobu.repo.remotetree``); a render reads the fleets' files and templates there.
A repository that cannot be reached and a commit it does not hold are errors on the line of
``hakobu.yaml`` that names them, raised before anything is rendered or written.
"""

from __future__ import annotations

import dataclasses

from hakobu.errors import InvalidInput
from hakobu.model.project import Project
from hakobu.model.sourcepin import repository_url
from hakobu.repo.remotetree import MAX_FETCH_SECONDS, NotFetched, Unreachable, fetch_tree


def with_source_tree(project: Project) -> Project:
    """``project`` with the tree of the application repository it pins, fetched if needed;
    ``project`` itself when it pins none."""
    pin = project.source
    if pin is None:
        return project
    try:
        tree = fetch_tree(
            repository_url(pin, project.root), pin.revision, timeout=MAX_FETCH_SECONDS
        )
    except Unreachable as e:
        raise pin.error(
            "repository",
            f"cannot reach the application repository {pin.repository!r}: {e}",
            hint="check the URL or path, and that this machine may read the repository",
        ) from None
    except (NotFetched, InvalidInput) as e:
        raise pin.error(
            "revision",
            f"the application repository {pin.repository!r} has no commit {pin.revision}: {e}",
            hint="pin a commit the repository holds: `hakobu source pin --to REV`",
        ) from None
    return dataclasses.replace(project, source_tree=tree.path)
