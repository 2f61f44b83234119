"""`.dockerignore` matching with Docker's (patternmatcher / BuildKit) semantics."""

from __future__ import annotations

import pytest

from hakobu.errors import InvalidInput
from hakobu.images.dockerignore import parse


def excluded(patterns: str, path: str) -> bool:
    return parse(patterns, ".dockerignore").excluded(path)


@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [
        ("*.md", "README.md", True),
        ("*.md", "docs/README.md", False),  # * stays within one directory
        ("**/*.md", "docs/deep/README.md", True),
        ("**/*.md", "README.md", True),  # ** also matches no directory
        ("docs", "docs/a/b.txt", True),  # a directory takes its contents with it
        ("/docs", "docs/a.txt", True),  # a leading slash means the context root
        ("docs/**", "docs/a/b", True),
        ("**/foo", "a/foo", True),
        ("**/foo", "a/xfoo", False),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("build/../dist", "dist/x", True),  # cleaned like Go's filepath.Clean
        ("*.log\n!keep.log", "keep.log", False),
        ("*.log\n!keep.log\nkeep.log", "keep.log", True),  # the last match decides
        ("# comment\n\n  spaced.txt  ", "spaced.txt", True),
        ("[a-c].txt", "b.txt", True),
        ("a.b", "axb", False),  # regular-expression characters are literal
    ],
)
def test_matching(patterns: str, path: str, expected: bool) -> None:
    assert excluded(patterns, path) is expected


def test_parent_results_give_the_same_answer_as_checking_every_ancestor() -> None:
    matcher = parse("tests\n!tests/fixtures\n**/*.tmp\n", ".dockerignore")
    parent = None
    for part in ("tests", "tests/fixtures", "tests/fixtures/deep"):
        _, parent = matcher.match(part, parent)
    for name in ("a.py", "b.tmp"):
        path = f"tests/fixtures/deep/{name}"
        assert matcher.match(path, parent)[0] == matcher.excluded(path)
    assert not matcher.excluded("tests/fixtures/deep/a.py")
    assert matcher.excluded("tests/fixtures/deep/b.tmp")
    assert matcher.excluded("tests/unit/a.py")


def test_excluded_directories_are_skipped_unless_an_exception_reaches_inside() -> None:
    literal = parse("vendor\nsecrets\n!vendor/keep\n", ".dockerignore")
    assert not literal.skips_directory("vendor")
    assert literal.skips_directory("secrets")
    glob = parse("vendor\n!**/keep\n", ".dockerignore")
    assert not glob.skips_directory("vendor")
    no_exceptions = parse("vendor\n", ".dockerignore")
    assert no_exceptions.skips_directory("vendor")


@pytest.mark.parametrize(("text", "message"), [("!\n", "'!' without"), ("a\\", "trailing")])
def test_invalid_patterns_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=rf"ctx/.dockerignore:1: .*{message}"):
        parse(text, "ctx/.dockerignore")


def test_unclosed_bracket_is_an_error() -> None:
    with pytest.raises(InvalidInput, match=r"ctx/.dockerignore:2: invalid pattern"):
        parse("ok\n[abc\n", "ctx/.dockerignore")
