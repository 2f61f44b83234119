from __future__ import annotations

from typing import Any

from hakobu.web.access import ClusterAccess, LocalAccess, Target, Verb
from hakobu.web.sessions import User


class Reviews:
    """An API server that answers TokenReviews and SubjectAccessReviews from tables."""

    def __init__(self, tokens: dict[str, dict[str, Any]], allowed: set[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.allowed = allowed
        self.sent: list[dict[str, Any]] = []

    def request(self, method: str, path: str, *, body: Any = None, **_: Any) -> Any:
        self.sent.append(body)
        if body["kind"] == "TokenReview":
            user = self.tokens.get(body["spec"]["token"])
            return {"status": {"authenticated": True, "user": user} if user else {}}
        attributes = body["spec"]["resourceAttributes"]
        return {"status": {"allowed": (body["spec"]["user"], attributes["verb"]) in self.allowed}}


def test_a_token_is_reviewed_and_the_answer_reused() -> None:
    api = Reviews({"t": {"username": "ada", "groups": ["dev"], "uid": "1"}}, set())
    access = ClusterAccess(api)  # type: ignore[arg-type]
    assert access.authenticate("t") == User("ada", ("dev",), "1")
    assert access.authenticate("t") == User("ada", ("dev",), "1")
    assert access.authenticate("other") is None
    assert access.authenticate("") is None
    assert len(api.sent) == 2


def test_permissions_are_asked_on_the_delivery_with_the_users_groups() -> None:
    api = Reviews({}, {("ada", "get")})
    access = ClusterAccess(api)  # type: ignore[arg-type]
    ada = User("ada", ("dev",))
    assert access.allowed(ada, Verb.VIEW, Target("shop", "shop-dev"))
    assert not access.allowed(ada, Verb.SYNC, Target("shop", "shop-dev"))
    spec = api.sent[0]["spec"]
    assert spec["groups"] == ["dev"]
    assert spec["resourceAttributes"] == {
        "group": "hakobu.dev",
        "resource": "deliveries",
        "namespace": "shop",
        "name": "shop-dev",
        "verb": "get",
    }
    assert (
        Target("shop").describe(Verb.ROLLBACK)
        == "rollback on deliveries.hakobu.dev in namespace shop"
    )


def test_the_local_user_signs_in_with_the_key_only() -> None:
    access = LocalAccess("admin", key="secret-key")
    assert access.authenticate("secret-key") == User("admin")
    assert access.authenticate("secret-kex") is None
    assert access.allowed(User("admin"), Verb.SYNC, Target("ns"))
    assert not access.allowed(User("eve"), Verb.VIEW, Target("ns"))
