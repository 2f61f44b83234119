"""The commit that undoes an aborted rollout in git, so git again describes what runs.

An aborted rollout (canary or blue-green) leaves the stable version running while git
still holds the version that failed. The revert restores the app's output
(``<output>/<env>/<app>``) and its inputs to the newest commit whose Deployment runs the
stable version's pod template — the template digest the cluster runs, not merely the
commit before the failed one, since a newer version may have replaced the canary or
preview before it aborted. The digest is the one a sync records
(``model.rollout.template_digest``: with the revision label under blue-green). It is an
ordinary rollback (``releases.rollback``): a new commit, history untouched, that a later
sync deploys like any other; that sync finds the template the Deployment runs, and no
rollout starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hakobu.errors import HakobuError, InvalidInput
from hakobu.model.rollout import template_digest
from hakobu.model.source import load_documents
from hakobu.releases.rollback import RollbackPlan, RollbackRequest, plan_rollback
from hakobu.repo.history import changes
from hakobu.repo.repository import Commit, Repository
from hakobu.repo.revisions import files_at, head, resolve

# Commits of the app's output looked through for the stable version: a rollout replaces
# what ran a few commits ago, not what ran a hundred.
_SEARCHED = 100


@dataclass(frozen=True)
class RevertRequest:
    output: str  # repository-relative output directory (``generated``)
    apps: str  # repository-relative apps directory
    env: str
    app: str
    deployment: str  # the name of the app's Deployment that declares the canary
    stable: str  # the digest of the pod template it runs (``hakobu.dev/template-hash``)
    failed: str  # the digest of the template that was aborted
    reason: str


def plan_revert(repo: Repository, request: RevertRequest) -> RollbackPlan:
    """The rollback of the app to the newest commit that runs the stable template.

    Refused (``InvalidInput``) when the current commit does not hold the failed template
    (git moved on: a newer version or a revert by hand), or no commit searched holds the
    stable one."""
    current = head(repo)
    path = f"{request.output}/{request.env}/{request.app}"
    now = _template(current, path, request.deployment)
    if now != request.failed:
        raise InvalidInput(
            f"app {request.app!r} of {request.env}: the current commit {current.short_id} no "
            f"longer declares the aborted template {request.failed}, so there is nothing to revert"
        )
    for change in changes(repo, current, path, limit=_SEARCHED):
        commit = resolve(repo, change.id)
        if _template(commit, path, request.deployment) == request.stable:
            return plan_rollback(
                repo,
                RollbackRequest(
                    output=request.output,
                    apps=request.apps,
                    env=request.env,
                    to=str(commit.id),
                    app=request.app,
                    restore_inputs=True,
                    reason=request.reason,
                ),
            )
    raise InvalidInput(
        f"app {request.app!r} of {request.env}: none of the last {_SEARCHED} commits of {path} "
        f"declares the template Deployment {request.deployment} runs ({request.stable})",
        hint=f"roll it back by hand: `hakobu rollback {request.env} --app {request.app} "
        "--inputs --to REVISION`",
    )


def _template(commit: Commit, path: str, deployment: str) -> str | None:
    """The digest of the pod template of Deployment ``deployment`` in the app's output at
    ``commit``; None when it declares none (or a file of it does not parse)."""
    for name, file in sorted(files_at(commit, path).items()):
        if not name.endswith((".yaml", ".yml")):
            continue
        try:
            documents = load_documents(Path(name), file.data.decode())
        except (HakobuError, UnicodeDecodeError):
            continue
        for document in documents:
            data = document.data
            if (
                isinstance(data, dict)
                and data.get("kind") == "Deployment"
                and (data.get("metadata") or {}).get("name") == deployment
            ):
                return template_digest(data)
    return None
