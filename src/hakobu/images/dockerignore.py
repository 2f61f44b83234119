"""``.dockerignore`` with Docker's own semantics.

Reading follows moby's ``ignorefile.ReadAll``: a line starting with ``#`` is a comment,
surrounding space is trimmed, ``!`` marks an exception, patterns are cleaned like Go's
``filepath.Clean`` and a leading ``/`` is dropped (paths are relative to the context).
Matching follows ``moby/patternmatcher``: ``*`` and ``?`` do not cross ``/``, ``**`` crosses
any number of directories, a pattern that matches a directory matches everything in it, and
the last matching pattern decides. Walking follows BuildKit's ``fsutil`` (what ``docker
build`` sends): an excluded directory is skipped whole unless an exception could reach
inside it, so ``!dir/keep`` re-includes a file under an excluded ``dir`` while a literal
exception elsewhere does not.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from enum import Enum

from hakobu.errors import InvalidInput

_BOM = "\ufeff"
_REGEX_SPECIAL = frozenset(".+()|{}$")
_GLOB_CHARS = frozenset("*[]?^\\")


class _Kind(Enum):
    EXACT = 1
    PREFIX = 2
    SUFFIX = 3
    REGEX = 4


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool
    kind: _Kind
    regex: re.Pattern[str] | None

    def matches(self, path: str) -> bool:
        if self.kind is _Kind.EXACT:
            return path == self.text
        if self.kind is _Kind.PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind is _Kind.SUFFIX:
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        return self.regex is not None and self.regex.match(path) is not None


# Per pattern: did this pattern match the directory above (so it matches here too)?
ParentMatches = tuple[bool, ...]


@dataclass(frozen=True)
class Matcher:
    patterns: tuple[Pattern, ...]

    @property
    def has_exceptions(self) -> bool:
        return any(p.exclusion for p in self.patterns)

    def excluded(self, path: str, parent: ParentMatches | None = None) -> bool:
        return self.match(path, parent)[0]

    def match(self, path: str, parent: ParentMatches | None = None) -> tuple[bool, ParentMatches]:
        """Whether ``path`` is excluded, and the per-pattern results for its children.

        ``parent`` is the second value returned for the directory holding ``path``; without
        it every ancestor of ``path`` is tried (patternmatcher's MatchesOrParentMatches).
        """
        matched = False
        results: list[bool] = []
        for i, pattern in enumerate(self.patterns):
            hit = parent[i] if parent is not None else False
            if not hit:
                if pattern.exclusion != matched:
                    results.append(False)
                    continue
                hit = pattern.matches(path)
                if not hit and parent is None:
                    hit = _ancestor_matches(pattern, path)
            results.append(hit)
            if hit:
                matched = not pattern.exclusion
        return matched, tuple(results)

    def skips_directory(self, path: str) -> bool:
        """Whether an excluded directory can be left out whole, as BuildKit does.

        It cannot when an exception with glob characters might match inside it, or when a
        literal exception names something under it.
        """
        exceptions = [p for p in self.patterns if p.exclusion]
        if any(_GLOB_CHARS.intersection(_without_trailing_glob(p.text)) for p in exceptions):
            return False
        prefix = path + "/"
        return not any(
            (_without_trailing_glob(p.text) + "/").startswith(prefix) for p in exceptions
        )


def parse(text: str, file: str) -> Matcher:
    """The patterns of a ``.dockerignore`` file; ``file`` names it in errors."""
    patterns: list[Pattern] = []
    for number, raw in enumerate(text.removeprefix(_BOM).splitlines(), start=1):
        if raw.startswith("#"):
            continue
        line = raw.strip()
        if not line:
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
            if not line:
                raise InvalidInput(
                    f"{file}:{number}: '!' without a pattern",
                    hint="write the path to re-include after the '!'",
                )
        cleaned = _clean(line)
        if len(cleaned) > 1 and cleaned.startswith("/"):
            cleaned = cleaned[1:]
        patterns.append(_compile(cleaned, exclusion, file, number))
    return Matcher(tuple(patterns))


def _compile(text: str, exclusion: bool, file: str, number: int) -> Pattern:
    if re.search(r"(?<!\\)(\\\\)*\\$", text):
        raise InvalidInput(f"{file}:{number}: invalid pattern {text!r}: trailing backslash")
    regex, kind = _translate(text)
    compiled = None
    if kind is _Kind.REGEX:
        try:
            compiled = re.compile(regex + r"\Z")
        except re.error as e:
            raise InvalidInput(
                f"{file}:{number}: invalid pattern {text!r}: {e}",
                hint="check the brackets and backslashes of that line",
            ) from None
    return Pattern(text, exclusion, kind, compiled)


def _translate(text: str) -> tuple[str, _Kind]:
    """patternmatcher's ``compile``: the regular expression and the cheapest match kind."""
    regex = "^"
    kind = _Kind.EXACT
    i = 0
    while i < len(text):
        start = i
        ch = text[i]
        i += 1
        if ch == "*" and text[i : i + 1] == "*":
            i += 2 if text[i + 1 : i + 2] == "/" else 1
            if i < len(text):
                regex += "(.*/)?"
                kind = _Kind.REGEX
            elif kind is _Kind.EXACT:
                # "**" at the end matches everything below, as in .gitignore.
                kind = _Kind.PREFIX
            else:
                regex += ".*"
                kind = _Kind.REGEX
            if start == 0:
                kind = _Kind.SUFFIX
        elif ch in "*?":
            regex += "[^/]*" if ch == "*" else "[^/]"
            kind = _Kind.REGEX
        elif ch in _REGEX_SPECIAL:
            regex += "\\" + ch
        elif ch == "\\":
            regex += "\\" + text[i]
            i += 1
            kind = _Kind.REGEX
        else:
            regex += ch
            if ch in "[]":
                kind = _Kind.REGEX
    return regex, kind


def _ancestor_matches(pattern: Pattern, path: str) -> bool:
    parts = path.split("/")[:-1]
    return any(pattern.matches("/".join(parts[: i + 1])) for i in range(len(parts)))


def _without_trailing_glob(text: str) -> str:
    return text.removesuffix("/**").removesuffix("/*")


def _clean(path: str) -> str:
    """Go's ``filepath.Clean`` on a slash-separated path."""
    cleaned = posixpath.normpath(path)
    # normpath keeps a leading "//" (POSIX allows it a meaning); Go does not.
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned
