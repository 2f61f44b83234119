"""Rollback as a new commit: an environment's output (or one app's) as it was at a revision.

History is never rewritten and nothing is force-pushed: the rollback is an ordinary commit
on the current branch that holds the old content, so a later sync (by hand or automatic)
deploys it like any other change and never fights it.

The inputs the output was rendered from are left alone unless asked for: then the next
render would re-create the state that was rolled back. ``inputs`` restores them too, so a
later render agrees with the rollback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hakobu.errors import InvalidInput
from hakobu.repo.changes import Replacement, commit_replacements, update_worktree
from hakobu.repo.history import Change, changes, contains, first_parent, last_change
from hakobu.repo.repository import Commit, Repository
from hakobu.repo.revisions import changed_locally, files_at, head, path_id, resolve

_LISTED = 10
# git's advice for a subject line; longer ones are cut in most views anyway.
_SUBJECT = 72
# The subject this module writes: restoring a revision that is itself a rollback would
# otherwise nest one prefix per rollback.
_ROLLBACK_SUBJECT = re.compile(r"rollback \S+ to [0-9a-f]{4,40}: ")


@dataclass(frozen=True)
class RollbackPlan:
    path: str  # what is restored: <output>/<env> or <output>/<env>/<app>
    target: str  # the commit whose content is restored
    replaced: str  # the commit that last changed the path, whose content goes away
    undone: tuple[Change, ...]
    inputs: tuple[str, ...]
    replacements: tuple[Replacement, ...]
    message: str


@dataclass(frozen=True)
class RollbackRequest:
    output: str  # repository-relative output directory (``generated``)
    apps: str  # repository-relative apps directory
    env: str
    to: str | None = None
    app: str | None = None
    restore_inputs: bool = False
    reason: str | None = None


def plan_rollback(repo: Repository, request: RollbackRequest) -> RollbackPlan:
    current = head(repo)
    env_path = f"{request.output}/{request.env}"
    path = env_path if request.app is None else f"{env_path}/{request.app}"
    subject = path if request.app is None else f"app {request.app!r} of {request.env}"
    now = path_id(current, path)
    if now is None:
        raise InvalidInput(
            f"nothing to roll back: {path} is not in the current commit",
            hint="render and commit the environment first (`hakobu render --commit`)",
        )
    last = last_change(repo, current, path)
    if request.to is None:
        target = None if last is None else first_parent(repo, last.id)
        if target is None:
            raise InvalidInput(
                f"nothing to roll back: {subject} has no earlier state",
                hint="`hakobu history ENV` lists its revisions; pass one with --to",
            )
        label = target.short_id
    else:
        target = resolve(repo, request.to)
        label = request.to
    if path_id(target, env_path) is None:
        raise InvalidInput(
            f"environment {request.env!r} did not exist at {label} ({target.short_id}): "
            f"{env_path} is not in that commit",
            hint=f"`hakobu history {request.env}` lists the revisions it can be rolled back to",
        )
    if path_id(target, path) is None:
        raise InvalidInput(
            f"{subject} did not exist at {label} ({target.short_id})",
            hint="to remove an app, delete its inputs and render; to roll it back, pick a "
            f"revision from `hakobu history {request.env}`",
        )
    if path_id(target, path) == now:
        raise InvalidInput(
            f"nothing to roll back: {path} at {label} ({target.short_id}) is the same as now"
        )
    inputs = _input_paths(request) if request.restore_inputs else ()
    dirty = changed_locally(repo, [path, *inputs])
    if dirty:
        raise InvalidInput(
            f"{path}{' or its inputs' if inputs else ''} has local changes: "
            + ", ".join(dirty[:5])
            + (" …" if len(dirty) > 5 else ""),
            hint="commit them, or discard them with `git checkout -- <path>` "
            "(untracked files: `git clean`), then roll back",
        )
    undone = tuple(_until(repo, changes(repo, current, path), target) if last is not None else ())
    replacements = tuple(Replacement(p, files_at(target, p)) for p in (path, *inputs))
    return RollbackPlan(
        path=path,
        target=str(target.id),
        replaced=last.id if last is not None else str(current.id),
        undone=undone,
        inputs=inputs,
        replacements=replacements,
        message=_message(
            request, path=path, target=target, last=last, undone=undone, inputs=inputs
        ),
    )


def apply_rollback(repo: Repository, plan: RollbackPlan) -> str:
    """Commit the plan on the current branch and show it in the work tree."""
    commit = commit_replacements(repo, head(repo), plan.replacements, plan.message, ref="HEAD")
    if commit is None:
        # The plan saw a difference, so the tree must change; HEAD moved since planning.
        raise InvalidInput(
            "nothing to roll back: the current commit changed while planning",
            hint="run the command again",
        )
    update_worktree(repo, plan.replacements)
    return commit


def rollback_subject(scope: str, short_id: str, target_message: str) -> str:
    """``rollback <scope> to <short id>: <what the restored content is>``, on one line of
    at most 72 characters. The restored revision's subject describes its content, except
    when it is itself a rollback: then the subject of the content it restored does."""
    restored = target_message.split("\n", 1)[0].strip()
    while match := _ROLLBACK_SUBJECT.match(restored):
        restored = restored[match.end() :]
    line = f"rollback {scope} to {short_id}: {restored}"
    return line if len(line) <= _SUBJECT else line[: _SUBJECT - 1].rstrip() + "…"


def _input_paths(request: RollbackRequest) -> tuple[str, ...]:
    if request.app is None:
        return (request.apps,)
    # An app is either a spec file or a directory; whichever existed then or exists now.
    return (
        f"{request.apps}/{request.app}.yaml",
        f"{request.apps}/{request.app}.yml",
        f"{request.apps}/{request.app}",
    )


def _until(repo: Repository, found: list[Change], target: Commit) -> list[Change]:
    undone = []
    for change in found:
        if contains(repo, target, change.id):
            break
        undone.append(change)
    return undone


def _message(
    request: RollbackRequest,
    *,
    path: str,
    target: Commit,
    last: Change | None,
    undone: tuple[Change, ...],
    inputs: tuple[str, ...],
) -> str:
    scope = request.env if request.app is None else f"{request.env}/{request.app}"
    lines = [rollback_subject(scope, target.short_id, target.message), ""]
    lines.append(f"Restores {path}/ to its content at {target.id}.")
    if last is not None:
        lines.append(f"Replaces the content of {last.id} ({last.subject}).")
    if undone:
        lines += ["", "Undoes:"]
        lines += [f"  {c.short} {c.subject}" for c in undone[:_LISTED]]
        if len(undone) > _LISTED:
            lines.append(f"  … and {len(undone) - _LISTED} older")
    if request.reason:
        lines += ["", f"Why: {request.reason}"]
    lines.append("")
    if inputs:
        lines.append(
            f"The inputs were restored to {target.short_id} too ({', '.join(inputs)}), so the "
            "next render agrees. They may be shared with other environments: render and "
            "review those before committing their output."
        )
    else:
        lines.append(
            f"The inputs under {request.apps}/ are unchanged: the next `hakobu render` "
            "re-creates the rolled-back state unless they are reverted too "
            "(`hakobu rollback --inputs`)."
        )
    return "\n".join(lines) + "\n"
