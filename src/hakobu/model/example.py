"""Write the example project of ``hakobu init`` into a directory: all of it, or nothing.

Existing files are never overwritten (a link counts as existing, even one that leads
nowhere, so nothing is written through it), and a write that fails midway removes what it
had written, so a failed ``init`` leaves the directory as it found it.
"""

from __future__ import annotations

import os
from pathlib import Path

from hakobu.errors import InvalidInput
from hakobu.model.project import PROJECT_FILE


def write_example(target: Path, files: dict[Path, bytes]) -> None:
    if os.path.lexists(target) and not target.is_dir():
        raise InvalidInput(
            f"{target} exists and is not a directory",
            hint="give hakobu init a directory (it is created when missing)",
        )
    if os.path.lexists(target / PROJECT_FILE):
        raise InvalidInput(f"{target / PROJECT_FILE} already exists; this is a project already")
    clashes = sorted(str(target / p) for p in files if _taken(target, p))
    if clashes:
        raise InvalidInput(
            f"hakobu init would overwrite {', '.join(clashes)}",
            hint="run it in an empty directory, or move those files away first",
        )
    made: list[Path] = []
    try:
        for relative, content in sorted(files.items()):
            path = target / relative
            for directory in reversed([path.parent, *path.parent.parents]):
                if not os.path.lexists(directory):
                    directory.mkdir()
                    made.append(directory)
            with path.open("xb") as handle:
                made.append(path)
                handle.write(content)
    except OSError as e:
        for path in reversed(made):
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink(missing_ok=True)
        raise InvalidInput(
            f"cannot write the example project into {target}: {e.strerror} ({e.filename})",
            hint="choose a directory you can write to",
        ) from None


def _taken(target: Path, relative: Path) -> bool:
    """True when writing ``relative`` would replace something or pass through a non-directory."""
    path = target / relative
    if os.path.lexists(path):
        return True
    return any(
        os.path.lexists(parent) and (parent.is_symlink() or not parent.is_dir())
        for parent in path.parents
        if parent != target and target in parent.parents
    )
