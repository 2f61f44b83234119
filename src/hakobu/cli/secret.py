"""``hakobu secret``: seal Secrets for git, open SealedSecrets with the private keys."""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from hakobu.errors import InvalidInput
from hakobu.model.objects import Object
from hakobu.model.source import Document, load_documents
from hakobu.secrets.keys import load_private_key_files
from hakobu.secrets.scope import Scope, parse_scope
from hakobu.secrets.sealedsecret import InvalidObject, seal_secret, unseal

STDIN = "-"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "secret",
        help="seal Secrets so they can live in git (Sealed Secrets format), open them again",
        description="Seal Kubernetes Secrets into SealedSecrets that only the Sealed Secrets "
        "controller (or whoever holds its private key) can open, byte-compatible with "
        "kubeseal; and open SealedSecrets with the private keys, as the controller would.",
    )
    commands = parser.add_subparsers(dest="secret_command", required=True, metavar="COMMAND")

    seal = commands.add_parser(
        "seal",
        help="seal a Secret (from a file or from literals/files) into a SealedSecret",
        description="Seal every item of a Secret with the controller's certificate. The Secret "
        "comes from -f (YAML, several documents allowed) or is built from --name, "
        "--namespace, --from-literal and --from-file, as kubectl create secret generic does.",
    )
    seal.add_argument("-f", "--file", help="the Secret YAML to seal, or - for standard input")
    seal.add_argument("--name", help="the Secret's name (fills or must match the file's)")
    seal.add_argument("--namespace", help="the Secret's namespace (fills or must match)")
    seal.add_argument("--type", help="type of a Secret built from flags (default: Opaque)")
    seal.add_argument(
        "--from-literal",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an item given on the command line (repeatable)",
    )
    seal.add_argument(
        "--from-file",
        action="append",
        default=[],
        metavar="[KEY=]PATH",
        help="an item read from a file; the key defaults to the file's name (repeatable)",
    )
    seal.add_argument(
        "--cert", required=True, type=Path, help="the controller's certificate (PEM) to seal with"
    )
    seal.add_argument(
        "--scope",
        choices=[scope.value for scope in Scope],
        help="where the SealedSecret may be opened (default: as the Secret's "
        "sealedsecrets.bitnami.com/* annotations say, else strict: this name and namespace)",
    )
    seal.add_argument(
        "--allow-empty-data", action="store_true", help="seal a Secret that has no items"
    )
    seal.add_argument(
        "-w", "--output-file", type=Path, help="write the SealedSecret here instead of stdout"
    )
    seal.set_defaults(handler=_seal)

    unseal_parser = commands.add_parser(
        "unseal",
        help="open a SealedSecret with private keys and print the Secret",
        description="Open every SealedSecret of a file with the given private keys and print "
        "the Secrets the controller would create. Keys are PEM files or backups of the "
        "controller's key Secrets; every key is tried.",
    )
    unseal_parser.add_argument(
        "-f", "--file", required=True, help="the SealedSecret YAML, or - for standard input"
    )
    unseal_parser.add_argument(
        "--key",
        action="append",
        required=True,
        type=Path,
        help="a private key (PEM) or key Secret backup (repeatable)",
    )
    unseal_parser.set_defaults(handler=_unseal)


def _seal(args: argparse.Namespace) -> int:
    certificate = _read_bytes(args.cert, "certificate")
    scope = parse_scope(args.scope) if args.scope else None
    sealed: list[Object] = []
    if args.file is not None:
        if args.from_literal or args.from_file or args.type:
            raise InvalidInput(
                "--from-literal, --from-file and --type build a Secret; they cannot be "
                "combined with -f",
                hint="add the items to the Secret file, or leave out -f",
            )
        documents = _read_documents(args.file)
        for document in documents:
            secret = _with_identity(document, args.name, args.namespace)
            with _located(document):
                sealed.append(
                    seal_secret(secret, certificate, scope, allow_empty_data=args.allow_empty_data)
                )
    else:
        secret = _secret_from_flags(args)
        sealed.append(
            seal_secret(secret, certificate, scope, allow_empty_data=args.allow_empty_data)
        )
    _write(_dump_all(sealed), args.output_file)
    return 0


def _unseal(args: argparse.Namespace) -> int:
    keys = load_private_key_files(args.key)
    secrets: list[Object] = []
    for document in _read_documents(args.file):
        with _located(document):
            secrets.append(unseal(_mapping(document), keys))
    _write(_dump_all(secrets), None)
    return 0


def _secret_from_flags(args: argparse.Namespace) -> Object:
    if not args.name:
        raise InvalidInput(
            "a Secret needs a name: give --name (or a Secret file with -f)",
            hint="e.g. hakobu secret seal --name db --namespace prod "
            "--from-literal password=… --cert cert.pem",
        )
    items: dict[str, bytes] = {}
    for literal in args.from_literal:
        key, equals, value = literal.partition("=")
        if not equals or not key:
            raise InvalidInput(f"--from-literal {literal!r}: expected KEY=VALUE")
        _add_item(items, key, value.encode(), f"--from-literal {literal!r}")
    for source in args.from_file:
        key, equals, path = source.partition("=")
        if not equals:
            key, path = Path(source).name, source
        if not key or not path:
            raise InvalidInput(f"--from-file {source!r}: expected [KEY=]PATH")
        _add_item(items, key, _read_bytes(Path(path), "--from-file"), f"--from-file {source!r}")
    metadata: Object = {"name": args.name}
    if args.namespace:
        metadata["namespace"] = args.namespace
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": args.type or "Opaque",
        "data": {key: base64.b64encode(value).decode("ascii") for key, value in items.items()},
    }


def _add_item(items: dict[str, bytes], key: str, value: bytes, origin: str) -> None:
    if key in items:
        raise InvalidInput(f"{origin}: the item {key!r} is given twice")
    items[key] = value


def _with_identity(document: Document, name: str | None, namespace: str | None) -> Object:
    """The document's Secret, with --name/--namespace filled in where it has none."""
    secret = dict(_mapping(document))
    metadata = secret.get("metadata")
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    for field, wanted in (("name", name), ("namespace", namespace)):
        if not wanted:
            continue
        present = metadata.get(field)
        if present and present != wanted:
            raise document.error(
                ("metadata", field),
                f"the Secret's {field} is {present!r} but --{field} says {wanted!r}",
                hint=f"leave out --{field}, or change the file",
            )
        metadata[field] = wanted
    secret["metadata"] = metadata
    return secret


def _mapping(document: Document) -> Object:
    if not isinstance(document.data, dict):
        raise document.error((), f"expected a Kubernetes object, found {document.data!r}")
    return document.data


@contextmanager
def _located(document: Document) -> Iterator[None]:
    """Point errors about a field of the document at its file and line."""
    try:
        yield
    except InvalidObject as e:
        raise document.error(e.field, e.detail, e.hint) from None


def _read_documents(name: str) -> list[Document]:
    if name == STDIN:
        documents = load_documents(Path("<stdin>"), sys.stdin.read())
    else:
        documents = load_documents(Path(name))
    if not documents:
        raise InvalidInput(f"{'standard input' if name == STDIN else name}: no YAML documents")
    return documents


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise InvalidInput(f"{what} {path}: cannot be read ({e.strerror})") from None


def _dump_all(objects: list[Object]) -> str:
    return "---\n".join(_dump(obj) for obj in objects)


def _dump(obj: Any) -> str:
    # Sorted keys as kubeseal writes them; no folding, so a changed value is one diff line.
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, width=float("inf"))


def _write(text: str, path: Path | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    # Replace the file only once everything is sealed, never leaving it half-written.
    directory = path.parent if str(path.parent) else Path()
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    except OSError as e:
        raise InvalidInput(f"{path}: cannot be written ({e.strerror})") from None
    try:
        with os.fdopen(handle, "w") as output:
            output.write(text)
        # A SealedSecret is meant to be shared; keep the mode of the file it replaces.
        Path(temporary).chmod(path.stat().st_mode if path.exists() else 0o644)
        Path(temporary).replace(path)
    except OSError as e:
        Path(temporary).unlink(missing_ok=True)
        raise InvalidInput(f"{path}: cannot be written ({e.strerror})") from None
