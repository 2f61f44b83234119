"""The images a Dockerfile builds from.

Only what decides the base images is read: the ``escape`` parser directive, line
continuations, comments, heredocs (skipped, so a ``FROM`` inside one is not an
instruction), ``ARG`` (before the first ``FROM`` for ``FROM`` lines, in a stage for the
stage's own flags), ``FROM [--platform=…] image [AS name]``, ``COPY --from=…`` and
``RUN --mount=…,from=…``. A reference to an earlier stage (by name, or by index for
``--from``) is not an image; ``scratch`` is no image. Every stage counts, not only those the
final stage needs: a tag that changes too often costs a build, one that changes too rarely
ships stale code.

Variables expand as BuildKit expands them: ``$X``, ``${X}``, ``${X:-default}``,
``${X-default}``, ``${X:+alt}``, ``${X+alt}``, ``${X:?message}``; single quotes keep text
literal, the escape character escapes the next character. Build arguments override the
defaults of declared ``ARG`` instructions only, as in ``docker build``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from hakobu.errors import InvalidInput

_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z0-9_.-]+)\2")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})


@dataclass(frozen=True)
class ImageUse:
    """An image the build pulls: the reference as the builder sees it, and where.

    ``written`` is the word of a ``FROM`` before expansion, quotes and all, since buildah
    matches named contexts against it; for ``--from`` sources it is the reference.
    """

    reference: str
    line: int
    written: str


@dataclass(frozen=True)
class _Line:
    number: int
    instruction: str
    rest: str


def base_images(text: str, file: str, build_args: Mapping[str, str]) -> tuple[ImageUse, ...]:
    """Every image ``text`` builds from or copies from, in order of appearance."""
    escape, lines = _logical_lines(text, file)
    uses: list[ImageUse] = []
    stages: list[str | None] = []
    # None: declared without a default and not given, which expands to "".
    global_args: dict[str, str | None] = {}
    scope: dict[str, str | None] = global_args
    for line in lines:
        expander = _Expander(escape, scope, file, line.number)
        if line.instruction == "ARG":
            for word in _words(line.rest, escape):
                name, value = _declare(word, expander, build_args, global_args)
                if scope is global_args and value is None:
                    scope.setdefault(name, None)
                else:
                    scope[name] = value
        elif line.instruction == "FROM":
            words = [w for w in _words(line.rest, escape) if not w.startswith("--")]
            if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
                raise InvalidInput(
                    f"{file}:{line.number}: FROM: expected `FROM image [AS name]`, "
                    f"found `FROM {line.rest}`"
                )
            image = _Expander(escape, global_args, file, line.number).expand(words[0])
            if not image:
                raise InvalidInput(
                    f"{file}:{line.number}: FROM {words[0]} expands to nothing",
                    hint="give the ARG a default before the first FROM, or a build argument",
                )
            if image.lower() not in stages and image != "scratch":
                uses.append(ImageUse(image, line.number, words[0]))
            stages.append(words[2].lower() if len(words) == 3 else None)
            scope = {}
        elif line.instruction in ("COPY", "RUN"):
            for source in _flag_sources(line, expander, escape):
                if not _is_stage(source, stages):
                    uses.append(ImageUse(source, line.number, source))
    return tuple(uses)


def _declare(
    word: str,
    expander: _Expander,
    build_args: Mapping[str, str],
    global_args: Mapping[str, str | None],
) -> tuple[str, str | None]:
    """``ARG name[=default]``: its value, where a build argument beats the default and a
    stage's bare ``ARG name`` takes the global one."""
    name, has_value, default = word.partition("=")
    if not _NAME.fullmatch(name):
        raise expander.error(f"ARG: invalid name {name!r}")
    if name in build_args:
        return name, build_args[name]
    if has_value:
        return name, expander.expand(default)
    return name, global_args.get(name)


def _flag_sources(line: _Line, expander: _Expander, escape: str) -> Iterator[str]:
    for word in _words(line.rest, escape):
        if not word.startswith("--"):
            break
        flag, _, value = word.partition("=")
        if line.instruction == "COPY" and flag == "--from":
            yield expander.expand(value)
        elif line.instruction == "RUN" and flag == "--mount":
            for option in expander.expand(value).split(","):
                key, _, source = option.partition("=")
                if key.strip() == "from" and source:
                    yield source.strip()


def _is_stage(source: str, stages: list[str | None]) -> bool:
    if source.isdigit():
        return int(source) < len(stages)
    return source.lower() in stages


def _logical_lines(text: str, file: str) -> tuple[str, list[_Line]]:
    physical = text.splitlines()
    escape, index = _directives(physical, file)
    lines: list[_Line] = []
    while index < len(physical):
        start = index
        stripped = physical[index].strip()
        index += 1
        if not stripped or stripped.startswith("#"):
            continue
        parts = [stripped]
        while parts[-1].endswith(escape) and index < len(physical):
            parts[-1] = parts[-1][: -len(escape)]
            following = physical[index].strip()
            index += 1
            if following.startswith("#"):
                continue
            parts.append(following)
        if parts[-1].endswith(escape):
            parts[-1] = parts[-1][: -len(escape)]
        joined = " ".join(p for p in parts if p)
        instruction, _, rest = joined.partition(" ")
        instruction = instruction.upper()
        if instruction in _HEREDOC_INSTRUCTIONS:
            index = _skip_heredocs(rest, physical, index)
        lines.append(_Line(start + 1, instruction, rest.strip()))
    return escape, lines


def _directives(physical: list[str], file: str) -> tuple[str, int]:
    """The escape character and the first line after the parser directives."""
    escape = "\\"
    index = 0
    # Directives are comments at the very top; the first other line ends them.
    while index < len(physical):
        match = _DIRECTIVE.match(physical[index])
        if not match:
            break
        if match.group(1).lower() == "escape":
            if match.group(2) not in ("\\", "`"):
                raise InvalidInput(
                    f"{file}:{index + 1}: escape directive must be \\ or `, found "
                    f"{match.group(2)!r}"
                )
            escape = match.group(2)
        index += 1
    return escape, index


def _skip_heredocs(rest: str, physical: list[str], index: int) -> int:
    """The line after the heredoc bodies that the instruction ``rest`` opens."""
    for heredoc in _HEREDOC.finditer(rest):
        strip_tabs, word = heredoc.group(1) == "-", heredoc.group(3)
        while index < len(physical):
            body = physical[index].lstrip("\t") if strip_tabs else physical[index]
            index += 1
            if body == word:
                break
    return index


def _words(text: str, escape: str) -> list[str]:
    """Split on unquoted white space, keeping quotes and escapes for expansion."""
    words: list[str] = []
    current = ""
    quote = ""
    in_word = False
    braces = 0  # inside ${…}, where white space does not split
    i = 0
    while i < len(text):
        ch = text[i]
        if quote != "'" and text.startswith("${", i):
            braces += 1
        elif ch == "}" and braces:
            braces -= 1
        if ch == escape and quote != "'" and i + 1 < len(text):
            current += text[i : i + 2]
            i += 2
            in_word = True
            continue
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch.isspace() and not braces:
            if in_word:
                words.append(current)
                current, in_word = "", False
            i += 1
            continue
        current += ch
        in_word = True
        i += 1
    if in_word:
        words.append(current)
    return words


class _Expander:
    def __init__(self, escape: str, scope: Mapping[str, str | None], file: str, line: int) -> None:
        self.escape = escape
        self.scope = scope
        self.file = file
        self.line = line

    def expand(self, word: str) -> str:
        out, _ = self._expand(word, 0, "")
        return out

    def _expand(self, text: str, i: int, stop: str) -> tuple[str, int]:
        out = ""
        quote = ""
        while i < len(text):
            ch = text[i]
            if stop and not quote and ch == stop:
                return out, i
            if ch == self.escape and quote != "'":
                if i + 1 < len(text):
                    out += text[i + 1]
                i += 2
            elif ch == "'" and quote != '"':
                quote = "" if quote else "'"
                i += 1
            elif ch == '"' and quote != "'":
                quote = "" if quote else '"'
                i += 1
            elif ch == "$" and quote != "'":
                value, i = self._variable(text, i + 1)
                out += value
            else:
                out += ch
                i += 1
        if stop:
            raise self.error(f"unterminated ${{…}} in {text!r}")
        return out, i

    def _variable(self, text: str, i: int) -> tuple[str, int]:
        if i < len(text) and text[i] == "{":
            match = _NAME.match(text, i + 1)
            if not match:
                raise self.error(f"invalid variable in {text!r}")
            name, i = match.group(), match.end()
            if i >= len(text):
                raise self.error(f"unterminated ${{…}} in {text!r}")
            if text[i] == "}":
                return self._value(name) or "", i + 1
            operator = text[i : i + 2] if text[i : i + 1] == ":" else text[i : i + 1]
            if operator not in (":-", ":+", ":?", "-", "+"):
                raise self.error(f"unsupported substitution ${{{name}{operator}…}} in {text!r}")
            word, i = self._expand(text, i + len(operator), "}")
            return self._substitute(name, operator, word), i + 1
        match = _NAME.match(text, i)
        if not match:
            return "$", i
        return self._value(match.group()) or "", match.end()

    def _value(self, name: str) -> str | None:
        return self.scope.get(name)

    def _substitute(self, name: str, operator: str, word: str) -> str:
        value = self._value(name)
        is_set = name in self.scope and value is not None
        usable = bool(value) if operator.startswith(":") else is_set
        if operator.endswith("-"):
            return value if usable and value is not None else word
        if operator.endswith("+"):
            return word if usable else ""
        if not usable:
            raise self.error(f"{name}: {word or 'not set'}")
        return value or ""

    def error(self, message: str) -> InvalidInput:
        return InvalidInput(f"{self.file}:{self.line}: {message}")
