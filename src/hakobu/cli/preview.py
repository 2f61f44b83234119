"""``hakobu preview up | down | list``: a branch deployed into a namespace of its own."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any, TypeAlias

from hakobu.cli.kube import add_cluster_options, connect
from hakobu.cli.options import add_output_option, add_project_option, load
from hakobu.cli.output import Progress, print_json
from hakobu.releases.previews import Preview, down, expire, list_previews, up

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def register(subparsers: Subparsers) -> None:
    preview = subparsers.add_parser(
        "preview",
        help="deploy a branch into a preview namespace of its own, list or take down previews",
        description="Preview environments as `previews:` in hakobu.yaml declares them: a "
        "branch matching `branches` is rendered for the environment `from` names, with the "
        "namespace from the `namespace` template, and synced there. Nothing is committed. "
        "hakobu marks the namespaces it creates for previews and never changes or deletes "
        "one without that mark.",
    )
    commands = preview.add_subparsers(dest="preview_command", required=True, metavar="COMMAND")
    start = commands.add_parser(
        "up",
        help="deploy BRANCH's tip as its preview, or update the preview to it",
        description="Render BRANCH's latest commit (local, else as last fetched from a "
        "remote) for the copied environment in the preview's namespace and sync it there "
        "with prune. The first time, the namespace is created and marked, with its expiry "
        "(now + ttl); refused when the project already has maxCount previews, or when a "
        "namespace of that name exists that is not this branch's preview. Exits 1 when "
        "the sync fails.",
    )
    start.add_argument("branch", metavar="BRANCH")
    start.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long the sync may wait for objects to become Healthy (default 300)",
    )
    stop = commands.add_parser(
        "down",
        help="delete BRANCH's preview: its objects, inventories, records and namespace",
        description="Delete the preview's namespace, and with it everything the preview "
        "holds, and wait until it is gone. With --expired instead of a branch, every "
        "preview whose time ran out. Refused for a namespace not marked as the branch's "
        "preview.",
    )
    which = stop.add_mutually_exclusive_group(required=True)
    which.add_argument("branch", metavar="BRANCH", nargs="?")
    which.add_argument("--expired", action="store_true", help="every expired preview")
    shown = commands.add_parser(
        "list",
        help="the project's previews: branch, namespace, URL, age, expiry and state",
        description="Every preview of the project in the cluster, from its namespace's marks.",
    )
    for command in (start, stop, shown):
        add_project_option(command)
        add_cluster_options(command)
        add_output_option(command)
    start.set_defaults(handler=_up)
    stop.set_defaults(handler=_down)
    shown.set_defaults(handler=_list)


def _up(args: argparse.Namespace) -> int:
    project = load(args)
    now = datetime.now(UTC)
    with connect(args, log=Progress()) as kube:
        done = up(kube, project, args.branch, now=now, timeout=args.timeout, progress=Progress())
    if args.output == "json":
        print_json({**_json(done.preview, now), "created": done.created, "sync": done.sync})
    else:
        verb = "created" if done.created else "updated"
        print(
            f"preview of {args.branch} {verb} at {done.preview.revision[:12]}: "
            f"{done.preview.url} (namespace {done.preview.namespace}, "
            f"sync {done.sync.result.value}, expires {_when(done.preview.expires)})"
        )
    return 0 if done.sync.succeeded else 1


def _down(args: argparse.Namespace) -> int:
    project = load(args)
    now = datetime.now(UTC)
    with connect(args, log=Progress()) as kube:
        if args.expired:
            gone = expire(kube, project, now=now)
        else:
            gone = [down(kube, project, args.branch)]
    if args.output == "json":
        print_json([_json(p, now) for p in gone])
    else:
        for preview in gone:
            print(f"preview of {preview.branch} deleted (namespace {preview.namespace})")
        if not gone:
            print("no preview has expired")
    return 0


def _list(args: argparse.Namespace) -> int:
    project = load(args)
    now = datetime.now(UTC)
    with connect(args) as kube:
        previews = list_previews(kube, project)
    if args.output == "json":
        print_json([_json(p, now) for p in previews])
        return 0
    if not previews:
        print("no previews")
        return 0
    rows = [("BRANCH", "NAMESPACE", "URL", "AGE", "EXPIRES", "STATE")]
    rows += [
        (
            p.branch,
            p.namespace,
            p.url,
            _age(now, p.created),
            _when(p.expires),
            p.state(now),
        )
        for p in previews
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _json(preview: Preview, now: datetime) -> dict[str, Any]:
    return {
        "branch": preview.branch,
        "namespace": preview.namespace,
        "url": preview.url,
        "revision": preview.revision,
        "created": _when(preview.created),
        "expires": _when(preview.expires),
        "state": preview.state(now),
    }


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _age(now: datetime, then: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
