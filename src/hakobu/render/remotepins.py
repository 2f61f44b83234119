"""The commits an app's remote kustomize bases resolved to, so a cached render of it is
reused only while every ref it fetched still names the same commit.

A fetched tree is kept by commit and never rewritten, so the digests of the files read from
it cannot tell that a tag or branch moved; the resolved commit can. A render resolves each
remote ref once (``RemoteGit`` lists a URL's refs once per render), records what it resolved
to in the app's ``Inputs`` (``pins``), and the cache compares the pins with what the refs
name now: a moved ref re-renders the apps that fetched it, and no other.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from hakobu.model.project import Project
from hakobu.model.remotetarget import RemoteTarget
from hakobu.render.inputs import Inputs, Pin
from hakobu.render.kustomize.remote import Remotes


class RemoteGit(Protocol):
    """How a render reaches remote repositories (``hakobu.repo.remotetree`` owns git)."""

    def commit(self, url: str, ref: str, *, timeout: float) -> str: ...

    def tree(self, url: str, commit: str, *, timeout: float) -> Path: ...


def app_remotes(project: Project, git: RemoteGit, inputs: Inputs) -> Remotes:
    """The project's policy, and a fetch that records each ref's commit in ``inputs``."""

    def fetch(target: RemoteTarget) -> Path:
        commit = git.commit(target.clone_url, target.ref, timeout=target.timeout)
        inputs.pins.add(Pin(target.clone_url, target.ref, target.timeout, commit))
        return git.tree(target.clone_url, commit, timeout=target.timeout)

    return Remotes(project.remote_resources, fetch)


def pins_hold(pins: Iterable[Pin], git: RemoteGit | None) -> bool:
    """True when every ref still names the commit it was rendered from."""
    pins = tuple(pins)
    if not pins:
        return True
    if git is None:
        # Nothing to resolve them with: the render that follows says why it cannot fetch.
        return False
    return all(git.commit(p.url, p.ref, timeout=p.timeout) == p.commit for p in pins)
