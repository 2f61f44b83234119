"""The ``Delivery`` custom resource: one environment of one repository, kept applied.

``spec`` is what a team declares; it is read into a frozen ``Delivery`` (or refused with the
field at fault, which the controller reports as the Stalled condition's message — the API
server's schema already refuses most mistakes, this catches what a schema cannot say, such
as a malformed duration). ``status`` is the controller's alone, written through the status
subresource, so a user's edit of ``spec`` and the controller's report never conflict.

The Secret a Delivery names (``spec.secretRef``) lives in the Delivery's namespace and may
hold, as Flux's GitRepository secrets do: ``username`` and ``password`` (or a token as the
password) for HTTPS; ``identity`` (a private key), ``identity.pub``, ``known_hosts`` and
``password`` (the key's passphrase) for SSH (``gitsecret.py``); and ``webhookSecret``, the
shared secret push webhooks are signed with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hakobu.errors import InvalidInput
from hakobu.model.duration import parse_duration
from hakobu.model.notifications import Notifications, ResourceFields, parse_notifications
from hakobu.model.source import SourceError

GROUP = "hakobu.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "Delivery"
PLURAL = "deliveries"

# Setting it (to any new value; kubectl annotate --overwrite with a timestamp is the habit)
# asks for a pass now, as Flux's reconcile.fluxcd.io/requestedAt does.
RECONCILE_REQUESTED_AT = "hakobu.dev/reconcile-requested-at"

# On every Delivery the controller handles, so that deleting one waits for the controller:
# with prune (and not suspended) it deletes what the Delivery deployed first, as Flux does
# for a Kustomization with prune. `hakobu uninstall` removes it, so nothing waits on a
# controller that is gone.
FINALIZER = "finalizers.hakobu.dev"

DEFAULT_INTERVAL = 180.0
DEFAULT_TIMEOUT = 300.0


class InvalidDelivery(InvalidInput):
    """A Delivery whose spec cannot be followed; its message names the field."""


@dataclass(frozen=True)
class DeliveryRef:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Delivery:
    ref: DeliveryRef
    generation: int
    url: str
    branch: str
    # Where hakobu.yaml lives inside the repository.
    path: str
    environment: str
    interval: float
    timeout: float
    suspend: bool
    prune: bool
    # Seconds after a sync within which turning Degraded rolls it back; None: the
    # environment's own autoRollback in hakobu.yaml decides.
    auto_rollback_window: float | None
    secret_name: str | None
    # A Secret holding a kubeconfig (key ``value``) for another cluster; None: this one.
    cluster_secret: str | None
    keys_namespace: str | None
    reconcile_requested_at: str | None
    # Targets of its own, over those of the project's hakobu.yaml.
    notifications: Notifications = field(default_factory=Notifications)


def parse(obj: dict[str, Any]) -> Delivery:
    """The Delivery ``obj`` declares, or InvalidDelivery naming the field at fault."""
    metadata = obj.get("metadata") or {}
    ref = DeliveryRef(str(metadata.get("namespace", "")), str(metadata.get("name", "")))
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise InvalidDelivery(f"Delivery {ref}: spec: expected a mapping")
    fields = _Fields(ref, spec)
    repository = fields.mapping("repository", required=True)
    repo = _Fields(ref, repository, "repository.")
    cluster = _Fields(ref, fields.mapping("cluster"), "cluster.")
    auto_rollback = fields.mapping("autoRollback")
    annotations = metadata.get("annotations") or {}
    return Delivery(
        ref=ref,
        generation=int(metadata.get("generation", 0)),
        url=repo.text("url", required=True),
        branch=repo.text("branch", default="main"),
        path=repo.text("path", default="."),
        environment=fields.text("environment", required=True),
        interval=fields.duration("interval", DEFAULT_INTERVAL),
        timeout=fields.duration("timeout", DEFAULT_TIMEOUT),
        suspend=fields.flag("suspend"),
        prune=fields.flag("prune"),
        auto_rollback_window=(
            _Fields(ref, auto_rollback, "autoRollback.").duration("window", 300.0)
            if auto_rollback
            else None
        ),
        secret_name=fields.secret_ref("secretRef"),
        cluster_secret=cluster.secret_ref("secretRef"),
        keys_namespace=fields.text("keysNamespace") or None,
        reconcile_requested_at=annotations.get(RECONCILE_REQUESTED_AT),
        notifications=_notifications(ref, spec.get("notifications")),
    )


def _notifications(ref: DeliveryRef, value: Any) -> Notifications:
    try:
        return parse_notifications(
            ResourceFields(
                f"Delivery {ref}", hint=f"kubectl edit delivery -n {ref.namespace} {ref.name}"
            ),
            ("spec", "notifications"),
            value,
        )
    except SourceError as e:
        raise InvalidDelivery(e.message, hint=e.hint) from e


class _Fields:
    def __init__(self, ref: DeliveryRef, data: dict[str, Any], prefix: str = "") -> None:
        self.ref, self.data, self.prefix = ref, data, prefix

    def _error(self, field: str, expected: str, found: object) -> InvalidDelivery:
        return InvalidDelivery(
            f"Delivery {self.ref}: spec.{self.prefix}{field}: expected {expected}, found {found!r}",
            hint=f"kubectl edit delivery -n {self.ref.namespace} {self.ref.name}",
        )

    def mapping(self, field: str, *, required: bool = False) -> dict[str, Any]:
        value = self.data.get(field)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise self._error(field, "a mapping", value)
        return value

    def text(self, field: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(field)
        if value is None and not required:
            return default
        if not isinstance(value, str) or not value:
            raise self._error(field, "a non-empty string", value)
        return value

    def secret_ref(self, field: str) -> str | None:
        """The name in ``field: {name: …}``, or None where the field is absent."""
        if field not in self.data:
            return None
        return _Fields(self.ref, self.mapping(field), f"{self.prefix}{field}.").text(
            "name", required=True
        )

    def flag(self, field: str) -> bool:
        value = self.data.get(field, False)
        if not isinstance(value, bool):
            raise self._error(field, "true or false", value)
        return value

    def duration(self, field: str, default: float) -> float:
        value = self.data.get(field)
        if value is None:
            return default
        try:
            seconds = parse_duration(value) if isinstance(value, str) else None
        except ValueError:
            seconds = None
        if seconds is None or seconds <= 0:
            raise self._error(field, "a duration above zero such as 30s, 5m or 1h", value)
        return seconds
