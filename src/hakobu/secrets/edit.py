"""Edit a SealedSecret's items in a text editor, with the plaintext never left on disk.

The items are opened with the private keys and shown as a YAML mapping of item name to
value (text, or ``!!binary`` for bytes that are not UTF-8). Items no key opens are shown by
name with ``UNREADABLE``: left as they are they keep their ciphertext, deleted they go.
After the editor exits, only items whose value changed are sealed anew, so every other
ciphertext stays byte for byte and a git diff shows just the edit.

The plaintext lives only in a 0600 file inside a private 0700 directory — memory-backed
(``/dev/shm``) when the machine has one and ``TMPDIR`` does not say otherwise — and the
directory goes on every way out: success, an error, an editor that fails or is killed,
SIGTERM or SIGHUP (which also stop the editor). SIGINT while the editor runs is left to the
editor, as git does (Ctrl-C is an editing key in vi); if the editor dies of it, the edit is
abandoned. Only SIGKILL of hakobu itself can leave the directory behind; the next edit
removes it (see ``hakobu.secrets.plaintext``).

An editor whose result does not parse is opened again with the error on top, at most
``MAX_ATTEMPTS`` times. Errors about the edited text never quote its values: the text is
plaintext, and the last error is also printed when the edit is given up.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.files import FileRefused, read_text
from hakobu.model.objects import Object, object_ref
from hakobu.secrets.crypto import (
    CannotUnseal,
    CorruptSealedValue,
    decode_sealed_value,
    hybrid_decrypt,
)
from hakobu.secrets.plaintext import private_file, rewrite
from hakobu.secrets.sealedsecret import reseal_items, sealing_label

UNREADABLE = "<UNREADABLE: sealed with a key not given; kept as is unless this line is deleted>"
_ERROR_MARK = "# error: "
MAX_ATTEMPTS = 3
_ABORTING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class EditAborted(OperationFailed):
    """The edit stopped before anything was written (a signal, a failed editor)."""


@dataclass(frozen=True)
class Edit:
    """The outcome: the updated SealedSecret (None when nothing changed) and what changed."""

    sealed: Object | None
    changed: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]


def open_items(sealed: Object, keys: Sequence[RSAPrivateKey]) -> dict[str, bytes | None]:
    """Every encrypted item, opened; None for an item none of ``keys`` opens."""
    encrypted = (sealed.get("spec") or {}).get("encryptedData") or {}
    label = sealing_label(sealed)
    items: dict[str, bytes | None] = {}
    for key in sorted(encrypted):
        try:
            items[key] = hybrid_decrypt(keys, decode_sealed_value(str(encrypted[key])), label)
        except (CannotUnseal, CorruptSealedValue):
            items[key] = None
    return items


def render_items(title: str, items: Mapping[str, bytes | None]) -> str:
    """The text the editor shows: a header of comments, then ``name: value`` per item."""
    values: dict[str, Any] = {}
    for key, value in items.items():
        if value is None:
            values[key] = UNREADABLE
        else:
            try:
                values[key] = value.decode()
            except UnicodeDecodeError:
                values[key] = value
    header = (
        f"# {title}\n"
        "# Change values, add or delete lines; save and quit to seal the changed items again.\n"
        "# Quit without saving, or empty the file, to change nothing.\n"
    )
    body = (
        yaml.dump(values, Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=float("inf"))
        if values
        else ""
    )
    return header + body


def parse_edited(text: str) -> dict[str, bytes] | None:
    """The items as edited; None when the file was emptied (the edit is abandoned)."""
    try:
        loaded = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        # The problem and its line only: the full message quotes the line, a value perhaps.
        mark = e.problem_mark or e.context_mark
        line = f"line {mark.line + 1}: " if mark else ""
        raise InvalidInput(f"{line}not valid YAML: {e.problem or e.context}") from None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        raise InvalidInput(
            "not valid YAML, or a tagged value (!!int, !!binary, …) that its tag cannot carry"
        ) from None
    if loaded is None:
        return None
    if not isinstance(loaded, dict):
        raise InvalidInput(
            f"expected a mapping of item names to values, found a {type(loaded).__name__}"
        )
    items: dict[str, bytes] = {}
    for key, value in loaded.items():
        if not isinstance(key, str):
            raise InvalidInput(
                f"an item name must be text, found a {type(key).__name__}",
                hint="quote the item name",
            )
        if isinstance(value, bytes):
            items[key] = value
        elif isinstance(value, str):
            items[key] = value.encode()
        else:
            raise InvalidInput(
                f"{key}: expected text, found a {type(value).__name__}",
                hint=f'quote the value, e.g. {key}: "…"',
            )
    return items


def changes_between(
    original: Mapping[str, bytes | None], edited: Mapping[str, bytes]
) -> dict[str, bytes | None]:
    """What to reseal: changed or added values, and None for each deleted item."""
    changes: dict[str, bytes | None] = {key: None for key in original if key not in edited}
    for key, value in edited.items():
        if key not in original:
            changes[key] = value
            continue
        before = original[key]
        unchanged = value == UNREADABLE.encode() if before is None else value == before
        if not unchanged:
            changes[key] = value
    return changes


def edit_sealed_secret(
    sealed: Object,
    keys: Sequence[RSAPrivateKey],
    certificate: Callable[[], bytes],
    *,
    editor: Sequence[str] | None = None,
) -> Edit:
    """Let a person edit the items of ``sealed``; ``certificate`` is fetched only on a change."""
    original = open_items(sealed, keys)
    title = f"Editing the items of {object_ref(sealed)}"
    unreadable = sorted(key for key, value in original.items() if value is None)
    if unreadable:
        title += f" ({len(unreadable)} not readable with the given keys)"
    edited = _edit_until_valid(render_items(title, original), editor or editor_command())
    if edited is None:
        return Edit(None, (), (), ())
    changes = changes_between(original, edited)
    if not changes:
        return Edit(None, (), (), ())
    updated = reseal_items(sealed, changes, certificate())
    return Edit(
        updated,
        changed=tuple(sorted(k for k, v in changes.items() if v is not None and k in original)),
        added=tuple(sorted(k for k in changes if k not in original)),
        removed=tuple(sorted(k for k, v in changes.items() if v is None)),
    )


def editor_command() -> list[str]:
    """``$VISUAL``, else ``$EDITOR``, else vi — split like a shell would split it."""
    configured = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        words = shlex.split(configured)
    except ValueError as e:
        raise InvalidInput(f"the editor command {configured!r} cannot be read ({e})") from None
    if not words:
        raise InvalidInput("the editor command is empty", hint="set EDITOR, e.g. EDITOR=vi")
    return words


def _edit_until_valid(text: str, editor: Sequence[str]) -> dict[str, bytes] | None:
    """Run the editor until its result parses, ``MAX_ATTEMPTS`` times at most.

    Unchanged text after an error gives up at once: the person saved the error as it was.
    """
    with _aborting_on_signals(), private_file(text) as path:
        shown = text
        problem = ""
        for _ in range(MAX_ATTEMPTS):
            result = _run_editor(editor, path)
            if result == shown and problem:
                raise InvalidInput(
                    "the edit still does not parse; nothing was changed",
                    hint=f"the problem: {problem}",
                )
            try:
                return parse_edited(result)
            except InvalidInput as e:
                problem = e.message
                shown = _with_error(result, e)
                rewrite(path, shown)
        raise InvalidInput(
            f"the edit did not parse after {MAX_ATTEMPTS} attempts; nothing was changed",
            hint=f"the last problem: {problem}",
        )


def _with_error(text: str, error: InvalidInput) -> str:
    kept = "".join(
        line for line in text.splitlines(keepends=True) if not line.startswith(_ERROR_MARK)
    )
    lines = [f"{_ERROR_MARK}{line}\n" for line in str(error).splitlines()]
    return "".join(lines) + kept


def _run_editor(editor: Sequence[str], path: Path) -> str:
    interrupted: list[int] = []

    def note_interrupt(signum: int, _frame: FrameType | None) -> None:
        interrupted.append(signum)

    previous = signal.signal(signal.SIGINT, note_interrupt)
    try:
        completed = subprocess.run([*editor, str(path)], check=False)
    except OSError as e:
        raise InvalidInput(
            f"cannot start the editor {editor[0]!r} ({e.strerror})",
            hint="set EDITOR (or VISUAL) to an editor that is installed",
        ) from None
    finally:
        signal.signal(signal.SIGINT, previous)
    if completed.returncode != 0:
        if interrupted:
            raise KeyboardInterrupt
        how = (
            f"was killed by {signal.Signals(-completed.returncode).name}"
            if completed.returncode < 0
            else f"exited with status {completed.returncode}"
        )
        raise EditAborted(f"the editor {how}; nothing was changed")
    try:
        return read_text(path)
    except FileNotFoundError:
        raise EditAborted("the editor removed the file; nothing was changed") from None
    except FileRefused as e:
        raise InvalidInput(f"the edited file {e.message}; nothing was changed") from None


@contextmanager
def _aborting_on_signals() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into an exception, so cleanup runs and the editor is stopped."""

    def abort(signum: int, _frame: FrameType | None) -> None:
        raise EditAborted(
            f"interrupted by {signal.Signals(signum).name}; nothing was changed and the "
            "plaintext was removed"
        )

    previous = {sig: signal.signal(sig, abort) for sig in _ABORTING_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Dumper(yaml.SafeDumper):
    """Multi-line text as a literal block, so a certificate or a file reads as it is."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)
