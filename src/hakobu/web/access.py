"""Who is asking, and may they: Kubernetes decides.

With ``ClusterAccess`` a bearer token is checked with a TokenReview and every request is
authorized with a SubjectAccessReview on the environment's Delivery (``deliveries`` of
``hakobu.dev`` in the environment's namespace): ``get`` to view, ``patch`` to sync,
suspend and resume, and the verbs ``rollback`` and ``promote`` for those actions. The
cluster's RBAC is the whole policy. The server's own identity needs ``create`` on
``tokenreviews`` and ``subjectaccessreviews`` (what ``system:auth-delegator`` grants).

With ``LocalAccess`` (``hakobu ui``) there is one user, the kubeconfig's: every request the
server makes is that identity's own, so the API server applies its RBAC directly. Signing in
takes the random key the command prints (in the URL it opens), so another user of the same
machine cannot use the port.
"""

from __future__ import annotations

import enum
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from hakobu.cluster.api import KubeApi
from hakobu.controller.delivery import GROUP, PLURAL
from hakobu.errors import HakobuError
from hakobu.web.sessions import User

_TOKEN_REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"  # noqa: S105 (a path)
_SELF_REVIEWS = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
_ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
# How long an answer is reused: a revoked token or role stops working within this time.
_CACHE_SECONDS = 10.0

K = TypeVar("K")
V = TypeVar("V")


class Verb(enum.StrEnum):
    VIEW = "get"
    SYNC = "patch"
    ROLLBACK = "rollback"
    PROMOTE = "promote"


# What each action needs, as the API's 403 names it.
ACTIONS = {"sync": Verb.SYNC, "suspend": Verb.SYNC, "resume": Verb.SYNC}
ACTIONS |= {"rollback": Verb.ROLLBACK, "promote": Verb.PROMOTE}


@dataclass(frozen=True)
class Target:
    """The Delivery a permission is asked on: its namespace and, when known, its name."""

    namespace: str
    name: str = ""

    def describe(self, verb: Verb) -> str:
        named = f" {self.name}" if self.name else ""
        return f"{verb} on {PLURAL}.{GROUP}{named} in namespace {self.namespace}"


class Access(Protocol):
    signs_in: bool

    def authenticate(self, token: str) -> User | None: ...

    def allowed(self, user: User, verb: Verb, target: Target) -> bool: ...


class LocalAccess:
    """The kubeconfig's identity, which the API server itself holds to its RBAC."""

    signs_in = False

    def __init__(self, name: str, key: str | None = None) -> None:
        self.user = User(name)
        self.key = key if key is not None else secrets.token_urlsafe(24)

    def authenticate(self, token: str) -> User | None:
        return self.user if hmac.compare_digest(token.encode(), self.key.encode()) else None

    def allowed(self, user: User, verb: Verb, target: Target) -> bool:
        return user == self.user


def local_access(kube: KubeApi, fallback: str) -> LocalAccess:
    """The kubeconfig's identity as the API server names it (a SelfSubjectReview), else
    ``fallback`` (the context's name) where the server does not say."""
    try:
        review = kube.request(
            "POST",
            _SELF_REVIEWS,
            body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        )
    except HakobuError:
        return LocalAccess(fallback)
    name = ((review.get("status") or {}).get("userInfo") or {}).get("username")
    return LocalAccess(str(name) if name else fallback)


class ClusterAccess:
    signs_in = True

    def __init__(self, kube: KubeApi) -> None:
        self._kube = kube
        self._lock = threading.Lock()
        self._users: dict[str, tuple[float, User | None]] = {}
        self._decisions: dict[tuple[User, Verb, Target], tuple[float, bool]] = {}

    def authenticate(self, token: str) -> User | None:
        """The user the API server says ``token`` belongs to, or None for a token it does
        not accept (unknown, expired, revoked)."""
        if not token:
            return None
        cached = self._cached(self._users, token)
        if cached is not None:
            return cached[0]
        review = self._kube.request(
            "POST",
            _TOKEN_REVIEWS,
            body={
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenReview",
                "spec": {"token": token},
            },
        )
        status: dict[str, Any] = review.get("status") or {}
        user = _user(status.get("user") or {}) if status.get("authenticated") else None
        with self._lock:
            self._users[token] = (time.monotonic() + _CACHE_SECONDS, user)
        return user

    def allowed(self, user: User, verb: Verb, target: Target) -> bool:
        key = (user, verb, target)
        cached = self._cached(self._decisions, key)
        if cached is not None:
            return cached[0]
        attributes = {"group": GROUP, "resource": PLURAL, "namespace": target.namespace}
        attributes["verb"] = str(verb)
        if target.name:
            attributes["name"] = target.name
        spec: dict[str, Any] = {"user": user.name, "resourceAttributes": attributes}
        if user.groups:
            spec["groups"] = list(user.groups)
        if user.uid:
            spec["uid"] = user.uid
        if user.extra:
            spec["extra"] = {k: list(v) for k, v in user.extra}
        review = self._kube.request(
            "POST",
            _ACCESS_REVIEWS,
            body={
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SubjectAccessReview",
                "spec": spec,
            },
        )
        allowed = bool((review.get("status") or {}).get("allowed"))
        with self._lock:
            self._decisions[key] = (time.monotonic() + _CACHE_SECONDS, allowed)
        return allowed

    def _cached(self, cache: dict[K, tuple[float, V]], key: K) -> tuple[V] | None:
        with self._lock:
            found = cache.get(key)
            if found is None or found[0] < time.monotonic():
                cache.pop(key, None)
                return None
            return (found[1],)


def _user(info: dict[str, Any]) -> User:
    extra = info.get("extra") or {}
    return User(
        str(info.get("username", "")),
        tuple(str(g) for g in info.get("groups") or ()),
        str(info.get("uid", "")),
        tuple(sorted((str(k), tuple(str(v) for v in vs)) for k, vs in extra.items())),
    )
