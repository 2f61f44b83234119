"""``hakobu install`` and ``hakobu uninstall``: the controller, its CRD and its privileges."""

from __future__ import annotations

import argparse
from typing import TypeAlias

from hakobu.cli.kube import add_cluster_options, connect, duration
from hakobu.cli.output import Progress, print_json
from hakobu.controller.install import (
    DEFAULT_IMAGE,
    DEFAULT_NAMESPACE,
    DEFAULT_REPLICAS,
    DeployScope,
    InstallOptions,
    controller_args,
    install,
    manifests,
    uninstall,
)
from hakobu.render.yamlout import dump_documents

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "install",
        help="install the Delivery CRD and the controller into a cluster",
        description="Apply (server-side, field manager hakobu-install) the namespace, the "
        "Delivery CustomResourceDefinition (waiting until it is Established), the "
        "controller's ServiceAccount and RBAC, its Deployment, Service (port 80 to the "
        "Pods' 8080: the dashboard and its API, /hooks/<provider>, /metrics, /healthz, "
        "/readyz) and "
        "PodDisruptionBudget. The Pods run `hakobu "
        + " ".join(controller_args("NAMESPACE"))
        + "`. Running it again updates the installation in place. Two ClusterRoles: "
        "hakobu-controller (Deliveries, their status, Events, the git Secrets they name, "
        "TokenReviews and SubjectAccessReviews; Leases, and creating the dashboard's "
        "session-key Secret, only in NAMESPACE) and "
        "hakobu-deployer (what Deliveries deploy: everything, cluster-wide by default).",
    )
    parser.add_argument(
        "--namespace",
        default=DEFAULT_NAMESPACE,
        help=f"where the controller runs (default {DEFAULT_NAMESPACE}; created if missing)",
    )
    parser.add_argument(
        "--replicas",
        type=_positive,
        default=DEFAULT_REPLICAS,
        metavar="N",
        help=f"controller replicas; Deliveries are sharded among them (default {DEFAULT_REPLICAS})",
    )
    parser.add_argument(
        "--image",
        default=DEFAULT_IMAGE,
        help=f"the controller's image, built from the Dockerfile (default {DEFAULT_IMAGE})",
    )
    parser.add_argument(
        "--deploy-scope",
        type=DeployScope,
        choices=list(DeployScope),
        default=DeployScope.CLUSTER,
        help="where Deliveries may deploy: cluster (hakobu-deployer bound cluster-wide, the "
        "default) or namespaced (bound only in --deploy-namespaces)",
    )
    parser.add_argument(
        "--deploy-namespaces",
        type=_names,
        default=(),
        metavar="A,B",
        help="with --deploy-scope namespaced: the namespaces Deliveries may deploy into "
        "(they must exist)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the objects instead of applying them (no cluster needed)",
    )
    parser.add_argument(
        "-o",
        "--output",
        choices=["yaml", "json"],
        default="yaml",
        help="with --dry-run: YAML documents (default) or a JSON List",
    )
    add_cluster_options(parser)
    parser.set_defaults(handler=_install)

    remove = subparsers.add_parser(
        "uninstall",
        help="remove what `hakobu install` created",
        description="Delete the controller's Deployment, Service, PodDisruptionBudget, "
        "ServiceAccount and RBAC, and its namespace if install created it. Only objects "
        "labelled app.kubernetes.io/managed-by=hakobu-install are deleted; nothing the "
        "Deliveries deployed is touched unless --cascade, and the Deliveries and "
        "FleetInstances lose the controller's finalizers so deleting one later does not "
        "wait for a controller. The CRDs stay unless --delete-deliveries: deleting them "
        "deletes every Delivery and FleetInstance in the cluster.",
    )
    remove.add_argument(
        "--namespace",
        default=DEFAULT_NAMESPACE,
        help=f"where the controller runs (default {DEFAULT_NAMESPACE})",
    )
    remove.add_argument(
        "--delete-deliveries",
        action="store_true",
        help="also delete the Delivery and FleetInstance CRDs, and so every Delivery and "
        "FleetInstance",
    )
    remove.add_argument(
        "--cascade",
        action="store_true",
        help="first delete every Delivery while the controller runs, so that each one with "
        "prune (and not suspended) deletes what it deployed; implies --delete-deliveries",
    )
    remove.add_argument(
        "--timeout",
        type=duration,
        default=300.0,
        help="how long to wait for the Deliveries (with --cascade) and the namespace to go "
        "(default 5m)",
    )
    add_cluster_options(remove)
    remove.set_defaults(handler=_uninstall)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number, 1 or more")
    return value


def _names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected namespaces separated by commas, e.g. a,b")
    return names


def _install(args: argparse.Namespace) -> int:
    options = InstallOptions(
        namespace=args.namespace,
        replicas=args.replicas,
        image=args.image,
        deploy_scope=args.deploy_scope,
        deploy_namespaces=args.deploy_namespaces,
    )
    if args.dry_run:
        objects = manifests(options)
        if args.output == "json":
            print_json({"apiVersion": "v1", "kind": "List", "items": objects})
        else:
            print(dump_documents(objects), end="")
        return 0
    with connect(args) as kube:
        install(kube, options, Progress())
    print(
        f"installed the hakobu controller in namespace {options.namespace} "
        f"({options.replicas} replicas of {options.image})"
    )
    return 0


def _uninstall(args: argparse.Namespace) -> int:
    with connect(args) as kube:
        deleted = uninstall(
            kube,
            args.namespace,
            Progress(),
            delete_deliveries=args.delete_deliveries,
            cascade=args.cascade,
            timeout=args.timeout,
        )
    print(f"deleted {len(deleted)} objects" if deleted else "nothing to delete")
    if not (args.delete_deliveries or args.cascade):
        print(
            "kept the Delivery and FleetInstance CRDs, every Delivery and every FleetInstance "
            "(--delete-deliveries deletes them)"
        )
    return 0
