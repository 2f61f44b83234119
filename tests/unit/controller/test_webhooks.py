"""The webhook receiver: signatures before anything else, replays refused, pushes matched to
the Deliveries whose own secret signed them — per git host, with the hosts' payloads."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from hakobu.cluster.errors import NotFound, Unreachable
from hakobu.controller.delivery import Delivery, DeliveryRef, parse
from hakobu.controller.webhooks import Result, SeenDeliveries, WebhookReceiver, WebhookResult
from tests.unit.controller import webhook_payloads as hooks
from tests.unit.controller.webhook_payloads import Hook

SHOP = b"shop-webhook-secret"
OTHER = b"another-teams-secret"
NOW = 1_796_281_200


def delivery(
    name: str,
    url: str,
    *,
    branch: str = "main",
    secret: str | None = "git",  # noqa: S107 - the Secret's name
    ns: str = "shop",
) -> Delivery:
    spec: dict[str, Any] = {
        "repository": {"url": url, "branch": branch},
        "environment": "production",
    }
    if secret is not None:
        spec["secretRef"] = {"name": secret}
    return parse({"metadata": {"name": name, "namespace": ns}, "spec": spec})


class Harness:
    def __init__(self, *deliveries: Delivery, secrets: dict[tuple[str, str], bytes] | None = None):
        self.deliveries = list(deliveries)
        self.secrets = secrets if secrets is not None else {("shop", "git"): SHOP}
        self.requested: list[DeliveryRef] = []
        self.observed: list[tuple[str, str]] = []
        self.secret_reads: list[tuple[str, str | None]] = []
        self.now = float(NOW)
        self.fail: Callable[[DeliveryRef], None] | None = None
        self.receiver = WebhookReceiver(
            lambda: self.deliveries,
            self.secret,
            self.request,
            clock=lambda: self.now,
            observe=lambda provider, result: self.observed.append((provider, result)),
        )

    def secret(self, ref: DeliveryRef, name: str | None) -> bytes | None:
        self.secret_reads.append((ref.namespace, name or ""))
        if name == "broken":
            raise Unreachable("the API server did not answer")
        return None if name is None else self.secrets.get((ref.namespace, name))

    def request(self, ref: DeliveryRef) -> None:
        if self.fail is not None:
            self.fail(ref)
        self.requested.append(ref)

    def send(self, hook: Hook) -> WebhookResult:
        return self.receiver.handle(hook.provider, hook.headers, hook.body)


def ref(name: str, ns: str = "shop") -> DeliveryRef:
    return DeliveryRef(ns, name)


# Each host's push of acme/shop-deploy, branch main; the Delivery names the repository in
# another form than the payload's first URL, so matching goes through normalisation.
PUSHES: dict[str, tuple[Callable[[bytes], Hook], str]] = {
    "github": (hooks.github, "git@github.com:acme/shop-deploy.git"),
    "gitlab": (hooks.gitlab, "ssh://git@gitlab.example.com/acme/shop-deploy"),
    "gitea": (hooks.gitea, "ssh://git@gitea.example.com:2222/acme/shop-deploy"),
    "forgejo": (
        lambda s: hooks.gitea(s, forgejo=True),
        "https://Gitea.Example.com/acme/shop-deploy/",
    ),
    "bitbucket": (hooks.bitbucket, "git@bitbucket.org:acme/shop-deploy.git"),
    "generic": (
        lambda s: hooks.generic(s, NOW),
        "https://deploy@git.example.com:443/acme/shop-deploy",
    ),
}


def elsewhere(url: str) -> str:
    return url.replace("shop-deploy", "billing-deploy")


@pytest.mark.parametrize("provider", sorted(PUSHES))
def test_a_signed_push_requests_the_matching_delivery_only(provider: str) -> None:
    push, url = PUSHES[provider]
    h = Harness(delivery("shop", url), delivery("billing", elsewhere(url)))
    result = h.send(push(SHOP))
    assert (result.status, result.result) == (202, Result.REQUESTED), result.message
    assert h.requested == [ref("shop")]
    assert result.requested == (ref("shop"),)
    assert h.observed == [(provider, "requested")]


@pytest.mark.parametrize("provider", sorted(PUSHES))
def test_a_bad_signature_is_401_and_triggers_nothing(provider: str) -> None:
    push, url = PUSHES[provider]
    h = Harness(delivery("shop", url))
    result = h.send(push(b"not-the-secret"))
    assert (result.status, result.result) == (401, Result.UNAUTHORIZED)
    assert h.requested == []
    assert h.observed == [(provider, "unauthorized")]


# GitLab's token does not cover the body (the guide says so).
@pytest.mark.parametrize("provider", sorted(set(PUSHES) - {"gitlab"}))
def test_a_body_changed_after_signing_is_401(provider: str) -> None:
    push, url = PUSHES[provider]
    h = Harness(delivery("shop", url), delivery("billing", elsewhere(url)))
    hook = push(SHOP)
    hook.body = hook.body.replace(b"shop-deploy", b"billing-deploy")
    assert h.send(hook).status == 401
    assert h.requested == []


@pytest.mark.parametrize("provider", sorted(PUSHES))
def test_a_missing_signature_is_401(provider: str) -> None:
    push, url = PUSHES[provider]
    h = Harness(delivery("shop", url))
    hook = push(SHOP)
    signature = {
        "x-hub-signature-256",
        "x-hub-signature",
        "x-gitlab-token",
        "x-gitea-signature",
        "x-forgejo-signature",
        "x-hakobu-signature-256",
    }
    hook.headers = {k: v for k, v in hook.headers.items() if k.lower() not in signature}
    result = h.send(hook)
    assert result.status == 401 and "header" in result.message
    assert h.requested == []
    # Nothing to check a signature against: no Secret is read.
    assert h.secret_reads == []


@pytest.mark.parametrize("provider", sorted(PUSHES))
def test_a_push_no_delivery_follows_is_202_and_ignored(provider: str) -> None:
    push, url = PUSHES[provider]
    h = Harness(delivery("billing", elsewhere(url)))
    result = h.send(push(SHOP))
    assert (result.status, result.result) == (202, Result.UNMATCHED)
    assert h.requested == []


@pytest.mark.parametrize("provider", sorted(PUSHES))
def test_a_push_to_another_branch_is_202_and_ignored(provider: str) -> None:
    push, url = PUSHES[provider]
    h = Harness(delivery("shop", url, branch="release"))
    result = h.send(push(SHOP))
    assert (result.status, result.result) == (202, Result.UNMATCHED)
    assert "main" in result.message
    assert h.requested == []


@pytest.mark.parametrize("provider", sorted(PUSHES))
def test_a_replayed_delivery_is_409_and_triggers_nothing_more(provider: str) -> None:
    push, url = PUSHES[provider]
    h = Harness(delivery("shop", url))
    hook = push(SHOP)
    assert h.send(hook).status == 202
    again = h.send(hook)
    assert (again.status, again.result) == (409, Result.REPLAYED)
    assert h.requested == [ref("shop")]
    assert h.observed == [(provider, "requested"), (provider, "replayed")]


@pytest.mark.parametrize("provider", sorted(PUSHES))
def test_a_delivery_that_failed_is_accepted_when_redelivered(provider: str) -> None:
    push, url = PUSHES[provider]
    h = Harness(delivery("shop", url))

    def unreachable(ref: DeliveryRef) -> None:
        raise Unreachable("the API server did not answer")

    h.fail = unreachable
    hook = push(SHOP)
    failed = h.send(hook)
    assert (failed.status, failed.result) == (503, Result.FAILED)
    h.fail = None
    assert h.send(hook).status == 202
    assert h.requested == [ref("shop")]


def test_several_deliveries_of_one_repository_and_branch_are_all_requested() -> None:
    url = "https://github.com/acme/shop-deploy"
    h = Harness(
        delivery("shop", url),
        delivery("shop-canary", url + ".git"),
        delivery("shop", url, ns="eu"),
        delivery("shop-release", url, branch="release"),
        secrets={("shop", "git"): SHOP, ("eu", "git"): SHOP},
    )
    result = h.send(hooks.github(SHOP))
    assert result.status == 202
    assert sorted(h.requested, key=str) == [ref("shop", "eu"), ref("shop"), ref("shop-canary")]
    # One Secret is read once however many Deliveries name it.
    assert sorted(h.secret_reads) == [("eu", "git"), ("shop", "git")]


def test_only_deliveries_whose_own_secret_verified_are_requested() -> None:
    url = "https://github.com/acme/shop-deploy"
    h = Harness(
        delivery("shop", url),
        delivery("intruder", url, ns="other"),
        delivery("unsigned", url, ns="plain", secret=None),
        delivery("no-key", url, ns="empty"),
        secrets={("shop", "git"): SHOP, ("other", "git"): OTHER},
    )
    assert h.send(hooks.github(SHOP)).requested == (ref("shop"),)
    assert h.send(hooks.github(OTHER)).requested == (ref("intruder", "other"),)
    assert h.requested == [ref("shop"), ref("intruder", "other")]


def test_one_event_to_two_webhooks_with_different_secrets_is_accepted_twice() -> None:
    # GitHub's delivery id names the event: a repository webhook and an organisation webhook
    # share it, but each is signed with its own secret.
    url = "https://github.com/acme/shop-deploy"
    h = Harness(
        delivery("shop", url),
        delivery("shop", url, ns="other"),
        secrets={("shop", "git"): SHOP, ("other", "git"): OTHER},
    )
    payload = hooks.github_payload()
    assert h.send(hooks.github(SHOP, payload, delivery="72d3162e")).status == 202
    assert h.send(hooks.github(OTHER, payload, delivery="72d3162e")).status == 202
    assert h.requested == [ref("shop"), ref("shop", "other")]


def test_generic_requests_outside_their_time_window_are_refused() -> None:
    url = "https://git.example.com/acme/shop-deploy"
    h = Harness(delivery("shop", url))
    for sent, expected in [(NOW - 301, 401), (NOW + 61, 401), (NOW - 299, 202), (NOW + 59, 202)]:
        result = h.send(hooks.generic(SHOP, sent))
        assert result.status == expected, (NOW - sent, result.message)
        if expected == 401:
            assert result.result is Result.STALE
    assert h.requested == [ref("shop"), ref("shop")]


def test_a_generic_request_given_a_new_timestamp_fails_its_signature() -> None:
    h = Harness(delivery("shop", "https://git.example.com/acme/shop-deploy"))
    captured = hooks.generic(SHOP, NOW - 600)
    captured.headers["X-Hakobu-Timestamp"] = str(NOW)
    result = h.send(captured)
    assert (result.status, result.result) == (401, Result.UNAUTHORIZED)
    assert h.requested == []


def test_a_generic_timestamp_that_is_not_unix_seconds_is_refused() -> None:
    h = Harness(delivery("shop", "https://git.example.com/acme/shop-deploy"))
    hook = hooks.generic(SHOP, NOW)
    body = hook.body
    hook.headers["X-Hakobu-Timestamp"] = "soon"
    signature = hooks.hmac_hex(SHOP, b"soon." + body)
    hook.headers["X-Hakobu-Signature-256"] = f"sha256={signature}"
    result = h.send(hook)
    assert (result.status, result.result) == (401, Result.STALE)
    assert "Unix seconds" in result.message


@pytest.mark.parametrize(
    ("hook", "reason"),
    [
        (hooks.github(SHOP, hooks.github_payload(ref="refs/tags/v1.2.0")), "tag"),
        (hooks.github(SHOP, {**hooks.github_payload(), "deleted": True}), "deleted"),
        (hooks.gitlab(SHOP, hooks.gitlab_payload(after=hooks.ZERO)), "deleted"),
        (hooks.gitlab(SHOP, event="Tag Push Hook"), "Tag Push Hook"),
        (hooks.gitea(SHOP, hooks.gitea_payload(ref="refs/tags/v1.2.0")), "tag"),
        (
            hooks.bitbucket(
                SHOP, hooks.bitbucket_payload(changes=[hooks.branch_change("v1", "tag")])
            ),
            "tags",
        ),
        (
            hooks.bitbucket(SHOP, hooks.bitbucket_payload(changes=[{"new": None, "old": {}}])),
            "deletions",
        ),
        (hooks.github(SHOP, event="issues"), "issues"),
        (hooks.bitbucket(SHOP, event="pullrequest:created"), "pullrequest:created"),
    ],
    ids=lambda v: v if isinstance(v, str) else v.provider,
)
def test_what_is_not_a_branch_push_is_202_and_ignored(hook: Hook, reason: str) -> None:
    urls = [
        "https://github.com/acme/shop-deploy",
        "https://gitlab.example.com/acme/shop-deploy",
        "https://gitea.example.com/acme/shop-deploy",
        "https://bitbucket.org/acme/shop-deploy",
    ]
    h = Harness(*(delivery(f"d{i}", url) for i, url in enumerate(urls)))
    result = h.send(hook)
    assert (result.status, result.result) == (202, Result.IGNORED)
    assert reason in result.message
    assert h.requested == []


def test_a_bitbucket_push_of_several_branches_requests_each_followed_one() -> None:
    url = "https://bitbucket.org/acme/shop-deploy"
    h = Harness(delivery("main", url), delivery("release", url, branch="release"))
    payload = hooks.bitbucket_payload(
        changes=[hooks.branch_change("main"), hooks.branch_change("release")]
    )
    assert h.send(hooks.bitbucket(SHOP, payload)).status == 202
    assert sorted(h.requested, key=str) == [ref("main"), ref("release")]


def test_github_ping_is_200_and_needs_a_valid_signature() -> None:
    h = Harness(delivery("shop", "https://github.com/acme/shop-deploy"))
    ping = {"zen": "Design for failure.", "hook_id": 292430182, "hook": {"type": "Repository"}}
    result = h.send(hooks.github(SHOP, ping, event="ping"))
    assert (result.status, result.result) == (200, Result.PING)
    assert h.send(hooks.github(OTHER, ping, event="ping")).status == 401
    assert h.requested == []


def test_github_form_encoded_payloads_are_read() -> None:
    # GitHub's default content type puts the JSON in a form field; the signature covers the
    # form body as sent.
    h = Harness(delivery("shop", "https://github.com/acme/shop-deploy"))
    body = urlencode({"payload": json.dumps(hooks.github_payload())}).encode()
    hook = hooks.github(SHOP)
    hook.body = body
    hook.headers["Content-Type"] = "application/x-www-form-urlencoded"
    hook.headers["X-Hub-Signature-256"] = "sha256=" + hooks.hmac_hex(SHOP, body)
    assert h.send(hook).status == 202
    assert h.requested == [ref("shop")]


@pytest.mark.parametrize("forgejo", [False, True])
def test_gitea_form_encoded_payloads_are_checked_on_the_json_they_carry(forgejo: bool) -> None:
    # Gitea and Forgejo sign the JSON itself, also when it travels URL-encoded in a form.
    h = Harness(delivery("shop", "https://gitea.example.com/acme/shop-deploy"))
    hook = hooks.gitea(SHOP, forgejo=forgejo)
    json_body = hook.body
    hook.body = urlencode({"payload": json_body.decode()}).encode()
    hook.headers["Content-Type"] = "application/x-www-form-urlencoded"
    assert h.send(hook).status == 202
    assert h.requested == [ref("shop")]
    # A signature of the form body itself is not Gitea's.
    forged = hooks.gitea(SHOP, forgejo=forgejo)
    forged.body = hook.body
    forged.headers["Content-Type"] = "application/x-www-form-urlencoded"
    for header in ("X-Gitea-Signature", "X-Forgejo-Signature"):
        if header in forged.headers:
            forged.headers[header] = hooks.hmac_hex(SHOP, forged.body)
    assert h.send(forged).status == 401


def test_a_signed_body_that_is_not_the_hosts_json_is_400_and_not_remembered() -> None:
    h = Harness(delivery("shop", "https://github.com/acme/shop-deploy"))
    for body in [b"{not json", b"[1, 2]", json.dumps({"ref": 5}).encode()]:
        hook = hooks.github(SHOP, delivery="same-id")
        hook.body = body
        hook.headers["X-Hub-Signature-256"] = "sha256=" + hooks.hmac_hex(SHOP, body)
        result = h.send(hook)
        assert (result.status, result.result) == (400, Result.INVALID), body
    # A good delivery with the same id is still accepted: the bad ones were not remembered.
    assert h.send(hooks.github(SHOP, delivery="same-id")).status == 202


def test_forgejo_checks_its_own_signature_header_first() -> None:
    h = Harness(delivery("shop", "https://gitea.example.com/acme/shop-deploy"))
    hook = hooks.gitea(SHOP, forgejo=True)
    hook.headers["X-Forgejo-Signature"] = hooks.hmac_hex(OTHER, hook.body)
    assert h.send(hook).status == 401
    # Gitea's own webhooks reach either path.
    assert h.send(hooks.gitea(SHOP)).status == 202
    gitea_to_forgejo = hooks.gitea(SHOP)
    assert (
        h.receiver.handle("forgejo", gitea_to_forgejo.headers, gitea_to_forgejo.body).status == 202
    )


def test_gitlab_compares_its_token() -> None:
    url = "https://gitlab.example.com/acme/shop-deploy"
    h = Harness(delivery("shop", url))
    assert h.send(hooks.gitlab(SHOP + b"x")).status == 401
    assert h.send(hooks.gitlab(SHOP[:-1])).status == 401
    assert h.send(hooks.gitlab(SHOP)).status == 202


def test_a_gitlab_request_without_an_id_cannot_be_told_from_the_next_push() -> None:
    h = Harness(delivery("shop", "https://gitlab.example.com/acme/shop-deploy"))
    hook = hooks.gitlab(SHOP)
    for header in ("Idempotency-Key", "X-Gitlab-Webhook-UUID"):
        del hook.headers[header]
    assert [h.send(hook).status for _ in range(2)] == [202, 202]


def test_an_unknown_provider_is_404_counted_under_one_label() -> None:
    h = Harness(delivery("shop", "https://github.com/acme/shop-deploy"))
    result = h.receiver.handle("made-up-" + "x" * 500, {}, b"{}")
    assert result.status == 404
    assert len(result.message) < 200
    assert h.observed == [("unknown", "unknown_provider")]


def test_a_body_above_the_limit_is_413_before_any_secret_is_read() -> None:
    h = Harness(delivery("shop", "https://github.com/acme/shop-deploy"))
    hook = hooks.github(SHOP)
    hook.body = b" " * (1024 * 1024 + 1)
    result = h.send(hook)
    assert (result.status, result.result) == (413, Result.TOO_LARGE)
    assert h.secret_reads == []


def test_a_secret_that_cannot_be_read_is_503_when_no_other_verifies(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "https://github.com/acme/shop-deploy"
    h = Harness(delivery("shop", url, secret="broken"), delivery("shop", url, ns="other"))
    h.secrets = {("other", "git"): OTHER}
    result = h.send(hooks.github(SHOP))
    assert (result.status, result.result) == (503, Result.FAILED)
    # The caller is not authenticated: the Delivery is named in the log, not the answer.
    assert "shop/shop" not in result.message
    assert "shop/shop" in caplog.text
    # Another Delivery's secret still verifies its own pushes.
    assert h.send(hooks.github(OTHER)).requested == (ref("shop", "other"),)


def test_a_delivery_deleted_meanwhile_is_passed_over() -> None:
    url = "https://github.com/acme/shop-deploy"
    h = Harness(delivery("gone", url), delivery("shop", url))

    def gone(r: DeliveryRef) -> None:
        if r.name == "gone":
            raise NotFound(404, "NotFound", "deliveries.hakobu.dev gone not found", {})

    h.fail = gone
    result = h.send(hooks.github(SHOP))
    assert (result.status, result.requested) == (202, (ref("shop"),))


def test_one_failed_request_is_503_and_the_others_are_still_asked() -> None:
    url = "https://github.com/acme/shop-deploy"
    h = Harness(delivery("a", url), delivery("b", url))

    def one_fails(r: DeliveryRef) -> None:
        if r.name == "a":
            raise Unreachable("timed out")

    h.fail = one_fails
    result = h.send(hooks.github(SHOP))
    assert result.status == 503 and "shop/a" in result.message
    assert result.requested == (ref("b"),)


def test_secrets_and_signatures_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    h = Harness(delivery("shop", "https://github.com/acme/shop-deploy"))
    good, bad = hooks.github(SHOP), hooks.github(OTHER)
    for hook in (good, bad, good, hooks.gitlab(SHOP)):
        h.send(hook)
    text = caplog.text
    assert caplog.records
    for secret in (SHOP, OTHER):
        assert secret.decode() not in text
    for hook in (good, bad):
        assert hook.headers["X-Hub-Signature-256"].removeprefix("sha256=") not in text


def test_seen_deliveries_forget_after_their_time_and_beyond_capacity() -> None:
    seen = SeenDeliveries(ttl=100, capacity=3)
    assert seen.claim("a", 0) and not seen.claim("a", 99)
    assert seen.claim("a", 100)
    for key in "bcd":
        assert seen.claim(key, 100)
    # At capacity the oldest ("a") went first.
    assert seen.claim("a", 101)
    assert not seen.claim("d", 101)
    seen.release("d")
    assert seen.claim("d", 101)


def test_a_forged_delivery_id_cannot_forge_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    h = Harness(delivery("shop", "https://github.com/acme/shop-deploy"))
    hook = hooks.github(OTHER, delivery="x\nwebhook github delivery 'y': 202 " + "z" * 500)
    assert h.send(hook).status == 401
    [record] = caplog.records
    assert "\n" not in record.getMessage() and len(record.getMessage()) < 300
