"""``hakobu delivery``: create, list, suspend, resume and reconcile Delivery resources."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeAlias

from hakobu.cli.kube import add_cluster_options, connect, kubeconfig_path
from hakobu.cli.options import add_output_option
from hakobu.cli.output import print_json
from hakobu.cluster import kubeconfig
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.controller import deliveries
from hakobu.controller.delivery import RECONCILE_REQUESTED_AT, DeliveryRef
from hakobu.errors import InvalidInput
from hakobu.model.duration import parse_duration
from hakobu.model.objects import Object
from hakobu.render.yamlout import dump_object

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

DEFAULT_NAMESPACE = "default"


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "delivery",
        help="create, list, suspend, resume and reconcile Deliveries",
        description="A Delivery (deliveries.hakobu.dev) asks the hakobu controller running "
        "in the cluster (`hakobu install`) to keep one environment of one git repository "
        "synced. These commands write Deliveries through the API server; the controller "
        "replica that owns a Delivery acts on the change. The namespace is -n, else the "
        "kubeconfig context's namespace, else default.",
    )
    commands = parser.add_subparsers(dest="delivery_command", required=True, metavar="COMMAND")

    create = commands.add_parser(
        "create",
        help="create a Delivery",
        description="Create a Delivery that keeps environment --env of the repository at "
        "--repo synced by the controller. Durations are Go's (30s, 3m, 1h30m), as the "
        "Delivery's own fields. Fails if the Delivery exists.",
    )
    create.add_argument("name", metavar="NAME")
    create.add_argument("--repo", required=True, metavar="URL", help="the git remote")
    create.add_argument(
        "--env", required=True, metavar="ENV", help="the environment, as named in hakobu.yaml"
    )
    create.add_argument("--branch", help="the branch to follow (default main)")
    create.add_argument(
        "--path", help="the directory of hakobu.yaml in the repository (default: its root)"
    )
    create.add_argument(
        "--interval",
        type=_duration,
        metavar="DURATION",
        help="how often git is polled when no webhook arrives (default 3m)",
    )
    create.add_argument(
        "--prune", action="store_true", help="delete objects git no longer declares"
    )
    create.add_argument(
        "--secret",
        metavar="NAME",
        help="a Secret in the Delivery's namespace with git credentials and webhookSecret",
    )
    create.add_argument(
        "--auto-rollback",
        type=_duration,
        metavar="WINDOW",
        help="roll back a sync whose apps turn Degraded within WINDOW (default: the "
        "environment's autoRollback in hakobu.yaml)",
    )
    create.add_argument(
        "--dry-run",
        action="store_true",
        help="print the Delivery instead of creating it (no cluster needed with -n)",
    )
    create.add_argument(
        "-o",
        "--output",
        choices=["yaml", "json"],
        default=None,
        help="print the Delivery (created, or with --dry-run the one that would be; "
        "default with --dry-run: yaml)",
    )
    _common(create)
    create.set_defaults(handler=_create)

    listing = commands.add_parser(
        "list",
        help="list Deliveries with their sync, health and readiness",
        description="List Deliveries: environment, revision applied, sync and health as "
        "the controller last reported them, its Ready condition and, when one is stuck, why "
        "(the Stalled condition's message).",
    )
    scope = listing.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", help="the namespace (default: see `delivery`)")
    scope.add_argument(
        "-A", "--all-namespaces", action="store_true", help="list in every namespace"
    )
    add_output_option(listing)
    add_cluster_options(listing)
    listing.set_defaults(handler=_list)

    for name, suspend, text in (
        ("suspend", True, "stop syncing a Delivery until it is resumed"),
        ("resume", False, "sync a suspended Delivery again"),
    ):
        sub = commands.add_parser(
            name, help=text, description=f"{text[0].upper()}{text[1:]} (spec.suspend)."
        )
        sub.add_argument("name", metavar="NAME")
        _common(sub)
        sub.set_defaults(handler=_suspend, suspend=suspend)

    reconcile = commands.add_parser(
        "reconcile",
        help="ask the controller to sync a Delivery now",
        description=f"Annotate the Delivery with {RECONCILE_REQUESTED_AT}=<now>, as a push "
        "webhook does; the controller replica that owns it fetches and syncs at once. Returns "
        "when the annotation is written, not when the sync is done: `hakobu delivery list` "
        "shows its outcome.",
    )
    reconcile.add_argument("name", metavar="NAME")
    _common(reconcile)
    reconcile.set_defaults(handler=_reconcile)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--namespace", help="the namespace (default: see `delivery`)")
    add_cluster_options(parser)


def _duration(text: str) -> str:
    """A Go duration, as the Delivery stores it: kept as written, refused unless positive."""
    try:
        seconds = parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if seconds <= 0 or text.startswith("."):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a duration above zero such as 3m")
    return text


def _create(args: argparse.Namespace) -> int:
    if args.dry_run:
        obj = _declared(args, DeliveryRef(args.namespace or _context_namespace(args), args.name))
        if args.output == "json":
            print_json(obj)
        else:
            print(dump_object(obj), end="")
        return 0
    with connect(args) as kube:
        ref = DeliveryRef(args.namespace or _namespace_of(kube), args.name)
        obj = deliveries.create_delivery(kube, _declared(args, ref))
    if args.output == "json":
        print_json(obj)
    elif args.output == "yaml":
        print(dump_object(obj), end="")
    else:
        print(f"delivery {ref} created")
    return 0


def _declared(args: argparse.Namespace, ref: DeliveryRef) -> Object:
    return deliveries.delivery_object(
        ref,
        url=args.repo,
        environment=args.env,
        branch=args.branch,
        path=args.path,
        interval=args.interval,
        prune=args.prune,
        secret=args.secret,
        auto_rollback=args.auto_rollback,
    )


def _list(args: argparse.Namespace) -> int:
    with connect(args) as kube:
        namespace = None if args.all_namespaces else args.namespace or _namespace_of(kube)
        found = [deliveries.summary(obj) for obj in deliveries.list_deliveries(kube, namespace)]
    if args.output == "json":
        print_json(found)
        return 0
    if not found:
        print(f"no Deliveries in {'any namespace' if namespace is None else namespace}")
        return 0
    now = datetime.now(UTC)
    header = ["NAME", "ENV", "REVISION", "SYNC", "HEALTH", "READY", "AGE", "MESSAGE"]
    rows = [
        [
            s.name,
            s.environment,
            s.revision or "-",
            "Suspended" if s.suspended else s.sync or "-",
            s.health or "-",
            s.ready or "-",
            _age(s.created, now),
            s.message,
        ]
        for s in found
    ]
    if namespace is None:
        header = ["NAMESPACE", *header]
        rows = [[s.namespace, *row] for s, row in zip(found, rows, strict=True)]
    _print_table(header, rows)
    return 0


def _suspend(args: argparse.Namespace) -> int:
    done = "suspended" if args.suspend else "resumed"
    ref = _act(args, lambda kube, ref: deliveries.set_suspended(kube, ref, args.suspend))
    print(f"delivery {ref} {done}")
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    at = datetime.now(UTC)
    ref = _act(args, lambda kube, ref: deliveries.request_reconcile(kube, ref, at))
    print(
        f"annotated delivery {ref} with {RECONCILE_REQUESTED_AT}={deliveries.timestamp(at)}: "
        "the controller will sync it shortly (`hakobu delivery list` shows the outcome)"
    )
    return 0


def _act(
    args: argparse.Namespace, action: Callable[[KubeClient, DeliveryRef], object]
) -> DeliveryRef:
    with connect(args) as kube:
        ref = DeliveryRef(args.namespace or _namespace_of(kube), args.name)
        try:
            action(kube, ref)
        except NotFound:
            raise deliveries.missing(kube, ref) from None
    return ref


def _namespace_of(kube: KubeClient) -> str:
    return kube.connection.namespace or DEFAULT_NAMESPACE


def _context_namespace(args: argparse.Namespace) -> str:
    """The kubeconfig context's namespace for a dry run, which needs no cluster: default
    when there is no kubeconfig to read, as kubectl's client-side dry run."""
    try:
        path = kubeconfig_path(args.kubeconfig)
    except InvalidInput:
        return DEFAULT_NAMESPACE
    return kubeconfig.load(path, args.context).namespace or DEFAULT_NAMESPACE


def _age(created: str, now: datetime) -> str:
    """A short age as kubectl prints one: 90s, 12m, 5h, 3d."""
    if not created:
        return "-"
    seconds = max(0, int((now - datetime.fromisoformat(created)).total_seconds()))
    for unit, size, below in (("s", 1, 120), ("m", 60, 3 * 3600), ("h", 3600, 48 * 3600)):
        if seconds < below:
            return f"{seconds // size}{unit}"
    return f"{seconds // 86400}d"


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
