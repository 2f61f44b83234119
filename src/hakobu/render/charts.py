"""Chart apps: a Helm chart rendered exactly as ``helm template`` renders it.

A chart app is a directory of the apps directory that holds either

- ``Chart.yaml``: the directory *is* the chart (templates/, values.yaml, charts/ …), or
- ``helm.yaml``: a chart pinned in an OCI registry or a chart repository::

      chart:
        repository: oci://registry.example.com/charts   # or https://charts.example.com
        name: web
        version: 1.4.2
        plainHTTP: false        # true only for a registry on plain HTTP (a local one)

  with ``helm.lock`` beside it holding the digest (sha256 of the chart archive) that
  ``hakobu chart lock`` recorded. A render refuses a chart whose lock is missing, names
  another chart or version, or whose archive does not have the recorded digest, before
  anything renders. Pulled archives are cached by digest in the user's cache directory.

Values are layered as for template apps: the chart's own ``values.yaml``, then the app's
``values.yaml`` (for a pinned chart; an in-repository chart's ``values.yaml`` is its own),
then ``values-<env>.yaml``. The release is named after the app, its namespace is the
environment's, CRDs are included, and charts see the Kubernetes version hakobu pins
(``Helm.kube_version``) since rendering is offline and must not depend on a cluster.

An in-repository chart is read through ``Inputs`` (so the render cache sees every file of
it) and copied, links resolved, into a fresh directory that helm renders; a symbolic link
that leads out of the chart is refused. helm itself runs bounded and isolated (``helm``).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hakobu.errors import InvalidInput, OperationFailed
from hakobu.model.objects import Object
from hakobu.model.source import SourceError, load_documents, load_one
from hakobu.model.usercache import cache_root
from hakobu.render import helm as helm_process
from hakobu.render.helm import Helm
from hakobu.render.inputs import FileAccess, Inputs, kind_of

CHART_FILE = "Chart.yaml"
SOURCE_FILE = "helm.yaml"
LOCK_FILE = "helm.lock"
# Bounds on an in-repository chart, beyond each file's own: far past real charts (the
# largest public ones hold a few hundred files).
MAX_CHART_FILES = 5000
MAX_CHART_BYTES = 64 << 20

_SOURCE_KEYS = {"repository", "name", "version", "plainHTTP"}
_LOCK_KEYS = ("repository", "name", "version", "digest")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$")
_DOCUMENT_START = re.compile(r"^---[ \t]*$", re.MULTILINE)
_SOURCE_COMMENT = re.compile(r"^# Source: (\S+)")


@dataclass(frozen=True)
class PinnedChart:
    """A chart in a registry or repository, at one version."""

    repository: str
    name: str
    version: str
    plain_http: bool = False

    @property
    def reference(self) -> str:
        return f"{self.repository.rstrip('/')}/{self.name} {self.version}"


@dataclass(frozen=True)
class Lock:
    chart: PinnedChart
    digest: str


def is_chart_app(path: Path, inputs: Inputs) -> bool:
    return inputs.is_file(path / CHART_FILE) or inputs.is_file(path / SOURCE_FILE)


def render_chart(
    app: str, path: Path, *, environment: str, namespace: str, inputs: Inputs, helm: Helm
) -> list[Object]:
    """The objects ``helm template`` renders of the chart app at ``path`` in ``environment``."""
    pinned = inputs.is_file(path / SOURCE_FILE)
    if pinned and inputs.is_file(path / CHART_FILE):
        raise SourceError(
            path / SOURCE_FILE,
            f"the app holds a chart ({CHART_FILE}) and pins one ({SOURCE_FILE}): which is it?",
            hint=f"keep {CHART_FILE} for a chart in the repository, or {SOURCE_FILE} for a "
            "chart from a registry",
        )
    with tempfile.TemporaryDirectory(prefix="hakobu-helm-") as temporary:
        home = Path(temporary)
        if pinned:
            chart = read_source(path, inputs)
            lock = read_lock(path, chart, inputs)
            target = fetch(chart, lock.digest, helm, where=path / LOCK_FILE)
            layers = ["values.yaml", f"values-{environment}.yaml"]
        else:
            target = home / "chart"
            copy_chart(path, target, inputs)
            layers = [f"values-{environment}.yaml"]
        args = [
            "template",
            app,
            str(target),
            "--namespace",
            namespace,
            "--kube-version",
            helm.kube_version,
            "--include-crds",
        ]
        for index, name in enumerate(layers):
            if inputs.is_file(path / name):
                copy = home / f"values-{index}.yaml"
                copy.write_bytes(inputs.read_bytes(path / name))
                args += ["--values", str(copy)]
        outcome = helm_process.run(
            helm, args, home=home, seconds=helm_process.TEMPLATE_SECONDS, offline=True
        )
    if not outcome.ok:
        raise InvalidInput(
            f"app {app!r}, environment {environment!r}: helm template failed:\n{outcome.message()}",
            hint=f"the chart is {path / (SOURCE_FILE if pinned else CHART_FILE)}",
        )
    return parse_manifests(path, outcome.stdout)


def parse_manifests(path: Path, text: str) -> list[Object]:
    """The objects of ``helm template``'s output, each document bounded on its own and
    named in errors by the template it came from."""
    objects: list[Object] = []
    for chunk in _DOCUMENT_START.split(text):
        source = _SOURCE_COMMENT.match(chunk.lstrip("\n"))
        file = path / source.group(1) if source else path / "(helm template)"
        for document in load_documents(file, chunk):
            if document.data is None:
                continue
            if not isinstance(document.data, dict):
                raise document.error((), "expected a Kubernetes object (a mapping)")
            objects.append(document.data)
    return objects


def read_source(path: Path, inputs: Inputs) -> PinnedChart:
    file = path / SOURCE_FILE
    document = load_one(file, inputs.read_text(file))
    data = document.data
    if not isinstance(data, dict) or "chart" not in data:
        raise document.error((), "expected a mapping with the key chart")
    extra = sorted(set(data) - {"chart"})
    if extra:
        raise document.error(
            (extra[0],),
            "unknown field: helm.yaml holds only chart",
            hint="the app's values go in values.yaml and values-<env>.yaml beside helm.yaml",
        )
    chart = data["chart"]
    if not isinstance(chart, dict):
        raise document.error(("chart",), "expected a mapping: repository, name, version")
    unknown = sorted(set(chart) - _SOURCE_KEYS)
    if unknown:
        raise document.error(
            ("chart", unknown[0]),
            "unknown field",
            hint=f"fields: {', '.join(sorted(_SOURCE_KEYS))}",
        )
    for key in ("repository", "name", "version"):
        if not isinstance(chart.get(key), str) or not chart[key]:
            raise document.error(("chart", key), "expected a non-empty string")
    repository = chart["repository"]
    if not repository.startswith(("oci://", "https://", "http://")):
        raise document.error(
            ("chart", "repository"),
            f"{repository!r} is neither an OCI registry nor a chart repository",
            hint="write oci://host/path for a registry, https://host/path for a repository",
        )
    if not _NAME.match(chart["name"]):
        raise document.error(("chart", "name"), f"{chart['name']!r} is not a chart name")
    if chart["version"].startswith("-") or any(c.isspace() for c in chart["version"]):
        raise document.error(("chart", "version"), f"{chart['version']!r} is not a version")
    plain_http = chart.get("plainHTTP", False)
    if not isinstance(plain_http, bool):
        raise document.error(("chart", "plainHTTP"), "expected true or false")
    return PinnedChart(repository, chart["name"], chart["version"], plain_http)


def read_lock(path: Path, chart: PinnedChart, inputs: Inputs) -> Lock:
    """The app's lock, refused unless it pins exactly ``chart``."""
    file = path / LOCK_FILE
    if not inputs.is_file(file):
        raise SourceError(
            path / SOURCE_FILE,
            f"{chart.reference} has no recorded digest: {file} does not exist",
            hint=f"run `hakobu chart lock {path.name}` and commit {LOCK_FILE}",
        )
    document = load_one(file, inputs.read_text(file))
    data = document.data
    if not isinstance(data, dict) or any(not isinstance(data.get(k), str) for k in _LOCK_KEYS):
        raise document.error((), f"expected the fields {', '.join(_LOCK_KEYS)} (strings)")
    for key, wanted in (
        ("repository", chart.repository),
        ("name", chart.name),
        ("version", chart.version),
    ):
        if data[key] != wanted:
            raise document.error(
                (key,),
                f"the lock is for {data[key]!r} but {SOURCE_FILE} says {wanted!r}",
                hint=f"run `hakobu chart lock {path.name}` to record the digest of the chart "
                f"{SOURCE_FILE} names",
            )
    if not _DIGEST.match(data["digest"]):
        raise document.error(("digest",), "expected sha256: and 64 hexadecimal digits")
    return Lock(chart, data["digest"])


def lock_text(lock: Lock) -> str:
    chart = lock.chart
    return (
        f"# The digest of {chart.name} {chart.version}: written by `hakobu chart lock`, "
        "checked on every render.\n"
        f"repository: {chart.repository}\nname: {chart.name}\nversion: {chart.version}\n"
        f"digest: {lock.digest}\n"
    )


def lock_app(path: Path, helm: Helm) -> tuple[Lock, bool]:
    """Pull the chart the app at ``path`` pins, record its digest in ``helm.lock``; return
    the lock and whether the file changed."""
    inputs = Inputs()
    chart = read_source(path, inputs)
    digest, archive = _pull(chart, helm, where=path / SOURCE_FILE)
    try:
        _keep(archive, digest)
    finally:
        shutil.rmtree(archive.parent, ignore_errors=True)
    lock = Lock(chart, digest)
    text = lock_text(lock)
    file = path / LOCK_FILE
    changed = not file.is_file() or file.read_text() != text
    if changed:
        file.write_text(text)
    return lock, changed


def fetch(chart: PinnedChart, digest: str, helm: Helm, *, where: Path) -> Path:
    """The archive of ``chart`` with ``digest``: from the cache, else pulled and checked."""
    cached = _cached(digest)
    if cached.is_file() and _file_digest(cached) == digest:
        return cached
    pulled, archive = _pull(chart, helm, where=where)
    try:
        if pulled != digest:
            raise SourceError(
                where,
                f"{chart.reference} has digest {pulled}, not the {digest} recorded here",
                hint="the chart was published again under the same version; if that is "
                f"expected, run `hakobu chart lock {where.parent.name}` and review the change",
            )
        return _keep(archive, digest)
    finally:
        shutil.rmtree(archive.parent, ignore_errors=True)


def _pull(chart: PinnedChart, helm: Helm, *, where: Path) -> tuple[str, Path]:
    """Pull ``chart`` into a fresh directory; its archive's digest and path."""
    directory = Path(tempfile.mkdtemp(prefix="hakobu-chart-"))
    home = directory / "home"
    home.mkdir()
    if chart.repository.startswith("oci://"):
        args = ["pull", f"{chart.repository.rstrip('/')}/{chart.name}"]
    else:
        args = ["pull", chart.name, "--repo", chart.repository]
    args += ["--version", chart.version, "--destination", str(directory)]
    if chart.plain_http:
        args.append("--plain-http")
    outcome = helm_process.run(
        helm, args, home=home, seconds=helm_process.PULL_SECONDS, offline=False
    )
    archives = sorted(directory.glob("*.tgz"))
    if not outcome.ok or len(archives) != 1:
        shutil.rmtree(directory, ignore_errors=True)
        message = outcome.message() if not outcome.ok else "helm pull wrote no single archive"
        if "not found" in message:
            raise SourceError(
                where,
                f"{chart.reference} is not in {chart.repository}:\n{message}",
                hint="check chart.name and chart.version",
            )
        raise OperationFailed(f"pulling {chart.reference} failed:\n{message}")
    return _file_digest(archives[0]), archives[0]


def _keep(archive: Path, digest: str) -> Path:
    target = _cached(digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    os.close(fd)
    shutil.copyfile(archive, temporary)
    Path(temporary).replace(target)
    return target


def _cached(digest: str) -> Path:
    return cache_root() / "charts" / f"{digest.replace(':', '-')}.tgz"


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def copy_chart(source: Path, target: Path, inputs: FileAccess) -> None:
    """Copy the chart at ``source`` into ``target`` through ``inputs``, links resolved."""
    root = Path(os.path.realpath(source))
    counted = {"files": 0, "bytes": 0}

    def copy(directory: Path, into: Path) -> None:
        into.mkdir()
        for name in inputs.list_dir(directory):
            path = directory / name
            if not Path(os.path.realpath(path)).is_relative_to(root):
                raise SourceError(
                    path,
                    "is a symbolic link that leads out of the chart",
                    hint="a chart holds its own files; copy the content into it",
                )
            kind = kind_of(path)
            if kind == "dir":
                copy(path, into / name)
            elif kind == "file":
                data = inputs.read_bytes(path)
                counted["files"] += 1
                counted["bytes"] += len(data)
                if counted["files"] > MAX_CHART_FILES or counted["bytes"] > MAX_CHART_BYTES:
                    raise SourceError(
                        source,
                        f"the chart holds more than {MAX_CHART_FILES} files or "
                        f"{MAX_CHART_BYTES >> 20} MiB",
                    )
                (into / name).write_bytes(data)
            else:
                raise SourceError(path, "is neither a file nor a directory (a broken link?)")

    copy(source, target)
