"""The layout of an environment's rendered output, ``<output>/<env>/<app>/<file>.yaml``.

The output directory is committed, so a pull request can put anything there: a symbolic link
that leads a render to delete or a sync to read files elsewhere, a directory or file that no
render wrote. Render owns exactly what this module recognises — real directories, one per
app, holding regular ``*.yaml`` files — and everything else is a stray: reported by path,
never followed, never read, never deleted. Render's own work in progress lives beside the
environments' directories, not in them (see ``hakobu.render.output``), so a hidden entry
inside one is a stray too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hakobu.errors import InvalidInput

SUFFIX = ".yaml"


@dataclass(frozen=True)
class Scanned:
    """What an environment's directory holds: app → file name → path, and the strays."""

    files: dict[str, dict[str, Path]]
    strays: tuple[str, ...]


def scan_environment(env_dir: Path, root: Path) -> Scanned:
    """The files of ``env_dir`` render recognises; links anywhere on the way are strays.

    ``root`` is the project: ``env_dir`` and each directory between them must be a real
    directory inside it, or the whole environment is refused.
    """
    files: dict[str, dict[str, Path]] = {}
    strays: list[str] = []
    for app in app_names(env_dir, root, strays):
        files[app] = scan_app(env_dir / app, root, strays)
    return Scanned(files, tuple(strays))


def app_names(env_dir: Path, root: Path, strays: list[str]) -> list[str]:
    """The names of ``env_dir``'s app directories; anything else there is added to
    ``strays``."""
    refuse_links_between(root, env_dir)
    if not env_dir.exists():
        return []
    found: list[str] = []
    # scandir: an entry's type comes with its name, without a system call per app; and
    # names, not Paths, for an environment of thousands.
    with os.scandir(env_dir) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                strays.append(_shown(root, env_dir / entry.name))
            else:
                found.append(entry.name)
    return found


def scan_app(app_dir: Path, root: Path, strays: list[str]) -> dict[str, Path]:
    """The files of one app directory (name → path); anything else is added to ``strays``."""
    found: dict[str, Path] = {}
    for entry in sorted(app_dir.iterdir()):
        if (
            entry.name.endswith(SUFFIX)
            and not entry.name.startswith(".")
            and _is_real(entry, stat.S_ISREG)
        ):
            found[entry.name] = entry
        else:
            strays.append(_shown(root, entry))
    return found


def refuse_strays(scanned: Scanned) -> None:
    if scanned.strays:
        shown = ", ".join(scanned.strays[:10])
        more = f" and {len(scanned.strays) - 10} more" if len(scanned.strays) > 10 else ""
        raise InvalidInput(
            f"not written by hakobu render, so left alone: {shown}{more}",
            hint="the output directory holds only <app>/<kind>-<name>.yaml files that render "
            "writes; remove these (git rm) — symbolic links, other files and directories "
            "there are refused",
        )


def refuse_links_between(root: Path, directory: Path) -> None:
    current = root
    for part in directory.relative_to(root).parts:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            raise InvalidInput(
                f"{_shown(root, current)} is not a directory"
                + (f" but a symbolic link to {current.readlink()}" if current.is_symlink() else ""),
                hint="the output directory and each environment's directory in it must be "
                "real directories inside the project; remove it (git rm) and render again",
            )


def _is_real(path: Path, kind: Callable[[int], bool]) -> bool:
    # lstat: a link is never taken for what it points to.
    return kind(path.lstat().st_mode)


def _shown(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()
