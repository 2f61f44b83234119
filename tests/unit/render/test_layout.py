"""Stable, readable file names for rendered objects."""

from __future__ import annotations

from hakobu.render.layout import file_names


def obj(kind: str, name: str, namespace: str = "", api: str = "v1") -> dict[str, object]:
    meta: dict[str, str] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": api, "kind": kind, "metadata": meta}


def test_kind_and_name() -> None:
    objects = [obj("Deployment", "web", "shop", "apps/v1"), obj("Service", "web", "shop")]
    assert file_names(objects) == ["deployment-web.yaml", "service-web.yaml"]


def test_same_kind_and_name_in_two_namespaces_adds_the_namespace() -> None:
    objects = [obj("ConfigMap", "a", "one"), obj("ConfigMap", "a", "two")]
    assert file_names(objects) == ["configmap-one-a.yaml", "configmap-two-a.yaml"]


def test_same_kind_name_and_namespace_in_two_groups_adds_the_group() -> None:
    objects = [
        obj("Certificate", "tls", "shop", "cert-manager.io/v1"),
        obj("Certificate", "tls", "shop", "example.com/v1"),
    ]
    assert file_names(objects) == [
        "certificate.cert-manager.io-shop-tls.yaml",
        "certificate.example.com-shop-tls.yaml",
    ]
