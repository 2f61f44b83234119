"""Push webhooks as each git host sends them: headers and bodies of the hosts' own shapes
(trimmed of fields the receiver never reads), signed here independently of hakobu's code."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

AFTER = "bffeb74224043ba2feb48d137756c8a9331c449a"
BEFORE = "28e1879d029cb852e4844d9c718537df08844e03"
ZERO = "0" * 40


@dataclass
class Hook:
    provider: str
    headers: dict[str, str]
    body: bytes
    extra: dict[str, Any] = field(default_factory=dict)


def hmac_hex(secret: bytes, content: bytes) -> str:
    return hmac.new(secret, content, hashlib.sha256).hexdigest()


def github_payload(repo: str = "acme/shop-deploy", ref: str = "refs/heads/main") -> dict[str, Any]:
    return {
        "ref": ref,
        "before": BEFORE,
        "after": AFTER,
        "created": False,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": f"https://github.com/{repo}/compare/{BEFORE[:12]}...{AFTER[:12]}",
        "commits": [
            {
                "id": AFTER,
                "message": "Render production",
                "timestamp": "2026-12-03T10:00:00+00:00",
                "author": {"name": "Dev", "email": "dev@example.com", "username": "dev"},
                "added": [],
                "removed": [],
                "modified": ["generated/production/shop/deployment-shop.yaml"],
            }
        ],
        "head_commit": {"id": AFTER, "message": "Render production"},
        "repository": {
            "id": 1296269,
            "name": repo.split("/")[1],
            "full_name": repo,
            "private": True,
            "html_url": f"https://github.com/{repo}",
            "url": f"https://github.com/{repo}",
            "git_url": f"git://github.com/{repo}.git",
            "ssh_url": f"git@github.com:{repo}.git",
            "clone_url": f"https://github.com/{repo}.git",
            "svn_url": f"https://github.com/{repo}",
            "default_branch": "main",
        },
        "pusher": {"name": "dev", "email": "dev@example.com"},
        "sender": {"login": "dev", "id": 1, "type": "User"},
    }


def github(
    secret: bytes,
    payload: dict[str, Any] | None = None,
    *,
    event: str = "push",
    delivery: str | None = None,
) -> Hook:
    body = json.dumps(payload if payload is not None else github_payload()).encode()
    return Hook(
        "github",
        {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/a1b2c3d",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "292430182",
            "X-Hub-Signature-256": "sha256=" + hmac_hex(secret, body),
        },
        body,
    )


def gitlab_payload(
    repo: str = "acme/shop-deploy", ref: str = "refs/heads/main", after: str = AFTER
) -> dict[str, Any]:
    host = "https://gitlab.example.com"
    return {
        "object_kind": "push",
        "event_name": "push",
        "before": BEFORE,
        "after": after,
        "ref": ref,
        "ref_protected": True,
        "checkout_sha": after,
        "user_username": "dev",
        "project_id": 15,
        "project": {
            "id": 15,
            "name": repo.split("/")[1],
            "web_url": f"{host}/{repo}",
            "git_ssh_url": f"git@gitlab.example.com:{repo}.git",
            "git_http_url": f"{host}/{repo}.git",
            "namespace": repo.split("/", maxsplit=1)[0],
            "path_with_namespace": repo,
            "default_branch": "main",
            "homepage": f"{host}/{repo}",
            "url": f"git@gitlab.example.com:{repo}.git",
            "ssh_url": f"git@gitlab.example.com:{repo}.git",
            "http_url": f"{host}/{repo}.git",
        },
        "commits": [{"id": after, "message": "Render production", "added": [], "removed": []}],
        "total_commits_count": 1,
        "repository": {
            "name": repo.split("/")[1],
            "url": f"git@gitlab.example.com:{repo}.git",
            "homepage": f"{host}/{repo}",
            "git_http_url": f"{host}/{repo}.git",
            "git_ssh_url": f"git@gitlab.example.com:{repo}.git",
            "visibility_level": 0,
        },
    }


def gitlab(
    token: bytes,
    payload: dict[str, Any] | None = None,
    *,
    event: str = "Push Hook",
    idempotency_key: str | None = None,
) -> Hook:
    body = json.dumps(payload if payload is not None else gitlab_payload()).encode()
    return Hook(
        "gitlab",
        {
            "Content-Type": "application/json",
            "User-Agent": "GitLab/17.5.0",
            "X-Gitlab-Event": event,
            "X-Gitlab-Token": token.decode(),
            "X-Gitlab-Instance": "https://gitlab.example.com",
            "X-Gitlab-Webhook-UUID": str(uuid.uuid4()),
            "X-Gitlab-Event-UUID": str(uuid.uuid4()),
            "Idempotency-Key": idempotency_key or str(uuid.uuid4()),
        },
        body,
    )


def gitea_payload(repo: str = "acme/shop-deploy", ref: str = "refs/heads/main") -> dict[str, Any]:
    host = "https://gitea.example.com"
    return {
        "ref": ref,
        "before": BEFORE,
        "after": AFTER,
        "compare_url": f"{host}/{repo}/compare/{BEFORE}...{AFTER}",
        "commits": [{"id": AFTER, "message": "Render production\n", "url": f"{host}/c"}],
        "total_commits": 1,
        "head_commit": {"id": AFTER},
        "repository": {
            "id": 140,
            "owner": {"id": 1, "login": repo.split("/", maxsplit=1)[0]},
            "name": repo.split("/")[1],
            "full_name": repo,
            "private": False,
            "html_url": f"{host}/{repo}",
            "ssh_url": f"ssh://git@gitea.example.com:2222/{repo}.git",
            "clone_url": f"{host}/{repo}.git",
            "default_branch": "main",
        },
        "pusher": {"id": 1, "login": "dev"},
        "sender": {"id": 1, "login": "dev"},
    }


def gitea(
    secret: bytes,
    payload: dict[str, Any] | None = None,
    *,
    forgejo: bool = False,
    delivery: str | None = None,
    event: str = "push",
) -> Hook:
    body = json.dumps(payload if payload is not None else gitea_payload()).encode()
    signature = hmac_hex(secret, body)
    delivery = delivery or str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "X-Gitea-Event": event,
        "X-Gitea-Event-Type": event,
        "X-Gitea-Delivery": delivery,
        "X-Gitea-Signature": signature,
        "X-Gogs-Event": event,
        "X-Gogs-Delivery": delivery,
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
    }
    if forgejo:
        headers |= {
            "X-Forgejo-Event": event,
            "X-Forgejo-Delivery": delivery,
            "X-Forgejo-Signature": signature,
        }
    return Hook("forgejo" if forgejo else "gitea", headers, body)


def bitbucket_payload(
    repo: str = "acme/shop-deploy", changes: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    if changes is None:
        changes = [branch_change("main")]
    return {
        "push": {"changes": changes},
        "repository": {
            "type": "repository",
            "full_name": repo,
            "name": repo.split("/")[1],
            "uuid": "{b1c9d0a3-2f3e-4d4d-9c1b-2b4f5e6a7b8c}",
            "scm": "git",
            "is_private": True,
            "links": {
                "self": {"href": f"https://api.bitbucket.org/2.0/repositories/{repo}"},
                "html": {"href": f"https://bitbucket.org/{repo}"},
                "avatar": {"href": f"https://bytebucket.org/ravatar/{{{repo}}}"},
            },
        },
        "actor": {"type": "user", "display_name": "Dev", "uuid": "{d0e1}"},
    }


def branch_change(name: str, kind: str = "branch") -> dict[str, Any]:
    return {
        "new": {
            "type": kind,
            "name": name,
            "target": {"type": "commit", "hash": AFTER, "message": "Render production\n"},
        },
        "old": {"type": kind, "name": name, "target": {"type": "commit", "hash": BEFORE}},
        "created": False,
        "closed": False,
        "forced": False,
        "truncated": False,
        "commits": [{"hash": AFTER, "type": "commit"}],
    }


def bitbucket(
    secret: bytes,
    payload: dict[str, Any] | None = None,
    *,
    event: str = "repo:push",
    request: str | None = None,
) -> Hook:
    body = json.dumps(payload if payload is not None else bitbucket_payload()).encode()
    return Hook(
        "bitbucket",
        {
            "Content-Type": "application/json",
            "User-Agent": "Bitbucket-Webhooks/2.0",
            "X-Event-Key": event,
            "X-Hook-UUID": "{0d8e3f1e-5b2a-4a51-8c5e-6f7e8d9c0b1a}",
            "X-Request-UUID": request or str(uuid.uuid4()),
            "X-Attempt-Number": "1",
            "X-Hub-Signature": "sha256=" + hmac_hex(secret, body),
        },
        body,
    )


def generic(
    secret: bytes,
    timestamp: int,
    *,
    repository: str = "https://git.example.com/acme/shop-deploy.git",
    branch: str = "main",
) -> Hook:
    body = json.dumps({"repository": repository, "branch": branch, "revision": AFTER}).encode()
    signature = hmac_hex(secret, f"{timestamp}.".encode() + body)
    return Hook(
        "generic",
        {
            "Content-Type": "application/json",
            "X-Hakobu-Timestamp": str(timestamp),
            "X-Hakobu-Signature-256": f"sha256={signature}",
        },
        body,
    )
