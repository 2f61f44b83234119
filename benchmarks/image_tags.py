"""Benchmark: image tags from git trees against hashing every input file.

Generates a monorepo of N services (100 files each by default, so 500 services make 50,000
files) built on a few in-repo base images, some with a ``.dockerignore``, and commits it
in two commits (so HEAD~1 exists, as ``hakobu images`` compares with it) with one
``git fast-import``. Then, in one run:

- hakobu computes every tag exactly as ``hakobu images --offline`` does (the command run in
  this process: reading ``hakobu.yaml``, the work-tree check, the tags now, at HEAD~1 and,
  when dirty, at HEAD), once with an empty tag cache (a fresh checkout) and once
  with the cache a previous run left (every later run);
- the peer hashes every input file, as Skaffold's ``inputDigest`` tagger does (walk the
  context honouring ``.dockerignore``; per file: mode, relative path and content; the
  sorted file hashes, the Dockerfile, the build arguments and the base image's digest
  make the digest), reimplemented here in Python, given its list of images.

Times and ratios are printed, with ``git status`` on the same tree for scale: a check for
uncommitted changes stats every tracked file, which no cache can skip. Then the work tree
is made dirty (edits, a new file, a deletion, an edit to an ignored file, a base image's
Dockerfile) and both are run again; the benchmark checks that hakobu's tag changed for
exactly the services whose inputs changed, that tags with and without the cache agree,
and fails otherwise.

    python benchmarks/image_tags.py [--services 500] [--files 100] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from hakobu.cli.main import main as hakobu_main
from hakobu.images.cache import TagCache, cache_directory
from hakobu.images.dockerignore import Matcher, parse
from hakobu.images.project import ProjectImages, open_project
from hakobu.images.tags import compute_tags
from hakobu.repo.snapshot import Snapshot

BASES = 5
REGISTRY = "registry.example.com/shop"
DOCKERIGNORE = "# keep docs and tests out of the image\n**/*.md\ntests\n!tests/fixtures\n"
T = TypeVar("T")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--files", type=int, default=100, help="files per service")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--keep", type=Path, help="generate here and keep it")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        return run(args.keep, args.services, args.files, args.repeat)
    with tempfile.TemporaryDirectory(prefix="hakobu-image-tags-") as tmp:
        return run(Path(tmp), args.services, args.files, args.repeat)


def run(root: Path, services: int, files: int, repeat: int) -> int:
    started = time.perf_counter()
    count = generate(root, services, files)
    print(
        f"generated {services} services + {BASES} base images, {count} files committed, "
        f"in {time.perf_counter() - started:.1f}s"
    )
    project = open_project(root)
    committed, uncached = best_of(repeat, lambda: committed_tags(project))
    git_status, _ = best_of(repeat, lambda: subprocess.run(GIT_STATUS, cwd=root, check=True))
    cold, ours_cold = best_of(repeat, lambda: hakobu_images(root, fresh=True))
    warm, ours = best_of(repeat, lambda: hakobu_images(root))
    clean_peer, peer = best_of(repeat, lambda: per_file_tags(root, services))
    report("clean tree, committed trees only, no cache (CI checkout)", committed, clean_peer)
    report("clean tree, `hakobu images`, empty cache (first run)", cold, clean_peer)
    report("clean tree, `hakobu images`, cache of the last run", warm, clean_peer)
    print(f"  for scale: `{' '.join(GIT_STATUS)}` alone takes {git_status * 1000:.1f} ms")

    expected = make_dirty(root, services)
    dirty_ours, ours_after = best_of(repeat, lambda: hakobu_images(root))
    dirty_peer, peer_after = best_of(repeat, lambda: per_file_tags(root, services))
    report("dirty tree, `hakobu images`, cache of the last run", dirty_ours, dirty_peer)
    _, ours_after_cold = best_of(1, lambda: hakobu_images(root, fresh=True))

    changed_ours = {name for name in ours if ours[name] != ours_after[name]}
    changed_peer = {name for name in peer if peer[name] != peer_after[name]}
    dirty_marked = {name for name, tag in ours_after.items() if tag.endswith("-dirty")}
    print(
        f"expected to change: {len(expected)} images; hakobu: {len(changed_ours)}; "
        f"per-file: {len(changed_peer)}"
    )
    problems = []
    if not (uncached == ours_cold == ours):
        problems.append("clean tree: tags differ between no cache, empty cache and warm cache")
    if ours_after_cold != ours_after:
        problems.append("dirty tree: tags differ between an empty and a warm cache")
    if changed_ours != expected:
        problems.append(
            f"hakobu changed {sorted(changed_ours - expected)} unexpectedly and missed "
            f"{sorted(expected - changed_ours)}"
        )
    if dirty_marked != expected:
        problems.append(
            f"-dirty marks differ from the changed images: {sorted(dirty_marked ^ expected)}"
        )
    if changed_peer != expected:
        problems.append(f"per-file peer disagrees: {sorted(changed_peer ^ expected)}")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if not problems:
        print("ok: tags changed for exactly the images whose inputs changed")
    return 1 if problems else 0


GIT_STATUS = ["git", "status", "--porcelain", "--untracked-files=all"]


def best_of(repeat: int, action: Callable[[], T]) -> tuple[float, T]:
    best = float("inf")
    result: T | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    if result is None:
        raise ValueError("repeat must be at least 1")
    return best, result


def report(label: str, ours: float, peer: float) -> None:
    print(
        f"{label}:\n  hakobu {ours * 1000:8.1f} ms   per-file hashing {peer * 1000:8.1f} ms   "
        f"ratio {peer / ours:5.1f}x"
    )


def hakobu_images(root: Path, *, fresh: bool = False) -> dict[str, str]:
    """``hakobu images --offline -o json``, run in this process; ``fresh``: with no cache."""
    if fresh:
        shutil.rmtree(cache_directory(root), ignore_errors=True)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = hakobu_main(["images", "--offline", "-o", "json", "-C", str(root)])
    if code != 0:
        raise RuntimeError(f"hakobu images exited with {code}")
    return {row["name"]: row["tag"] for row in json.loads(output.getvalue())}


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
    images = []
    for b in range(BASES):
        entries.append(
            (f"images/base-{b}/Dockerfile", f"FROM debian:12\nRUN echo base {b}\n".encode())
        )
        entries.append((f"images/base-{b}/setup.sh", f"#!/bin/sh\necho {b}\n".encode()))
        images.append(f"- name: base-{b}\n  context: images/base-{b}\n  registry: {REGISTRY}\n")
    for i in range(services):
        name = service_name(i)
        base = i % BASES
        dockerfile = (
            f"ARG BASE={REGISTRY}/base-{base}:latest\n"
            "FROM ${BASE} AS build\nCOPY . /src\nRUN make -C /src\n"
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
        images.append(f"- name: {name}\n  context: services/{name}\n  registry: {REGISTRY}\n")
    entries.append(("hakobu.yaml", ("images:\n" + "".join(images)).encode()))
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
    digests: dict[str, str] = {}
    for b in range(BASES):
        digests[f"base-{b}"] = input_digest(root / "images" / f"base-{b}", "")
    for i in range(services):
        name = service_name(i)
        digests[name] = input_digest(root / "services" / name, digests[f"base-{i % BASES}"])
    return digests


def input_digest(context: Path, base_digest: str) -> str:
    ignore = context / ".dockerignore"
    matcher = parse(ignore.read_text(), str(ignore)) if ignore.exists() else Matcher(())
    hashes = [file_hash(context, path) for path in sorted(context_files(context, matcher))]
    hashes.append(file_hash(context, "Dockerfile"))
    hashes.append(hashlib.sha256(f"base={base_digest}".encode()).hexdigest())
    return hashlib.sha256("".join(hashes).encode()).hexdigest()


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


def file_hash(context: Path, relative: str) -> str:
    path = context / relative
    digest = hashlib.sha256()
    info = path.lstat()
    digest.update(oct(info.st_mode).encode())
    digest.update(relative.encode())
    with path.open("rb") as f:
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
