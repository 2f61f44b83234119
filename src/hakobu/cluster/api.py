"""What the rest of hakobu needs of an API server, as a protocol ``KubeClient`` satisfies.

Sync, its Lease and its records are written against ``KubeApi`` rather than the HTTP client,
so their rules can also be exercised against an in-memory API server in tests.
"""

from __future__ import annotations

from typing import Any, Protocol

from hakobu.cluster.client import ObjectList, PropagationPolicy
from hakobu.cluster.discovery import ApiResource
from hakobu.model.objects import Object


class KubeApi(Protocol):
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str | None = None,
        retried: bool = True,
        counted_as: str | None = None,
    ) -> Any: ...

    def resource(self, api_version: str, kind: str) -> ApiResource: ...

    def refresh_discovery(self) -> dict[tuple[str, str], ApiResource]: ...

    def api_warnings(self, api_version: str, kind: str) -> tuple[str, ...]: ...

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> Object: ...

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        not_older_than: str | None = None,
    ) -> ObjectList: ...

    def create(
        self, obj: Object, *, field_manager: str | None = None, dry_run: bool = False
    ) -> Object: ...

    def apply(
        self,
        obj: Object,
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
    ) -> Object: ...

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        propagation: PropagationPolicy = "Foreground",
    ) -> None: ...
