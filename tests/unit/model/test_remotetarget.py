"""Remote targets parsed as kustomize's ``NewRepoSpecFromURL`` parses them (its own table
cases), and the project policy that allows them."""

from __future__ import annotations

import itertools

import pytest

from hakobu.model.remotetarget import (
    DEFAULT_SUBMODULES,
    DEFAULT_TIMEOUT,
    NotRemote,
    RemotePolicy,
    parse_remote,
)

_SCHEME_AUTHORITY = [
    ("gitHub.com/", "https://github.com/"),
    ("github.com:", "https://github.com/"),
    ("http://github.com/", "https://github.com/"),
    ("https://github.com/", "https://github.com/"),
    ("hTTps://github.com/", "https://github.com/"),
    (
        "https://git-codecommit.us-east-2.amazonaws.com/",
        "https://git-codecommit.us-east-2.amazonaws.com/",
    ),
    ("https://fabrikops2.visualstudio.com/", "https://fabrikops2.visualstudio.com/"),
    ("ssh://git.example.com:7999/", "ssh://git.example.com:7999/"),
    ("git::https://gitlab.com/", "https://gitlab.com/"),
    ("git::http://git.example.com/", "http://git.example.com/"),
    ("git::https://git.example.com/", "https://git.example.com/"),
    ("git@github.com:", "git@github.com:"),
    ("git@github.com/", "git@github.com:"),
    ("git::git@github.com:", "git@github.com:"),
    ("org-12345@github.com:", "org-12345@github.com:"),
    ("org-12345@github.com/", "org-12345@github.com:"),
]


@pytest.mark.parametrize(
    ("raw_host", "host", "repo", "path", "ref"),
    [
        (raw, host, repo, path, ref)
        for (raw, host), repo, path, ref in itertools.product(
            _SCHEME_AUTHORITY,
            ["someOrg/someRepo", "kubernetes/website"],
            ["README.md", "foo/krusty.txt", ""],
            ["group/version", "someBranch", "master", "v0.1.0", ""],
        )
    ],
)
def test_permutations(raw_host: str, host: str, repo: str, path: str, ref: str) -> None:
    url = raw_host + repo + ("/" + path if path else "") + (f"?ref={ref}" if ref else "")
    target = parse_remote(url)
    assert (target.host, target.repo_path, target.path, target.ref) == (host, repo, path, ref)


# kustomize's smoke cases: URL, host, repository path, directory, ref, what git clones.
_SMOKE = [
    (
        "https://git-codecommit.us-east-2.amazonaws.com/someorg/somerepo/somedir?ref=testbranch",
        "https://git-codecommit.us-east-2.amazonaws.com/",
        "someorg/somerepo",
        "somedir",
        "testbranch",
        "https://git-codecommit.us-east-2.amazonaws.com/someorg/somerepo",
    ),
    (
        "http://github.com/someorg/somerepo.git/somedir",
        "https://github.com/",
        "someorg/somerepo.git",
        "somedir",
        "",
        "https://github.com/someorg/somerepo.git",
    ),
    (
        "git@gitlab2.sqtools.ru:infra/kubernetes/thanos-base.git?ref=v0.1.0",
        "git@gitlab2.sqtools.ru:",
        "infra/kubernetes/thanos-base.git",
        "",
        "v0.1.0",
        "git@gitlab2.sqtools.ru:infra/kubernetes/thanos-base.git",
    ),
    (
        "git@bitbucket.org:company/project.git//path?ref=branch",
        "git@bitbucket.org:",
        "company/project.git",
        "path",
        "branch",
        "git@bitbucket.org:company/project.git",
    ),
    (
        "ssh://git@bitbucket.org/company/project.git//path?ref=branch",
        "ssh://git@bitbucket.org/",
        "company/project.git",
        "path",
        "branch",
        "ssh://git@bitbucket.org/company/project.git",
    ),
    (
        "https://itfs.mycompany.com/collection/project/_git/somerepos/somedir?version=v1.0.0",
        "https://itfs.mycompany.com/",
        "collection/project/_git/somerepos",
        "somedir",
        "v1.0.0",
        "https://itfs.mycompany.com/collection/project/_git/somerepos",
    ),
    (
        "git::https://itfs.mycompany.com/collection/project/_git/somerepos",
        "https://itfs.mycompany.com/",
        "collection/project/_git/somerepos",
        "",
        "",
        "https://itfs.mycompany.com/collection/project/_git/somerepos",
    ),
    (
        "git@github.com/someorg/somerepo/somepath",
        "git@github.com:",
        "someorg/somerepo",
        "somepath",
        "",
        "git@github.com:someorg/somerepo",
    ),
    (
        "https://github.com/kubernetes-sigs/kustomize//examples/multibases/dev/?ref=v1.0.6",
        "https://github.com/",
        "kubernetes-sigs/kustomize",
        "examples/multibases/dev/",
        "v1.0.6",
        "https://github.com/kubernetes-sigs/kustomize",
    ),
    (
        "ssh://git@github.com/kubernetes-sigs/kustomize//examples/multibases/dev?ref=v1.0.6",
        "git@github.com:",
        "kubernetes-sigs/kustomize",
        "examples/multibases/dev",
        "v1.0.6",
        "git@github.com:kubernetes-sigs/kustomize",
    ),
    (
        "file://a/b/c/someRepo.git/somepath?ref=someBranch",
        "file://",
        "a/b/c/someRepo.git",
        "somepath",
        "someBranch",
        "file://a/b/c/someRepo.git",
    ),
    (
        "file://a/b/c/someRepo//somepath?ref=someBranch",
        "file://",
        "a/b/c/someRepo",
        "somepath",
        "someBranch",
        "file://a/b/c/someRepo",
    ),
    (
        "file:///a/b/c/someRepo?ref=someBranch",
        "file://",
        "/a/b/c/someRepo",
        "",
        "someBranch",
        "file:///a/b/c/someRepo",
    ),
    ("file:///", "file://", "/", "", "", "file:///"),
    (
        "https://example.org/path/to/repo//examples/multibases/dev",
        "https://example.org/",
        "path/to/repo",
        "examples/multibases/dev",
        "",
        "https://example.org/path/to/repo",
    ),
]


@pytest.mark.parametrize(("url", "expected"), [(case[0], case[1:]) for case in _SMOKE])
def test_kustomize_smoke_cases(url: str, expected: tuple[str, ...]) -> None:
    host, repo, path, ref, clone = expected
    target = parse_remote(url)
    assert (target.host, target.repo_path, target.path, target.ref) == (host, repo, path, ref)
    assert target.clone_url == clone


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("/srv", "uri looks like abs path"),
        ("../../tmp", "failed to parse scheme"),
        ("src/github.com/org/repo/path", "failed to parse scheme"),
        ("iauhsdiuashduas", "failed to parse scheme"),
        ("htxxxtp://github.com/", "failed to parse scheme"),
        ("ssh://git.example.com", "failed to parse repo path segment"),
        ("git::___", "failed to parse scheme"),
        ("https://host?ref=group/version/minor_version", "failed to parse repo path segment"),
        ("https://github.com/org/repo.git//path/../../exits/repo", "url path exits repo"),
        ("github.com!org/repo.git//path", "failed to parse scheme"),
        ("gh:org/repo", "failed to parse scheme"),
        ("https://github.com/thisisa404.yaml", "failed to parse repo path segment"),
        ("file:////tmp//path/to/whatever", "failed to parse repo path segment"),
        ("git@scp://github.com/org/repo.git//path", "failed to parse repo path segment"),
        ("git@ssh://github.com/org/repo.git//path", "failed to parse repo path segment"),
    ],
)
def test_kustomize_error_cases(url: str, error: str) -> None:
    with pytest.raises(NotRemote, match=error):
        parse_remote(url)


@pytest.mark.parametrize(
    ("query", "ref", "timeout", "submodules"),
    [
        ("", "", DEFAULT_TIMEOUT, DEFAULT_SUBMODULES),
        ("?version=v1&ref=v2", "v2", DEFAULT_TIMEOUT, True),
        ("?version=v1", "v1", DEFAULT_TIMEOUT, True),
        ("?timeout=61", "", 61.0, True),
        ("?timeout=1m1s", "", 61.0, True),
        ("?timeout=-3", "", DEFAULT_TIMEOUT, True),
        ("?timeout=soon", "", DEFAULT_TIMEOUT, True),
        ("?submodules=false", "", DEFAULT_TIMEOUT, False),
        ("?submodules=maybe", "", DEFAULT_TIMEOUT, True),
        ("?ref=v1;x=y", "", DEFAULT_TIMEOUT, True),
    ],
)
def test_query(query: str, ref: str, timeout: float, submodules: bool) -> None:
    target = parse_remote("https://github.com/org/repo" + query)
    assert (target.ref, target.timeout, target.submodules) == (ref, timeout, submodules)


def test_policy() -> None:
    policy = RemotePolicy(("github.com/org/*", "file:///srv/git/*"))
    assert policy.refusal(parse_remote("https://github.com/org/repo//base?ref=v1")) is None
    assert policy.refusal(parse_remote("git@github.com:org/repo.git/base?ref=v1")) is None
    assert policy.refusal(parse_remote("file:///srv/git/repo.git//base?ref=v1")) is None
    refused = policy.refusal(parse_remote("https://github.com/other/repo?ref=v1"))
    assert refused is not None and "matches no pattern" in refused[0]
    # ``*`` stays within one segment: a repository further down is not allowed by org/*.
    deeper = policy.refusal(parse_remote("https://github.com/org/a/b.git?ref=v1"))
    assert deeper is not None
    unpinned = policy.refusal(parse_remote("https://github.com/org/repo"))
    assert unpinned is not None and "names no ref" in unpinned[0]
    closed = RemotePolicy().refusal(parse_remote("https://github.com/org/repo?ref=v1"))
    assert closed is not None and "allows no remote resources" in closed[0]
