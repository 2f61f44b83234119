"""A canary's traffic router checked at render time against the objects its app renders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hakobu.cli.main import main
from hakobu.errors import InvalidInput
from hakobu.model.canary import ROLLOUT_ANNOTATION
from hakobu.render.canaryspec import check_canaries


def deployment(router: dict[str, Any], **canary: Any) -> dict[str, Any]:
    declared = {"canary": {"steps": [{"setWeight": 20}], "trafficRouting": router, **canary}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "annotations": {ROLLOUT_ANNOTATION: json.dumps(declared)}},
    }


SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}
GATEWAY = {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web"}}}
NGINX = {"nginx": {"stableIngress": "web"}}


def route(service: str) -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web"},
        "spec": {"rules": [{"backendRefs": [{"name": service, "port": 80}]}]},
    }


def ingress(service: str) -> dict[str, Any]:
    backend = {"service": {"name": service, "port": {"number": 80}}}
    paths = [{"path": "/", "pathType": "Prefix", "backend": backend}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web"},
        "spec": {"rules": [{"http": {"paths": paths}}]},
    }


def test_a_router_naming_what_the_app_renders_passes() -> None:
    check_canaries("web", [deployment(GATEWAY), SERVICE, route("web")])
    check_canaries("web", [deployment(NGINX), SERVICE, ingress("web")])


PREFIX = "app web: Deployment/web: metadata.annotations.hakobu.dev/rollout.canary"


@pytest.mark.parametrize(
    ("objects", "expected"),
    [
        (
            [deployment(GATEWAY), SERVICE],
            f"{PREFIX}.trafficRouting.plugins.argoproj-labs/gatewayAPI.httpRoute: the app "
            "renders no HTTPRoute 'web'",
        ),
        (
            [deployment(GATEWAY), SERVICE, route("api")],
            f"{PREFIX}.trafficRouting.plugins.argoproj-labs/gatewayAPI.httpRoute: HTTPRoute "
            "'web' sends no traffic to Service 'web'",
        ),
        (
            [deployment(NGINX), SERVICE, ingress("api")],
            f"{PREFIX}.trafficRouting.nginx.stableIngress: Ingress 'web' sends no traffic to "
            "Service 'web'",
        ),
        (
            [deployment(NGINX, stableService="front"), SERVICE, ingress("web")],
            f"{PREFIX}.stableService: the app renders no Service 'front'",
        ),
    ],
)
def test_a_router_naming_what_the_app_does_not_render_is_refused(
    objects: list[dict[str, Any]], expected: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_canaries("web", objects)
    assert str(raised.value.message).startswith(expected)


def test_render_refuses_a_route_the_app_does_not_render_naming_its_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = tmp_path / "apps" / "web"
    app.mkdir(parents=True)
    (tmp_path / "hakobu.yaml").write_text(
        "apiVersion: hakobu.dev/v1alpha1\nkind: Project\nname: shop\napps: apps\n"
        "output: generated\nenvironments: {production: {namespace: shop}}\n"
    )
    (app / "kustomization.yaml").write_text("resources: [deployment.yaml, service.yaml]\n")
    (app / "deployment.yaml").write_text(json.dumps(deployment(GATEWAY)))
    (app / "service.yaml").write_text(json.dumps(SERVICE))
    assert main(["render", "-C", str(tmp_path)]) == 2
    assert (
        "app web (apps/web): Deployment/web: metadata.annotations.hakobu.dev/rollout"
        ".canary.trafficRouting.plugins.argoproj-labs/gatewayAPI.httpRoute: the app renders "
        "no HTTPRoute 'web'"
    ) in capsys.readouterr().err
    assert not (tmp_path / "generated").exists()
