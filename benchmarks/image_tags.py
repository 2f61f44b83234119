"""Benchmark: image tags from git trees against Skaffold's inputDigest tagger.

Generates a monorepo of N services (100 files each by default, so 500 services make 50,000
files) built on a few in-repo base images, some with a ``.dockerignore``, with a
``skaffold.yaml`` listing the same images (each service ``requires`` its base), and commits
it in two commits (so HEAD~1 exists, as ``hakobu images`` compares with it) with one
``git fast-import``. Then, in one run, each timed as the best of a few runs:

- hakobu: ``hakobu images --offline -o json``, a new process (reading ``hakobu.yaml``, the
  work-tree check, the tags now, at HEAD~1 and, when dirty, at HEAD), once with an empty
  tag cache (a fresh checkout) and once with the cache a previous run left (every later
  run); the committed trees alone are also timed as a library call;
- Skaffold (the real one, built from its Go module by ``skaffold_peer.py``):
  ``skaffold build --dry-run --quiet`` with the ``inputDigest`` tag policy, a new process:
  per artifact it lists the Dockerfile's inputs (honouring ``.dockerignore``) and those of
  the artifacts it requires, hashes each file's path and content, and hashes the list;
- per-file hashing, the same scheme reimplemented in Python and run in this process, kept
  for scale and for a machine where Skaffold cannot be built (the output then says why).

Times and ratios are printed, with ``git status`` on the same tree for scale: a check for
uncommitted changes stats every tracked file, which no cache can skip. Then the work tree
is made dirty (edits, a new file, a deletion, an edit to an ignored file, a base image's
Dockerfile) and all are run again. Tags are not comparable across the tools (hakobu names
git ids, Skaffold file digests), so the result compared is which images' tags changed: it
must be exactly the images whose inputs changed, for every tool; hakobu's tags with and
without the cache must agree, and the Python reimplementation must give Skaffold's own
tags. The benchmark fails otherwise.

    python benchmarks/image_tags.py [--services 500] [--files 100] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from skaffold_peer import SKAFFOLD_VERSION, NotBuilt, ensure_skaffold

from hakobu.images.cache import TagCache, cache_directory
from hakobu.images.dockerignore import Matcher, parse
from hakobu.images.project import ProjectImages, open_project
from hakobu.images.tags import compute_tags
from hakobu.repo.snapshot import Snapshot

BASES = 5
REGISTRY = "registry.example.com/shop"
DOCKERIGNORE = "# keep docs and tests out of the image\n**/*.md\ntests\n!tests/fixtures\n"
T = TypeVar("T")
# Each service `requires` its base, so the base's inputs are in the service's digest. Not
# under the alias BASE, as a build would need it: when the FROM line names a required
# image, the tagger asks a registry for its ONBUILD triggers (of a placeholder image,
# `image:latest`), which fails offline and makes Skaffold fall back to another tagger.
SKAFFOLD_HEADER = """\
apiVersion: skaffold/v4beta13
kind: Config
build:
  tagPolicy:
    inputDigest: {}
  local:
    push: false
  artifacts:
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--files", type=int, default=100, help="files per service")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--keep", type=Path, help="generate here and keep it")
    args = parser.parse_args()
    try:
        skaffold: Path | None = ensure_skaffold(lambda line: print(line, file=sys.stderr))
        print(f"Skaffold {SKAFFOLD_VERSION}: {skaffold}")
    except NotBuilt as error:
        skaffold = None
        print(
            f"Skaffold {SKAFFOLD_VERSION} could not be built here ({error}); "
            "the per-file peer below stands in for it"
        )
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        return run(args.keep, args.services, args.files, args.repeat, skaffold)
    with tempfile.TemporaryDirectory(prefix="hakobu-image-tags-") as tmp:
        return run(Path(tmp), args.services, args.files, args.repeat, skaffold)


def run(root: Path, services: int, files: int, repeat: int, skaffold: Path | None) -> int:
    started = time.perf_counter()
    count = generate(root, services, files)
    print(
        f"generated {services} services + {BASES} base images, {count} files committed, "
        f"in {time.perf_counter() - started:.1f}s"
    )
    print(
        "  hakobu:   `hakobu images --offline -o json`, a new process: per image, a digest "
        "of git ids (context tree or its files' blobs, Dockerfile, base images' tags) plus "
        "uncommitted changes, stat-cached"
    )
    if skaffold:
        print(
            "  skaffold: `skaffold build --dry-run --quiet`, tag policy inputDigest, a new "
            "process: per artifact, MD5 of each input file's path and content (Dockerfile's "
            "COPY sources less .dockerignore, and those of required artifacts), SHA-256 of "
            "the list"
        )
    print("  per-file: the same inputDigest scheme reimplemented in Python, run in this process")
    project = open_project(root)
    committed, uncached = best_of(repeat, lambda: committed_tags(project))
    git_status, _ = best_of(repeat, lambda: subprocess.run(GIT_STATUS, cwd=root, check=True))
    cold, ours_cold = best_of(repeat, lambda: hakobu_images(root), prepare=clear_cache(root))
    warm, ours = best_of(repeat, lambda: hakobu_images(root))
    clean_peer, peer = best_of(repeat, lambda: per_file_tags(root, services))
    clean_real, real = peer_run(skaffold, repeat, root)
    report(
        "clean tree, committed trees only, no cache (CI checkout; library call)",
        committed,
        clean_real,
        clean_peer,
    )
    report("clean tree, `hakobu images`, empty cache (first run)", cold, clean_real, clean_peer)
    report("clean tree, `hakobu images`, cache of the last run", warm, clean_real, clean_peer)
    print(f"  for scale: `{' '.join(GIT_STATUS)}` alone takes {git_status * 1000:.1f} ms")

    expected = make_dirty(root, services)
    dirty_ours, ours_after = best_of(repeat, lambda: hakobu_images(root))
    dirty_peer, peer_after = best_of(repeat, lambda: per_file_tags(root, services))
    dirty_real, real_after = peer_run(skaffold, repeat, root)
    report("dirty tree, `hakobu images`, cache of the last run", dirty_ours, dirty_real, dirty_peer)
    _, ours_after_cold = best_of(1, lambda: hakobu_images(root), prepare=clear_cache(root))

    changed = Changed(
        expected=expected,
        hakobu={name for name in ours if ours[name] != ours_after[name]},
        per_file={name for name in peer if peer[name] != peer_after[name]},
        skaffold={name for name in real if real[name] != real_after.get(name)},
        dirty_marked={name for name, tag in ours_after.items() if tag.endswith("-dirty")},
    )
    print(
        f"expected to change: {len(expected)} images; hakobu: {len(changed.hakobu)}; "
        + (f"skaffold: {len(changed.skaffold)}; " if skaffold else "")
        + f"per-file: {len(changed.per_file)}"
    )
    problems = []
    if not (uncached == ours_cold == ours):
        problems.append("clean tree: tags differ between no cache, empty cache and warm cache")
    if ours_after_cold != ours_after:
        problems.append("dirty tree: tags differ between an empty and a warm cache")
    problems += changed.problems(skaffold is not None)
    if skaffold:
        problems += same_digests((("clean", peer, real), ("dirty", peer_after, real_after)))
        if not problems:
            print(
                f"ok: the Python inputDigest equals Skaffold's own tag for all {len(real)} "
                "images, clean and dirty"
            )
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if not problems:
        print("ok: tags changed for exactly the images whose inputs changed, for every tool")
    return 1 if problems else 0


@dataclass(frozen=True)
class Changed:
    """Which images' tags each tool changed when the work tree was made dirty."""

    expected: set[str]
    hakobu: set[str]
    per_file: set[str]
    skaffold: set[str]
    dirty_marked: set[str]

    def problems(self, with_skaffold: bool) -> list[str]:
        found = []
        if self.hakobu != self.expected:
            found.append(
                f"hakobu changed {sorted(self.hakobu - self.expected)} unexpectedly and missed "
                f"{sorted(self.expected - self.hakobu)}"
            )
        if self.dirty_marked != self.expected:
            found.append(
                "-dirty marks differ from the changed images: "
                f"{sorted(self.dirty_marked ^ self.expected)}"
            )
        if self.per_file != self.expected:
            found.append(f"per-file peer disagrees: {sorted(self.per_file ^ self.expected)}")
        if with_skaffold and self.skaffold != self.expected:
            found.append(f"skaffold disagrees: {sorted(self.skaffold ^ self.expected)}")
        return found


def same_digests(runs: tuple[tuple[str, dict[str, str], dict[str, str]], ...]) -> list[str]:
    """The Python inputDigest must give Skaffold's own tags, or it measures something else."""
    found = []
    for when, mine, theirs in runs:
        differing = sorted(name for name in theirs if mine.get(name) != theirs[name])
        if differing or mine.keys() != theirs.keys():
            found.append(
                f"{when} tree: the Python inputDigest differs from Skaffold's for "
                f"{len(differing)} images, e.g. {differing[:3]}"
            )
    return found


GIT_STATUS = ["git", "status", "--porcelain", "--untracked-files=all"]


def best_of(
    repeat: int, action: Callable[[], T], *, prepare: Callable[[], object] | None = None
) -> tuple[float, T]:
    """The least disturbed of ``repeat`` runs; ``prepare`` runs before each, untimed."""
    best = float("inf")
    result: T | None = None
    for _ in range(repeat):
        if prepare:
            prepare()
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    if result is None:
        raise ValueError("repeat must be at least 1")
    return best, result


def report(label: str, ours: float, skaffold: float | None, peer: float) -> None:
    real = (
        ""
        if skaffold is None
        else (f"skaffold {skaffold * 1000:8.1f} ms (ratio {skaffold / ours:5.1f}x)   ")
    )
    print(
        f"{label}:\n  hakobu {ours * 1000:8.1f} ms   {real}per-file hashing "
        f"{peer * 1000:8.1f} ms (ratio {peer / ours:5.1f}x)"
    )


def clear_cache(root: Path) -> Callable[[], None]:
    """Empty hakobu's tag cache, as a fresh checkout has it."""
    return lambda: shutil.rmtree(cache_directory(root), ignore_errors=True)


def hakobu_images(root: Path) -> dict[str, str]:
    """``hakobu images --offline -o json``, a new process."""
    command = [sys.executable, "-m", "hakobu", "images", "--offline", "-o", "json"]
    done = subprocess.run([*command, "-C", str(root)], check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"hakobu images exited with {done.returncode}: {done.stderr[-2000:]}")
    return {row["name"]: row["tag"] for row in json.loads(done.stdout)}


def peer_run(skaffold: Path | None, repeat: int, root: Path) -> tuple[float | None, dict[str, str]]:
    if skaffold is None:
        return None, {}
    return best_of(repeat, lambda: skaffold_tags(skaffold, root))


# Skaffold must not try to reach the network (its update check) or ask questions.
_DIGEST = re.compile(r"[0-9a-f]{64}")
SKAFFOLD_FLAGS = ["--dry-run", "--quiet", "--update-check=false", "--interactive=false"]


def skaffold_tags(skaffold: Path, root: Path) -> dict[str, str]:
    """``skaffold build --dry-run``: every artifact's tag, computed but not built."""
    done = subprocess.run(
        [str(skaffold), "build", *SKAFFOLD_FLAGS],
        check=False,
        cwd=root,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"skaffold build exited with {done.returncode}: {done.stderr[-2000:]}")
    tags = {
        build["imageName"].rsplit("/", 1)[1]: build["tag"].rsplit(":", 1)[1]
        for build in json.loads(done.stdout)["builds"]
    }
    # inputDigest gives a SHA-256; anything else is the tagger Skaffold falls back to.
    fallen_back = sorted(name for name, tag in tags.items() if not _DIGEST.fullmatch(tag))
    if fallen_back:
        raise RuntimeError(f"skaffold did not use inputDigest for {fallen_back[:3]}")
    return tags


def committed_tags(project: ProjectImages) -> dict[str, str]:
    """Tags of HEAD as committed, without the work tree or any cache (`--revision`-style)."""
    snapshot = Snapshot.at(project.repo)
    if snapshot is None:
        raise ValueError("no commit")
    tags = compute_tags(snapshot, project.specs, project.prefix, cache=TagCache())
    return {name: tag.tag for name, tag in tags.tags.items()}


# --- the generated monorepo -------------------------------------------------------------


def service_name(i: int) -> str:
    return f"svc-{i:04d}"


def generate(root: Path, services: int, files: int) -> int:
    """Write the project with one `git fast-import` and check it out; returns the file count."""
    rng = random.Random(42)  # noqa: S311 - reproducible filler text, not a secret
    words = [
        f"{rng.choice('abcdefghijklmnopqrstuvwxyz')}{rng.randrange(10**6)}" for _ in range(5000)
    ]
    block = " ".join(words).encode()
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    entries: list[tuple[str, bytes]] = []
    images, artifacts = [], []
    for b in range(BASES):
        entries.append(
            # FROM scratch: Skaffold reads every other external base image's config from
            # its registry (for ONBUILD triggers), and this machine has none to reach.
            (f"images/base-{b}/Dockerfile", b"FROM scratch\nCOPY setup.sh /setup.sh\n")
        )
        entries.append((f"images/base-{b}/setup.sh", f"#!/bin/sh\necho {b}\n".encode()))
        images.append(f"- name: base-{b}\n  context: images/base-{b}\n  registry: {REGISTRY}\n")
        artifacts.append(f"  - image: {REGISTRY}/base-{b}\n    context: images/base-{b}\n")
    for i in range(services):
        name = service_name(i)
        base = i % BASES
        # The base comes in as a build argument (hakobu.yaml's buildArgs); Skaffold's
        # `requires` gives it an alias the Dockerfile does not use, see SKAFFOLD_HEADER.
        dockerfile = (
            "ARG BASE\nFROM ${BASE} AS build\nCOPY . /src\nRUN make -C /src\n"
            "FROM build\nCOPY --from=build /src/out /app\n"
        )
        entries.append((f"services/{name}/Dockerfile", dockerfile.encode()))
        own = 1
        if i % 5 == 0:
            entries.append((f"services/{name}/.dockerignore", DOCKERIGNORE.encode()))
            own += 1
        for j in range(files - own):
            directory = ("src", "src/handlers", "lib", "tests", "tests/fixtures", "docs")[j % 6]
            suffix = ".md" if directory == "docs" else ".py"
            start = rng.randrange(len(block) - 8000)
            size = rng.randrange(200, 4000)
            content = f"# {name} file {j}\n".encode() + block[start : start + size]
            entries.append((f"services/{name}/{directory}/f{j:03d}{suffix}", content))
        images.append(
            f"- name: {name}\n  context: services/{name}\n  registry: {REGISTRY}\n"
            f"  buildArgs: {{BASE: {REGISTRY}/base-{base}:latest}}\n"
        )
        artifacts.append(
            f"  - image: {REGISTRY}/{name}\n    context: services/{name}\n    requires:\n"
            f"    - image: {REGISTRY}/base-{base}\n      alias: BASE_IMAGE\n"
        )
    entries.append(("hakobu.yaml", ("images:\n" + "".join(images)).encode()))
    entries.append(("skaffold.yaml", (SKAFFOLD_HEADER + "".join(artifacts)).encode()))
    stream = bytearray()
    # The second commit changes one service, so HEAD~1 has tags to compare with.
    first = service_name(services - 1)
    second = [(f"services/{first}/src/f000.py", b"print('second commit')\n")]
    for number, (message, changes) in enumerate((("generate", entries), ("change", second))):
        stream += b"commit refs/heads/main\n"
        stream += b"committer Bench <bench@example.com> %d +0000\n" % number
        stream += b"data %d\n%s\n" % (len(message), message.encode())
        for path, content in changes:
            mode = b"100755" if path.endswith(".sh") else b"100644"
            stream += b"M " + mode + b" inline " + path.encode() + b"\n"
            stream += b"data %d\n" % len(content) + content + b"\n"
    subprocess.run(
        ["git", "-C", str(root), "fast-import", "--quiet"], input=bytes(stream), check=True
    )
    subprocess.run(["git", "-C", str(root), "reset", "-q", "--hard", "main"], check=True)
    return len(entries)


def make_dirty(root: Path, services: int) -> set[str]:
    """Change the work tree; returns the images whose inputs now differ."""
    expected = set()
    for i in (1, 2, 3):
        file = root / "services" / service_name(i) / "src" / "f000.py"
        file.write_text(file.read_text() + "# edited\n")
        expected.add(service_name(i))
    (root / "services" / service_name(7) / "src" / "new.py").write_text("print('new')\n")
    expected.add(service_name(7))
    (root / "services" / service_name(8) / "lib" / "f002.py").unlink()
    expected.add(service_name(8))
    # Service 10 has a .dockerignore keeping docs out: editing a doc changes nothing.
    (root / "services" / service_name(10) / "docs" / "f005.md").write_text("changed\n")
    # …but a test fixture is re-included by its `!tests/fixtures` line.
    fixture = root / "services" / service_name(15) / "tests" / "fixtures" / "f004.py"
    fixture.write_text("changed\n")
    expected.add(service_name(15))
    # A base image: every service built on it changes.
    base = root / "images" / "base-4" / "Dockerfile"
    base.write_text(base.read_text() + "RUN echo patched\n")
    expected.add("base-4")
    expected.update(service_name(i) for i in range(services) if i % BASES == 4)
    return expected


# --- the per-file peer (Skaffold's inputDigest, reimplemented) ---------------------------


def per_file_tags(root: Path, services: int) -> dict[str, str]:
    """As pkg/skaffold/tag/input_digest.go: an artifact's inputs are its own files and, in
    turn, those of the artifacts it requires."""
    inputs: dict[str, list[str]] = {}
    digests: dict[str, str] = {}
    for b in range(BASES):
        workspace = root / "images" / f"base-{b}"
        inputs[f"base-{b}"] = context_inputs(workspace)
        digests[f"base-{b}"] = input_digest(workspace, inputs[f"base-{b}"])
    for i in range(services):
        name, workspace = service_name(i), root / "services" / service_name(i)
        own = context_inputs(workspace)
        digests[name] = input_digest(workspace, own + inputs[f"base-{i % BASES}"])
    return digests


def context_inputs(workspace: Path) -> list[str]:
    """Absolute paths of what ``COPY .`` sends: the context less what ``.dockerignore``
    excludes, less the ``.dockerignore`` itself, plus the Dockerfile."""
    ignore = workspace / ".dockerignore"
    matcher = parse(ignore.read_text(), str(ignore)) if ignore.exists() else Matcher(())
    found = set(context_files(workspace, matcher)) - {".dockerignore"}
    found.add("Dockerfile")
    return [str(workspace / relative) for relative in found]


def input_digest(workspace: Path, paths: list[str]) -> str:
    hashes = [file_hash(workspace, path) for path in sorted(paths)]
    # Go's json.Encoder: compact, with a newline after the value.
    encoded = json.dumps(hashes, separators=(",", ":")) + "\n"
    return hashlib.sha256(encoded.encode()).hexdigest()


def context_files(context: Path, matcher: Matcher) -> list[str]:
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(context):
        relative_dir = os.path.relpath(directory, context)
        prefix = "" if relative_dir == "." else relative_dir + "/"
        if matcher.patterns:
            dirnames[:] = [
                d
                for d in dirnames
                if not (matcher.excluded(prefix + d) and matcher.skips_directory(prefix + d))
            ]
        found.extend(
            prefix + f
            for f in filenames
            if not matcher.patterns or not matcher.excluded(prefix + f)
        )
    return found


def file_hash(workspace: Path, path: str) -> str:
    """MD5 of the path relative to the artifact's workspace, then of a regular file's
    content."""
    digest = hashlib.md5()  # noqa: S324 - Skaffold's choice, reproduced, not a security use
    digest.update(os.path.relpath(path, workspace).encode())
    if stat.S_ISREG(os.lstat(path).st_mode):
        with Path(path).open("rb") as f:
            shutil.copyfileobj(f, _Writer(digest))
    return digest.hexdigest()


class _Writer:
    def __init__(self, digest: hashlib._Hash) -> None:
        self.digest = digest

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)


if __name__ == "__main__":
    sys.exit(main())
