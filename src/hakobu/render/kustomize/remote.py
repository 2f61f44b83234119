"""Bases and components in remote git repositories, built when the project allows them.

The build never fetches by itself: whoever starts it passes ``Remotes``, the project's
``RemotePolicy`` and a function that fetches a target's tree (``hakobu.repo`` owns git) and
returns its directory. A fetched tree is read like a local one, and more strictly: every
file, links followed, must lie in that tree, whatever the load restrictor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hakobu.errors import InvalidInput
from hakobu.model.remotetarget import NotRemote, RemotePolicy, RemoteTarget, parse_remote

FetchTree = Callable[[RemoteTarget], Path]


@dataclass(frozen=True)
class Remotes:
    policy: RemotePolicy
    fetch: FetchTree


@dataclass(frozen=True)
class RemoteRoot:
    """Where a remote entry's kustomization is, and the fetched tree it must stay in."""

    tree: Path
    root: Path


def locate(remotes: Remotes, entry: str) -> RemoteRoot:
    """Parse ``entry``, check it against the policy, fetch it, and find its directory."""
    try:
        target = parse_remote(entry)
    except NotRemote as e:
        raise InvalidInput(
            f"remote resource '{entry}' is not a git URL kustomize can clone: {e}",
            hint="write it as https://host/org/repo//dir?ref=v1.2.3",
        ) from None
    refusal = remotes.policy.refusal(target)
    if refusal is not None:
        raise InvalidInput(refusal[0], hint=refusal[1])
    tree = remotes.fetch(target).resolve()
    root = (tree / target.path.lstrip("/")).resolve()
    if not root.is_relative_to(tree):
        raise InvalidInput(
            f"security: the directory of '{entry}' resolves to {root}, outside the fetched "
            "repository",
            hint="point the remote resource at a directory of the repository itself",
        )
    if not root.is_dir():
        raise InvalidInput(
            f"'{target.path}' is not a directory in {target.clone_url} at {target.ref!r}",
            hint="name a directory of the repository that holds a kustomization",
        )
    return RemoteRoot(tree, root)
