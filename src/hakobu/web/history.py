"""An environment's history: the commits that changed it, newest first, each with the
apps it touched and the syncs the cluster recorded of it (result, duration),
and the series of syncs over time the page charts; a sync asked for from the dashboard
names who asked."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from hakobu.cluster.api import KubeApi
from hakobu.model.project import Environment, Project
from hakobu.repo.branches import branch_tip
from hakobu.repo.commit import open_repository
from hakobu.repo.history import changes
from hakobu.repo.revisions import head, repo_path
from hakobu.sync import history
from hakobu.sync.ownership import ENVIRONMENT_LABEL, PROJECT_LABEL, RECORD_LABEL
from hakobu.web.actions import REQUESTED_BY


def env_history(kube: KubeApi, project: Project, env: Environment, limit: int) -> dict[str, Any]:
    repo = open_repository(project.root)
    path = f"{repo_path(repo, project.output_dir)}/{env.name}"
    # A tier's history is its own branch's, not the checked-out line's.
    start = head(repo) if env.branch is None else branch_tip(repo, env.branch)
    records = history(kube, env.namespace, project.name, env.name)
    who = _requested_by(kube, env.namespace, project.name, env.name)
    syncs = [{**_sync(record), "by": who.get(str(record.get("record")), "")} for record in records]
    by_revision: dict[str, list[dict[str, Any]]] = {}
    for sync in syncs:
        by_revision.setdefault(str(sync["revision"]), []).append(sync)
    commits = [
        {**asdict(change), "short": change.short, "syncs": by_revision.get(change.id, [])}
        for change in changes(repo, start, path, limit=limit)
    ]
    return {"env": env.name, "path": path, "commits": commits, "syncs": syncs}


def _sync(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "record": record.get("record"),
        "revision": record.get("revision"),
        "started": record.get("started"),
        "result": record.get("result"),
        "seconds": (record.get("durations") or {}).get("total"),
        "failed_apps": [
            app.get("app") for app in record.get("apps") or [] if app.get("result") != "Succeeded"
        ],
    }


def _requested_by(kube: KubeApi, namespace: str, project: str, env: str) -> dict[str, str]:
    """record name → who asked for the sync from the dashboard (the record's annotation)."""
    selector = f"{RECORD_LABEL}=true,{PROJECT_LABEL}={project},{ENVIRONMENT_LABEL}={env}"
    found = kube.list("v1", "ConfigMap", namespace, label_selector=selector).items
    return {
        str(item["metadata"]["name"]): str(
            (item["metadata"].get("annotations") or {}).get(REQUESTED_BY, "")
        )
        for item in found
    }
