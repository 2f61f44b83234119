"""Reading files for a build: the load restrictor, base cycles, and resource documents.

Each kustomization directory gets its own ``Loader`` whose root is that directory. Under
``LoadRestrictionsRootOnly`` (the default, as in kustomize) a *file* must resolve (symbolic
links followed) to a path in or below the root; ``LoadRestrictionsNone`` lifts that.
Directories (bases, components) may live anywhere, but one that contains, or is, a
directory already on the way from the top-level kustomization is a cycle. Remote bases and
components (git repositories) are built only when the build is given ``Remotes``
(``kustomize.remote``); remote files (URLs) are refused.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hakobu.errors import InvalidInput
from hakobu.model import files
from hakobu.model.objects import Object
from hakobu.model.source import BoundsError, SourceError, admit, bounds, yaml_error
from hakobu.model.yamlbounds import deeper_than_allowed, too_deep
from hakobu.render.helm import Helm
from hakobu.render.inputs import FileAccess
from hakobu.render.kustomize.remote import Remotes, locate
from hakobu.render.patch.nodes import EmptyValues

ROOT_ONLY = "LoadRestrictionsRootOnly"
NONE = "LoadRestrictionsNone"
RESTRICTORS = (ROOT_ONLY, NONE)

_REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)")


class RemoteNotSupported(InvalidInput):
    pass


@dataclass(frozen=True)
class Loader:
    root: Path
    restrictor: str
    files: FileAccess
    parent: Loader | None = None
    # How charts are inflated (None: they are refused), and the namespace a chart takes when
    # neither it nor its kustomization names one: that of the nearest kustomization above.
    helm: Helm | None = None
    helm_namespace: str = ""
    # How remote bases are allowed and fetched (None: they are refused).
    remotes: Remotes | None = None

    @classmethod
    def top(
        cls,
        directory: Path,
        restrictor: str,
        files: FileAccess,
        helm: Helm | None = None,
        remotes: Remotes | None = None,
    ) -> Loader:
        if restrictor not in RESTRICTORS:
            raise InvalidInput(
                f"unknown load restrictor {restrictor!r}", hint=f"use one of {RESTRICTORS}"
            )
        if not files.is_dir(directory):
            raise InvalidInput(f"{directory}: not a directory", hint="pass a kustomization dir")
        return cls(directory.resolve(), restrictor, files, helm=helm, remotes=remotes)

    def chain(self) -> list[Path]:
        roots = []
        loader: Loader | None = self
        while loader is not None:
            roots.append(loader.root)
            loader = loader.parent
        return roots

    def resolve_file(self, relative: str | Path) -> Path:
        """The absolute path of a file this kustomization may read."""
        _refuse_remote(
            str(relative), "vendor the file into the repository: remote files are not fetched"
        )
        path = (self.root / relative).resolve()
        if self.restrictor == ROOT_ONLY and not path.is_relative_to(self.root):
            raise InvalidInput(
                f"security: file '{relative}' resolves to {path}, which is not in or below "
                f"'{self.root}'",
                hint="move the file under the kustomization, or build with "
                "--load-restrictor LoadRestrictionsNone",
            )
        return path

    def read_bytes(self, path: Path) -> bytes:
        """Read a file (relative to the root, or absolute) under the load restrictor."""
        return self.files.read_bytes(self.resolve_file(path))

    def child(self, relative: str, namespace: str = "") -> Loader:
        """The loader of a base or component directory, refusing cycles; ``namespace`` is the
        namespace of the kustomization that lists it."""
        files = self.files
        if self.remotes is not None and is_remote(relative):
            remote = locate(self.remotes, relative)
            candidate, files = remote.root, files.within(remote.tree)
        else:
            _refuse_remote(relative, _REMOTE_BASE_HINT)
            # Asked as written, so an error can name a link that leads somewhere it may not.
            if not self.files.is_dir(self.root / relative):
                raise InvalidInput(f"'{relative}' is not a directory (under {self.root})")
            candidate = (self.root / relative).resolve()
        chain = self.chain()
        for visited in chain:
            if visited.is_relative_to(candidate):
                route = " -> ".join(str(p) for p in [*reversed(chain), candidate])
                raise InvalidInput(
                    f"cycle detected: '{candidate}' contains or is the already visited "
                    f"'{visited}' ({route})",
                    hint="a base may not include itself or a directory above it",
                )
        return Loader(
            candidate,
            self.restrictor,
            files,
            self,
            helm=self.helm,
            helm_namespace=namespace or self.helm_namespace,
            remotes=self.remotes,
        )


def is_remote(path: str) -> bool:
    return bool(_REMOTE.match(path))


_REMOTE_BASE_HINT = (
    "vendor the remote base into the repository and refer to it by a local path; hakobu "
    "build fetches it when its repository is allowed (--allow-remote, or "
    "kustomize.remoteResources.allow in hakobu.yaml) and it is pinned with ?ref=, hakobu "
    "render does not fetch remote bases"
)


def _refuse_remote(path: str, hint: str) -> None:
    if is_remote(path):
        raise RemoteNotSupported(f"remote resource '{path}' is not supported", hint=hint)


def load_objects(file: Path, data: bytes) -> list[Object]:
    """The Kubernetes objects of a YAML file, with kustomize's checks and ``*List`` expansion."""
    text = files.decode(file, data)
    try:
        documents = _load_all(file, text)
    except yaml.YAMLError as e:
        raise yaml_error(file, e) from None
    objects: list[Object] = []
    pending = [d for d in documents if d is not None and d != {}]
    while pending:
        doc = pending.pop(0)
        if not isinstance(doc, dict):
            raise SourceError(file, f"expected a Kubernetes object (a mapping), got {doc!r:.60}")
        kind = doc.get("kind")
        if not isinstance(kind, str) or not kind:
            raise SourceError(file, "missing kind in object", hint="every object needs a kind")
        if kind.endswith("List") and "items" in doc:
            items = doc["items"]
            if items is None:
                continue
            if not isinstance(items, list):
                raise SourceError(file, f"expected a list in {kind}.items")
            pending.extend(items)
            continue
        meta = doc.get("metadata")
        if not kind.endswith("List") and (not isinstance(meta, dict) or not meta.get("name")):
            raise SourceError(
                file, f"missing metadata.name in a {kind}", hint="every object needs a name"
            )
        nil_path = _nil_list_item(doc, ())
        if nil_path is not None:
            raise SourceError(file, f"empty item in a list at {nil_path} of a {kind}")
        objects.append(doc)
    return objects


def _load_all(file: Path, text: str) -> list[Any]:
    """``yaml.load_all`` with ``KustomizeYamlLoader``, constructing common documents faster.

    Each document is measured before it is constructed: both constructors share an alias's
    object, but every later step walks it once per alias.
    """
    budget = bounds(file, text)
    loader = KustomizeYamlLoader(text)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            admit(budget, file, node)
            try:
                documents.append(_Constructor().build(node))
            except _Unusual:
                documents.append(loader.construct_document(node))
        return documents
    finally:
        loader.dispose()


def load_value(file: Path, text: str) -> Any:
    """The one YAML document of ``text`` as ``KustomizeYamlLoader`` builds it, measured first."""
    budget = bounds(file, text)
    loader = KustomizeYamlLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        admit(budget, file, node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_as_written(file: Path, text: str) -> Any:
    """``load_value``, with mappings that remember their keys written with no value
    (``EmptyValues``), for merges that treat those as kyaml does."""
    budget = bounds(file, text)
    loader = KustomizeYamlLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        admit(budget, file, node)
        try:
            return _Constructor().build(node)
        except _Unusual:
            return loader.construct_document(node)
    finally:
        loader.dispose()


def load_json(file: Path, text: str) -> Any:
    """``text`` as JSON, refused (``BoundsError``) when it nests deeper than YAML may."""
    try:
        value = json.loads(text)
    except RecursionError:
        value = None
        deep = True
    else:
        deep = deeper_than_allowed(value)
    if deep:
        excess = too_deep(None)
        raise BoundsError(file, excess.message, hint=excess.hint)
    return value


class _Unusual(Exception):
    """A node that PyYAML's constructor must handle: another tag, a merge key, a cycle."""


class _Constructor:
    """What ``KustomizeYamlLoader`` constructs for documents of plain maps, lists and scalars.

    PyYAML's constructor spends most of a build's loading time in generic dispatch; these
    documents need none of it. An alias gives the same object as PyYAML's does.
    """

    def __init__(self) -> None:
        self.built: dict[int, Any] = {}
        self.open: set[int] = set()

    def build(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            tag = node.tag
            if tag == _STR:
                return node.value
            if tag in _GO_SCALAR_TAGS:
                resolved, value = _go_scalar(node.value)
                return value if resolved == tag else node.value
            raise _Unusual
        identity = id(node)
        if identity in self.built:
            return self.built[identity]
        if identity in self.open:
            raise _Unusual
        self.open.add(identity)
        result: Any
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            result = [self.build(item) for item in node.value]
        elif isinstance(node, yaml.MappingNode) and node.tag == _MAP:
            result = {}
            empty = []
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE:
                    raise _Unusual
                key = self.build(key_node)
                result[key] = self.build(value_node)
                if result[key] is None and value_node.value == "" and not value_node.style:
                    empty.append(key)
            if empty:
                result = EmptyValues(result)
                result.empty = frozenset(empty)
        else:
            raise _Unusual
        self.open.discard(identity)
        self.built[identity] = result
        return result


def _nil_list_item(value: Any, path: tuple[str, ...]) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nil_list_item(item, (*path, str(key)))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if item is None:
                return ".".join(path) + f"[{index}]"
            found = _nil_list_item(item, (*path, f"[{index}]"))
            if found is not None:
                return found
    return None


class KustomizeYamlLoader(yaml.CSafeLoader):
    """Plain scalars resolved as kustomize's YAML library (go-yaml v3) resolves them.

    Only ``true``/``false`` (three spellings each) are booleans, so ``yes`` and ``on`` stay
    strings; ``0755`` is octal and ``1_000`` an integer but ``1:20`` is a string; and a
    timestamp becomes the RFC 3339 text Go writes for it, as in ``kustomize build`` output.
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        # Called only for nodes without an explicit tag.
        if kind is yaml.ScalarNode:
            return _go_tag(value) if implicit[0] else _STR
        if kind is yaml.SequenceNode:
            return _SEQ
        return _MAP


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_GO_SCALAR_TAGS = frozenset({_INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP})

_KNOWN: dict[str, tuple[str, Any]] = {
    **{s: (_BOOL, True) for s in ("true", "True", "TRUE")},
    **{s: (_BOOL, False) for s in ("false", "False", "FALSE")},
    **{s: (_NULL, None) for s in ("", "~", "null", "Null", "NULL")},
    **{s: (_FLOAT, math.nan) for s in (".nan", ".NaN", ".NAN")},
    **{s: (_FLOAT, math.inf) for s in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{s: (_FLOAT, -math.inf) for s in ("-.inf", "-.Inf", "-.INF")},
    "<<": (_MERGE, "<<"),
}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_TIMESTAMP_TEXT = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:[Tt]| )(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?(Z|[-+]\d{2}:\d{2})?)?$"
)
_INT64 = (-(2**63), 2**63 - 1)


def _go_tag(value: str) -> str:
    return _go_scalar(value)[0]


def _go_scalar(value: str) -> tuple[str, Any]:
    if value in _KNOWN:
        return _KNOWN[value]
    first = value[0]
    if first == ".":
        return (_FLOAT, float(value)) if _YAML_FLOAT.match(value) else (_STR, value)
    if (first.isdigit() and first.isascii()) or first in "+-":
        return _go_number(value)
    return _STR, value


def _go_number(value: str) -> tuple[str, Any]:
    """A plain scalar starting with a digit or sign: timestamp, integer, float or text."""
    stamp = _timestamp(value)
    if stamp is not None:
        return _TIMESTAMP, stamp
    plain = value.replace("_", "")
    number = _go_int(plain)
    if number is not None:
        return _INT, number
    if _YAML_FLOAT.match(plain):
        return _FLOAT, float(plain)
    return _STR, value


def _go_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 0, 64)``, then ``ParseUint``: prefixes and 0-octal."""
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in "+-" else text
    base = 10
    lowered = body[:2].lower()
    if lowered in ("0x", "0o", "0b"):
        base, body = {"0x": 16, "0o": 8, "0b": 2}[lowered], body[2:]
    elif body.startswith("0") and len(body) > 1:
        base, body = 8, body[1:]
    if not body or not all(c in "0123456789abcdefABCDEF"[: base + max(0, base - 10)] for c in body):
        return None
    number = sign * int(body, base)
    if _INT64[0] <= number <= _INT64[1] or (sign > 0 and number < 2**64 and text[0] != "+"):
        return number
    return None


def _timestamp(value: str) -> str | None:
    """The RFC 3339 text Go's JSON encoder writes for a YAML timestamp."""
    match = _TIMESTAMP_TEXT.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return None
    if hour is None:
        return f"{year}-{int(month):02d}-{int(day):02d}T00:00:00Z"
    spaced = value[len(value) - len(value.lstrip("0123456789-")) :][:1] == " "
    if spaced != (zone is None):
        # Go accepts a space only without a zone, and ``T`` only with one.
        return None
    if int(hour) > 23 or int(minute) > 59 or int(second) > 59:
        return None
    frac = (fraction or "").rstrip("0")
    text = (
        f"{year}-{int(month):02d}-{int(day):02d}T{int(hour):02d}:{int(minute):02d}:"
        f"{int(second):02d}{'.' + frac if frac else ''}"
    )
    return text + (zone if zone not in (None, "Z") else "Z")


def _construct_go_scalar(loader: yaml.CSafeLoader, node: yaml.ScalarNode) -> Any:
    value = loader.construct_scalar(node)
    tag, result = _go_scalar(str(value))
    if tag != node.tag:
        # An explicit tag (``!!int "12"``) that the text does not satisfy keeps the text.
        return value
    return result


for _tag in _GO_SCALAR_TAGS:
    KustomizeYamlLoader.add_constructor(_tag, _construct_go_scalar)
