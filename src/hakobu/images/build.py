"""The build plan: the images a registry lacks, bases first, as builder commands.

Each in-repository base a Dockerfile names is pinned to the tag hakobu computed with
``--build-context <reference>=docker-image://<repository>:<tag>``, so the build uses
exactly the base its tag was computed from, whatever tag the Dockerfile writes
(``:latest`` included). The two builders look the reference up differently: BuildKit by
its familiar name, where ``:latest`` is implied (``shop/base:latest`` and ``shop/base``
are one context), buildah by the text as the Dockerfile writes it, tag and all, and for
a ``FROM`` before expanding its variables (``${BASE}``). Commands run in the project root,
where the paths of ``hakobu.yaml`` are relative to.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hakobu.errors import OperationFailed
from hakobu.images.tags import BaseUse, ImageTag, TagSet
from hakobu.model.images import ImageSpec

BUILDERS = ("docker", "buildah")


@dataclass(frozen=True)
class BuildStep:
    image: str
    reference: str
    reason: str
    commands: tuple[tuple[str, ...], ...]


def plan_builds(
    tags: TagSet,
    specs: Sequence[ImageSpec],
    present: Mapping[str, bool | None],
    *,
    builder: str = "docker",
    push: bool = False,
) -> tuple[BuildStep, ...]:
    """Steps for every image not known to be in its registry, in build order.

    ``present`` says per image whether its registry has the tag (None: unknown, which is
    built: a build that was not needed costs time, one that was skipped breaks a deploy).
    """
    by_name = {spec.name: spec for spec in specs}
    steps = []
    for name in tags.order:
        state = present.get(name)
        if state:
            continue
        tag = tags.tags[name]
        commands = [build_command(by_name[name], tag, tags, builder)]
        if push:
            commands.append((builder, "push", tag.reference))
        reason = "not in the registry" if state is False else "registry status unknown"
        steps.append(BuildStep(name, tag.reference, reason, tuple(commands)))
    return tuple(steps)


def build_command(spec: ImageSpec, tag: ImageTag, tags: TagSet, builder: str) -> tuple[str, ...]:
    command = [builder, "build", "-t", tag.reference, "-f", spec.dockerfile]
    for key, value in spec.build_args:
        command += ["--build-arg", f"{key}={value}"]
    # One flag per name the builder looks up: BuildKit takes `base` and `base:latest` as one.
    contexts = {_context_name(base, builder): base.name for base in tag.bases}
    for name, base in sorted(contexts.items()):
        command += ["--build-context", f"{name}=docker-image://{tags.tags[base].reference}"]
    command.append(spec.context)
    return tuple(command)


def _context_name(base: BaseUse, builder: str) -> str:
    if builder == "docker":
        return base.reference.removesuffix(":latest")
    return base.written


def format_command(command: Sequence[str]) -> str:
    return shlex.join(command)


Runner = Callable[[Sequence[str], Path], int]


def run_command(command: Sequence[str], cwd: Path) -> int:
    try:
        return subprocess.run(command, cwd=cwd, check=False).returncode
    except FileNotFoundError:
        raise OperationFailed(
            f"{command[0]} is not installed (needed to build images)",
            hint=f"install {command[0]}, or choose another with --builder ({', '.join(BUILDERS)})",
        ) from None


def execute(
    steps: Sequence[BuildStep],
    cwd: Path,
    progress: Callable[[str], None],
    runner: Runner = run_command,
) -> None:
    """Run each step's commands in order; the first failure stops the rest."""
    for number, step in enumerate(steps, start=1):
        progress(f"[{number}/{len(steps)}] {step.reference} ({step.reason})")
        for command in step.commands:
            code = runner(command, cwd)
            if code != 0:
                raise OperationFailed(
                    f"building {step.image} failed: `{format_command(command)}` exited with {code}",
                    hint="images after it were not built; fix the build and run again "
                    "(images already built are skipped when pushed)",
                )
