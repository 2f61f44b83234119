"""Remote kustomize targets: a git repository, a ref and a directory in it, as kustomize
writes them in ``resources:`` and ``components:``, and which of them a project allows.

``parse_remote`` reads an entry exactly as kustomize's ``NewRepoSpecFromURL`` does
(``https://host/org/repo//sub/dir?ref=v1.2.3``, ``git@host:org/repo.git/dir``,
``ssh://git@host/org/repo``, ``file:///abs/repo//dir``, ``_git/`` paths, ``?ref=`` or
``?version=``, ``?timeout=``, ``?submodules=``), so an entry names the same repository and
directory for hakobu as for ``kustomize build``.

A project opts in with ``kustomize: {remoteResources: {allow: [patterns]}}`` in hakobu.yaml;
``RemotePolicy.refusal`` says why an entry may not be fetched: it names no ``ref`` (what it
builds would change with the repository's default branch), or no pattern matches its
``host/path`` (``github.com/org/*``; ``file://`` repositories only when a pattern names their
absolute path, ``file:///srv/git/*``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote

from hakobu.model.duration import parse_duration
from hakobu.model.source import Document, FieldPath

GIT_SUFFIX = ".git"
GIT_ROOT_DELIMITER = "_git/"
DEFAULT_TIMEOUT = 27.0
DEFAULT_SUBMODULES = True
_FILE = "file://"
_SCHEMES = ("ssh://", "https://", "http://", _FILE)
_USERNAME = re.compile(r"^([a-zA-Z][a-zA-Z0-9-]*)@")
# How many path segments name the repository when nothing marks where it ends.
_ORG_REPO_SEGMENTS = 2


@dataclass(frozen=True)
class RemoteTarget:
    raw: str
    # ``https://github.com/``, ``git@host:``, ``file://``: what precedes the repository path.
    host: str
    repo_path: str
    # The kustomization's directory in the repository ("" for its top).
    path: str
    ref: str
    submodules: bool
    timeout: float

    @property
    def clone_url(self) -> str:
        """What ``git clone`` is given, as kustomize's ``CloneSpec``."""
        return self.host + self.repo_path

    @property
    def location(self) -> str:
        """``host/path`` of the repository, matched against a project's allow patterns:
        ``github.com/org/repo``, or ``file:///abs/repo`` for a local one."""
        if self.host == _FILE:
            return self.clone_url.removesuffix(GIT_SUFFIX)
        host = self.host
        for scheme in _SCHEMES:
            host = host.removeprefix(scheme)
        host = host.split("@", 1)[-1].rstrip("/:").lower()
        return host + "/" + self.repo_path.strip("/").removesuffix(GIT_SUFFIX)


class NotRemote(ValueError):
    """The entry is no remote target kustomize would clone; the message says why."""


def parse_remote(entry: str) -> RemoteTarget:
    """``entry`` as kustomize's ``NewRepoSpecFromURL`` reads it; ``NotRemote`` if it refuses it."""
    if entry.startswith("/"):
        raise NotRemote(f"uri looks like abs path: {entry}")
    # The query is cut first: ``?`` appears nowhere else in such a URL.
    n, _, query = entry.partition("?")
    ref, timeout, submodules = _parse_query(query)
    host, n = _extract_host(n)
    repo_path, path = _split_path(n, every_segment=host.startswith(_FILE))
    return RemoteTarget(entry, host, repo_path, path, ref, submodules, timeout)


def _split_path(n: str, *, every_segment: bool) -> tuple[str, str]:
    """The repository path, and the kustomization's directory in it: split at ``_git/<repo>``,
    ``//`` or ``.git`` if the URL has one, else after two segments (all for ``file://``)."""
    if GIT_ROOT_DELIMITER in n:
        index = n.index(GIT_ROOT_DELIMITER) + len(GIT_ROOT_DELIMITER)
        segments = n[index:].split("/")
        repo_path, path = n[:index] + segments[0], "/".join(segments[1:])
    elif "//" in n:
        repo_path, _, path = n.partition("//")
    elif GIT_SUFFIX in n:
        index = n.index(GIT_SUFFIX) + len(GIT_SUFFIX)
        repo_path, path = n[:index], n[index:]
    elif every_segment:
        repo_path, path = n, ""
    else:
        segments = n.split("/")
        if len(segments) < _ORG_REPO_SEGMENTS:
            raise NotRemote("failed to parse repo path segment")
        repo_path = "/".join(segments[:_ORG_REPO_SEGMENTS])
        path = "/".join(segments[_ORG_REPO_SEGMENTS:])
    if not repo_path:
        raise NotRemote("failed to parse repo path segment")
    depth = 0
    for part in PurePosixPath(path.lstrip("/")).parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            raise NotRemote(f"url path exits repo: {n}")
    return repo_path, path.removeprefix("/")


def _parse_query(query: str) -> tuple[str, float, bool]:
    """``ref`` (else ``version``), ``timeout`` and ``submodules``, as Go's ``url.ParseQuery``
    and kustomize read them: a value that does not parse keeps the default."""
    values: dict[str, str] = {}
    for pair in query.split("&") if query else []:
        if ";" in pair:
            return "", DEFAULT_TIMEOUT, DEFAULT_SUBMODULES
        key, _, value = pair.partition("=")
        values.setdefault(unquote(key.replace("+", " ")), unquote(value.replace("+", " ")))
    ref = values.get("ref") or values.get("version", "")
    timeout = DEFAULT_TIMEOUT
    text = values.get("timeout", "")
    if re.fullmatch(r"[+-]?\d+", text) and int(text) > 0:
        timeout = float(int(text))
    elif text:
        try:
            seconds = parse_duration(text)
        except ValueError:
            seconds = 0.0
        timeout = seconds if seconds > 0 else DEFAULT_TIMEOUT
    submodules = DEFAULT_SUBMODULES
    flag = values.get("submodules", "")
    if flag in ("1", "t", "T", "true", "TRUE", "True"):
        submodules = True
    elif flag in ("0", "f", "F", "false", "FALSE", "False"):
        submodules = False
    return ref, timeout, submodules


def _trim_prefix_ignore_case(s: str, prefix: str) -> tuple[str, bool]:
    if len(prefix) <= len(s) and s[: len(prefix)].lower() == prefix:
        return s[len(prefix) :], True
    return s, False


def _extract_host(n: str) -> tuple[str, str]:
    n, _ = _trim_prefix_ignore_case(n, "git::")
    scheme = ""
    for prefix in _SCHEMES:
        n, found = _trim_prefix_ignore_case(n, prefix)
        if found:
            scheme = prefix
            break
    named = _USERNAME.match(n)
    username = named.group(1) + "@" if named else ""
    n = n[len(username) :]
    github = n.lower().startswith(("github.com/", "github.com:"))
    scp = scheme == "" and (username != "" or github)
    if scheme == "" and not scp:
        raise NotRemote("failed to parse scheme")
    if scheme == _FILE:
        return scheme, username + n
    separator = n.find("/")
    if scp:
        colon = n.find(":")
        if separator == -1 or 0 < colon < separator:
            separator = colon
    host, rest = (n[: separator + 1], n[separator + 1 :]) if separator >= 0 else (n, "")
    if github:
        if scheme.startswith("ssh://") or username:
            scheme, host = "", "github.com:"
        else:
            scheme, username, host = "https://", "", "github.com/"
    if not host:
        raise NotRemote("failed to parse host segment")
    return scheme + username + host, rest


@dataclass(frozen=True)
class RemotePolicy:
    """Which remote repositories a project's kustomizations may fetch (none by default)."""

    allow: tuple[str, ...] = ()

    def refusal(self, target: RemoteTarget) -> tuple[str, str] | None:
        """Why ``target`` may not be fetched, and what to do; None when it may."""
        if not self.allow:
            return (
                f"remote resource '{target.raw}' is not allowed: the project allows no "
                "remote resources",
                "vendor the base into the repository, or allow its repository in hakobu.yaml "
                f"under kustomize.remoteResources.allow (e.g. {target.location})",
            )
        if not target.ref:
            return (
                f"remote resource '{target.raw}' names no ref",
                "pin it with ?ref=<tag or commit> so a render does not follow the "
                "repository's default branch",
            )
        if not any(_matches(pattern, target.location) for pattern in self.allow):
            return (
                f"remote resource '{target.raw}' ({target.location}) matches no pattern of "
                "kustomize.remoteResources.allow",
                f"add a pattern for it to hakobu.yaml; allowed are: {', '.join(self.allow)}",
            )
        return None


def _matches(pattern: str, location: str) -> bool:
    # ``*`` stays within one path segment, as a host/org/repo pattern means it.
    regex = "".join(
        "[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in pattern.lower()
    )
    return re.fullmatch(regex, location.lower()) is not None


def parse_policy(doc: Document, path: FieldPath, value: Any) -> RemotePolicy:
    """``kustomize: {remoteResources: {allow: [...]}}`` of hakobu.yaml."""
    if value is None:
        return RemotePolicy()
    if not isinstance(value, dict):
        raise doc.error(path, "expected a mapping with remoteResources")
    unknown = sorted(set(value) - {"remoteResources"})
    if unknown:
        raise doc.error((*path, unknown[0]), f"unknown field {unknown[0]!r}")
    remote = value.get("remoteResources")
    if remote is None:
        return RemotePolicy()
    where: FieldPath = (*path, "remoteResources")
    if not isinstance(remote, dict) or set(remote) - {"allow"}:
        raise doc.error(where, "expected a mapping with allow: [patterns]")
    allow = remote.get("allow") or []
    if not isinstance(allow, list):
        raise doc.error((*where, "allow"), "expected a list of host/path patterns")
    for index, pattern in enumerate(allow):
        if not isinstance(pattern, str) or "/" not in pattern or pattern.startswith("*"):
            raise doc.error(
                (*where, "allow", index),
                f"expected a host/path pattern such as github.com/org/*, found {pattern!r}",
            )
    return RemotePolicy(tuple(allow))
