"""``hakobu secret``: seal Secrets for git, open and edit SealedSecrets, manage sealing keys."""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hakobu.cli.kube import add_kubeconfig_option, client
from hakobu.cli.options import add_output_option
from hakobu.cli.output import print_json, write_file
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.errors import InvalidInput
from hakobu.repo.contents import repository_contents
from hakobu.secrets.certificate import DEFAULT_CONTROLLER_NAME
from hakobu.secrets.certsource import Connect, Controller, private_keys, sealing_certificate
from hakobu.secrets.check import Skipped, check_contents
from hakobu.secrets.documents import (
    dump_object,
    dump_objects,
    edit_document,
    one_sealed_secret,
    read_secret_documents,
    seal_documents,
    unseal_documents,
)
from hakobu.secrets.fromflags import SecretItems, build_secret
from hakobu.secrets.keys import DEFAULT_KEY_SIZE, DEFAULT_VALIDITY_DAYS, load_private_key_files
from hakobu.secrets.keystore import (
    DEFAULT_NAMESPACE,
    DEFAULT_PREFIX,
    DEFAULT_RENEW_PERIOD,
    KeyStore,
    SealingKey,
    backup_list,
    backup_predates,
    new_key,
    read_backup,
    stale_backup,
)
from hakobu.secrets.plaintext import remove_stale
from hakobu.secrets.scope import Scope, parse_scope
from hakobu.secrets.sealedsecret import seal_secret

# Sealing with --cert, and opening with --key, is how to work without a cluster.
NO_CLUSTER_HINT = (
    "pass --kubeconfig or set KUBECONFIG; with --cert (and --key) no cluster is needed"
)


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
    _certificate_args(seal)
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

    edit = commands.add_parser(
        "edit",
        help="edit a SealedSecret's items in $EDITOR; only changed items are sealed again",
        description="Open the items of the SealedSecret in FILE in $VISUAL or $EDITOR as "
        "name: value lines, then seal again only the items that changed, so the others keep "
        "their ciphertext byte for byte. The plaintext exists only in a private temporary "
        "file (0600 in a 0700 directory, memory-backed when possible) that is removed however "
        "the edit ends (after a kill -9, by the next edit or check). An editor whose text "
        "does not parse is opened again with the error, three times at most. Items no "
        "given key opens are shown as UNREADABLE and kept unless their line is deleted. "
        "Private keys come from --key, else the key Secrets in the controller's namespace; "
        "the certificate as for `seal`.",
    )
    edit.add_argument("file", type=Path, metavar="FILE", help="a file holding one SealedSecret")
    edit.add_argument(
        "--key",
        action="append",
        default=[],
        type=Path,
        help="a private key (PEM) or key backup (repeatable; default: the cluster's keys)",
    )
    _certificate_args(edit)
    edit.set_defaults(handler=_edit)

    check = commands.add_parser(
        "check",
        help="find plaintext Secrets in a git repository (exit 1 if any)",
        description="Scan the tracked files of the git repository at PATH (and, with "
        "--history, every blob of every commit reachable from any ref) for kind: Secret "
        "documents with data or stringData. Prints file[@commit]: Secret/namespace/name "
        "per finding; exits 1 if there is any, 0 if there is none. Links are not followed; a "
        "file too large to scan is named in a warning.",
    )
    check.add_argument("path", nargs="?", type=Path, default=Path(), metavar="PATH")
    check.add_argument(
        "--history", action="store_true", help="also scan every commit reachable from any ref"
    )
    add_output_option(check)
    check.set_defaults(handler=_check)

    _register_keys(commands)


def _certificate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cert",
        type=Path,
        help="the controller's certificate (PEM) to seal with (default: fetched from the "
        "controller through the API server, else the newest key in its namespace)",
    )
    parser.add_argument(
        "--controller-namespace",
        default=DEFAULT_NAMESPACE,
        help=f"the controller's namespace (default: {DEFAULT_NAMESPACE})",
    )
    parser.add_argument(
        "--controller-name",
        default=DEFAULT_CONTROLLER_NAME,
        help=f"the controller's Service (default: {DEFAULT_CONTROLLER_NAME})",
    )
    add_kubeconfig_option(parser)


def _register_keys(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser(
        "keys",
        help="the controller's sealing keys in the cluster: create, rotate, list, back up",
        description="Sealing keys are kubernetes.io/tls Secrets labelled "
        "sealedsecrets.bitnami.com/sealed-secrets-key: active in the controller's namespace, "
        "as the Sealed Secrets controller keeps them. The newest seals; older ones stay so "
        "that what they sealed still opens.",
    )
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str, description: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help_text, description=description)
        parser.add_argument(
            "-n",
            "--namespace",
            default=DEFAULT_NAMESPACE,
            help=f"the controller's namespace (default: {DEFAULT_NAMESPACE})",
        )
        add_kubeconfig_option(parser)
        return parser

    def check_backup(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--check-backup",
            action="append",
            default=[],
            type=Path,
            metavar="FILE",
            help="warn if the newest of these backups lacks the newest key (repeatable)",
        )

    def new_key_args(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--prefix",
            default=DEFAULT_PREFIX,
            help=f"name prefix of the key Secret, as the controller's --key-prefix "
            f"(default: {DEFAULT_PREFIX})",
        )
        parser.add_argument(
            "--common-name", default="", help="the certificate's subject (controller: --my-cn)"
        )
        parser.add_argument(
            "--validity-days",
            type=int,
            default=DEFAULT_VALIDITY_DAYS,
            help=f"how long the certificate is valid (default: {DEFAULT_VALIDITY_DAYS})",
        )
        parser.add_argument(
            "--key-size", type=int, default=DEFAULT_KEY_SIZE, help=argparse.SUPPRESS
        )
        check_backup(parser)

    create = action(
        "create",
        "create a sealing key; it becomes the newest and seals from now on",
        "Create a new key pair and store it as a key Secret. The controller (with "
        "--watch-for-secrets, or after a restart) seals with it from then on; older keys "
        "keep opening what they sealed.",
    )
    new_key_args(create)
    create.set_defaults(handler=_keys_create)

    rotate = action(
        "rotate",
        "create a new key when the newest is older than --period-days (as the controller renews)",
        "Renew the sealing key when the newest key is older than --period-days (default 30, "
        "the controller's --key-renew-period); --force renews now. Nothing is deleted.",
    )
    new_key_args(rotate)
    rotate.add_argument(
        "--period-days",
        type=int,
        default=DEFAULT_RENEW_PERIOD.days,
        help=f"renew when the newest key is this old (default: {DEFAULT_RENEW_PERIOD.days})",
    )
    rotate.add_argument("--force", action="store_true", help="renew even if the key is recent")
    rotate.set_defaults(handler=_keys_rotate)

    listing = action("list", "list the sealing keys, newest first", "List the key Secrets.")
    add_output_option(listing)
    check_backup(listing)
    listing.set_defaults(handler=_keys_list)

    cert = action(
        "cert",
        "print the certificate of the newest key (what seals)",
        "Print the public certificate of the newest key, for `hakobu secret seal --cert` or "
        "kubeseal --cert, for whoever may seal but must not read the key Secrets.",
    )
    cert.add_argument("-o", "--output-file", type=Path, help="write it here instead of stdout")
    cert.set_defaults(handler=_keys_cert)

    backup = action(
        "backup",
        "write every private key to a file (0600), as a List of the key Secrets",
        "Write all key Secrets as one List, the format of the controller's own backups, which "
        "kubeseal --recovery-private-key, hakobu secret unseal --key and keys restore read. "
        "Keep it somewhere safe: it opens every SealedSecret.",
    )
    # A file, named as restore names it: -o is the output format everywhere else.
    backup.add_argument("file", type=Path, metavar="FILE", help="the backup file to write")
    backup.set_defaults(handler=_keys_backup)

    restore = action(
        "restore",
        "store the keys of a backup in the cluster (those not there yet)",
        "Create a key Secret for every key of the backup the namespace does not hold yet. "
        "Restart the controller (or run it with --watch-for-secrets) so it loads them.",
    )
    restore.add_argument("backup", type=Path, metavar="FILE", help="a backup of key Secrets")
    restore.add_argument("--prefix", default=DEFAULT_PREFIX, help=argparse.SUPPRESS)
    restore.set_defaults(handler=_keys_restore)


def _seal(args: argparse.Namespace) -> int:
    certificate = _sealing_certificate(args)
    scope = parse_scope(args.scope) if args.scope else None
    if args.file is not None:
        if args.from_literal or args.from_file or args.type:
            raise InvalidInput(
                "--from-literal, --from-file and --type build a Secret; they cannot be "
                "combined with -f",
                hint="add the items to the Secret file, or leave out -f",
            )
        sealed = seal_documents(
            read_secret_documents(args.file),
            certificate,
            scope,
            name=args.name,
            namespace=args.namespace,
            allow_empty_data=args.allow_empty_data,
        )
    else:
        items = SecretItems(args.name, args.namespace, args.type, args.from_literal, args.from_file)
        sealed = [
            seal_secret(
                build_secret(items), certificate, scope, allow_empty_data=args.allow_empty_data
            )
        ]
    write_file(dump_objects(sealed), args.output_file)
    return 0


def _unseal(args: argparse.Namespace) -> int:
    keys = load_private_key_files(args.key)
    write_file(dump_objects(unseal_documents(read_secret_documents(args.file), keys)), None)
    return 0


def _edit(args: argparse.Namespace) -> int:
    _remove_stale_plaintext()
    document = one_sealed_secret(read_secret_documents(str(args.file)), args.file)
    keys = private_keys(args.key, _controller(args), _connect(args))
    result = edit_document(document, keys, lambda: _sealing_certificate(args))
    if result.sealed is None:
        print(f"{args.file}: no change", file=sys.stderr)
        return 0
    write_file(dump_object(result.sealed), args.file)
    for verb, names in (
        ("changed", result.changed),
        ("added", result.added),
        ("removed", result.removed),
    ):
        if names:
            print(f"{args.file}: {verb} {', '.join(names)}", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace) -> int:
    _remove_stale_plaintext()

    def skipped(what: Skipped) -> None:
        _warn(str(what))

    contents = repository_contents(args.path, history=args.history)
    findings = check_contents(contents, on_skip=skipped)
    if args.output == "json":
        print_json([asdict(finding) for finding in findings])
    else:
        for finding in findings:
            print(finding)
    return 1 if findings else 0


def _keys_create(args: argparse.Namespace) -> int:
    with _kube(args) as kube, _namespace_named(args.namespace):
        store = KeyStore(kube, args.namespace)
        created = store.add(_generated_key(args), prefix=args.prefix)
        print(f"created Secret/{args.namespace}/{created.name}: it seals from now on")
        _warn_stale_backup(args.check_backup, store.read())
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    if args.period_days < 1:
        raise InvalidInput(f"--period-days must be at least 1, not {args.period_days}")
    with _kube(args) as kube:
        store = KeyStore(kube, args.namespace)
        rotation = store.rotate(
            lambda: _generated_key(args),
            datetime.timedelta(days=args.period_days),
            datetime.datetime.now(datetime.UTC),
            force=args.force,
            prefix=args.prefix,
        )
        if rotation.created is None:
            newest = rotation.before[0]
            print(
                f"the newest key {newest.name} is from {newest.not_before:%Y-%m-%d}, "
                f"within {args.period_days} days: not renewed (--force renews anyway)"
            )
        else:
            print(
                f"created Secret/{args.namespace}/{rotation.created.name}: it seals from now "
                f"on; {len(rotation.before)} older key(s) kept for opening"
            )
        _warn_stale_backup(args.check_backup, store.read())
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    with _kube(args) as kube:
        keys = KeyStore(kube, args.namespace).read()
    if args.output == "json":
        print_json([_key_summary(key, i == 0) for i, key in enumerate(keys)])
    else:
        for i, key in enumerate(keys):
            role = "seals" if i == 0 else "opens"
            print(
                f"{key.name}  {role}  valid {key.not_before:%Y-%m-%d} to "
                f"{key.not_after:%Y-%m-%d}  sha256:{key.fingerprint[:16]}"
            )
        if not keys:
            print(f"no sealing keys in namespace {args.namespace}", file=sys.stderr)
    _warn_stale_backup(args.check_backup, keys)
    return 0


def _keys_cert(args: argparse.Namespace) -> int:
    with _kube(args) as kube:
        newest = KeyStore(kube, args.namespace).newest()
    if args.output_file is None:
        sys.stdout.write(newest.certificate_pem.decode())
    else:
        write_file(newest.certificate_pem.decode(), args.output_file)
    return 0


def _keys_backup(args: argparse.Namespace) -> int:
    with _kube(args) as kube:
        keys = KeyStore(kube, args.namespace).read()
    if not keys:
        raise InvalidInput(
            f"namespace {args.namespace} holds no sealing key to back up",
            hint="pass --namespace with the controller's namespace",
        )
    write_file(dump_object(backup_list(keys)), args.file, mode=0o600)
    print(f"{args.file}: {len(keys)} key(s); it opens every SealedSecret, keep it safe")
    return 0


def _keys_restore(args: argparse.Namespace) -> int:
    backup = read_backup(args.backup)
    with _kube(args) as kube, _namespace_named(args.namespace):
        store = KeyStore(kube, args.namespace)
        restored = store.restore(backup, prefix=args.prefix)
        keys = store.read()
    for name in restored.created:
        print(f"restored Secret/{args.namespace}/{name}")
    if restored.already_present:
        print(f"already present: {', '.join(restored.already_present)}")
    if backup_predates(backup, keys):
        _warn(
            f"{args.backup} predates the newest key {keys[0].name} "
            f"({keys[0].not_before:%Y-%m-%d}): it is not in the backup, and it seals"
        )
    if restored.created:
        print(
            "restart the controller (or run it with --watch-for-secrets) to load them",
            file=sys.stderr,
        )
    return 0


def _generated_key(args: argparse.Namespace) -> SealingKey:
    return new_key(args.common_name, validity_days=args.validity_days, key_size=args.key_size)


def _key_summary(key: SealingKey, newest: bool) -> dict[str, Any]:
    return {
        "name": key.name,
        "namespace": key.namespace,
        "seals": newest,
        "notBefore": key.not_before.isoformat(),
        "notAfter": key.not_after.isoformat(),
        "fingerprint": f"sha256:{key.fingerprint}",
    }


def _warn_stale_backup(paths: list[Path], keys: tuple[SealingKey, ...]) -> None:
    path = stale_backup(paths, keys)
    if path is not None:
        _warn(
            f"the newest backup, {path}, predates the newest key {keys[0].name} "
            f"({keys[0].not_before:%Y-%m-%d})",
            hint="take a backup now: hakobu secret keys backup -o FILE",
        )


def _remove_stale_plaintext() -> None:
    for removed in remove_stale():
        _warn(str(removed))


def _warn(message: str, hint: str | None = None) -> None:
    print(f"warning: {message}", file=sys.stderr)
    if hint:
        print(f"  hint: {hint}", file=sys.stderr)


@contextmanager
def _namespace_named(namespace: str) -> Iterator[None]:
    """Creating a key Secret answers 404 only when its namespace is missing: say so."""
    try:
        yield
    except NotFound:
        raise InvalidInput(
            f"namespace {namespace} does not exist, so no key Secret can be kept there",
            hint=f"create it first (`kubectl create namespace {namespace}`), or pass -n with "
            "the namespace the keys belong in",
        ) from None


def _kube(args: argparse.Namespace) -> KubeClient:
    return client(args.kubeconfig, args.context, hint=NO_CLUSTER_HINT)


def _controller(args: argparse.Namespace) -> Controller:
    return Controller(args.controller_namespace, args.controller_name)


def _connect(args: argparse.Namespace) -> Connect:
    return lambda: _kube(args)


def _sealing_certificate(args: argparse.Namespace) -> bytes:
    return sealing_certificate(args.cert, _controller(args), _connect(args))
