"""The API's contract over HTTP: sign-in, sessions, CSRF, headers, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from hakobu.model.project import Project, load_project
from hakobu.web.access import LocalAccess, Target, Verb
from hakobu.web.monitor import Monitor
from hakobu.web.server import CSP, create_app, dashboard
from hakobu.web.sessions import User
from hakobu.web.snapshot import AppCell, EnvSnapshot
from tests.fakes.kube import FakeKube

KEY = "the-key"
BASE = "http://testserver"


class ViewOnly(LocalAccess):
    def allowed(self, user: User, verb: Verb, target: Target) -> bool:
        return verb is Verb.VIEW


def snapshot(_kube: Any, project: Project, env: str) -> EnvSnapshot:
    cell = AppCell("Synced", "Healthy", ("shop/web:1.0",), (), ())
    return EnvSnapshot(env, f"shop-{env}", "a" * 40, "a" * 40, {"web": cell})


def client(tmp_path: Path, access: LocalAccess) -> TestClient:
    project_file = {
        "apiVersion": "hakobu.dev/v1alpha1",
        "kind": "Project",
        "name": "shop",
        "environments": {"dev": {"namespace": "shop-dev"}},
    }
    (tmp_path / "hakobu.yaml").write_text(yaml.safe_dump(project_file))
    project = load_project(tmp_path)
    kube = FakeKube()
    board = dashboard(project, kube, access)
    board.monitor = Monitor(kube, project, board.broadcast, read=snapshot)
    return TestClient(create_app(board), base_url=BASE)


@pytest.fixture
def signed_in(tmp_path: Path) -> tuple[TestClient, str]:
    http = client(tmp_path, LocalAccess("admin", KEY))
    assert http.post("/api/v1/session", json={"token": KEY}).status_code == 200
    return http, http.get("/api/v1/session").json()["csrf"]


def test_without_a_session_a_page_is_401_with_the_sign_in_form(tmp_path: Path) -> None:
    http = client(tmp_path, LocalAccess("admin", KEY))
    response = http.get("/")
    assert response.status_code == 401
    assert 'id="signin"' in response.text
    assert response.headers["content-security-policy"] == CSP
    assert http.get("/api/v1/overview").status_code == 401


def test_a_wrong_token_is_401_and_the_right_one_sets_a_strict_cookie(tmp_path: Path) -> None:
    http = client(tmp_path, LocalAccess("admin", KEY))
    assert http.post("/api/v1/session", json={"token": "nope"}).status_code == 401
    response = http.post("/api/v1/session", json={"token": KEY})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    overview = http.get("/api/v1/overview").json()
    assert overview["environments"][0]["apps"]["web"]["images"] == ["shop/web:1.0"]


def test_behind_a_proxy_terminating_tls_the_cookie_is_secure(tmp_path: Path) -> None:
    http = client(tmp_path, LocalAccess("admin", KEY))
    plain = http.post("/api/v1/session", json={"token": KEY})
    assert "secure" not in plain.headers["set-cookie"].lower()
    proxied = http.post(
        "/api/v1/session", json={"token": KEY}, headers={"X-Forwarded-Proto": "https"}
    )
    assert "; secure" in proxied.headers["set-cookie"].lower()


def test_a_bearer_token_needs_no_cookie(tmp_path: Path) -> None:
    http = client(tmp_path, LocalAccess("admin", KEY))
    response = http.get("/api/v1/overview", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200


def test_an_action_without_the_csrf_token_or_from_another_origin_is_403(
    signed_in: tuple[TestClient, str],
) -> None:
    http, csrf = signed_in
    response = http.post("/api/v1/environments/dev/sync/preview", json={})
    assert response.status_code == 403
    assert "X-CSRF-Token" in response.json()["message"]
    foreign = http.post(
        "/api/v1/environments/dev/sync/preview",
        json={},
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert "evil.example" in foreign.json()["message"]


def test_a_malformed_request_is_400_naming_the_field(signed_in: tuple[TestClient, str]) -> None:
    http, csrf = signed_in
    headers = {"X-CSRF-Token": csrf, "Origin": BASE}
    response = http.post(
        "/api/v1/environments/dev/sync/preview", json={"prune": "yes"}, headers=headers
    )
    assert response.status_code == 400
    assert response.json()["field"] == "prune"
    missing = http.post("/api/v1/environments/dev/sync", json={}, headers=headers)
    assert (missing.status_code, missing.json()["field"]) == (400, "basis")
    broken = http.post("/api/v1/environments/dev/sync", content=b"{", headers=headers)
    assert (broken.status_code, broken.json()["field"]) == (400, "body")
    assert http.get("/api/v1/environments/dev/history?limit=x").json()["field"] == "limit"
    assert http.get("/api/v1/environments/qa/apps/web").status_code == 404


def test_a_forbidden_action_is_403_naming_the_permission(tmp_path: Path) -> None:
    http = client(tmp_path, ViewOnly("viewer", KEY))
    http.post("/api/v1/session", json={"token": KEY})
    session = http.get("/api/v1/session").json()
    assert session["can"] == {
        "dev": {
            "sync": False,
            "suspend": False,
            "resume": False,
            "rollback": False,
            "promote": False,
        }
    }
    response = http.post(
        "/api/v1/environments/dev/sync",
        json={"basis": "x"},
        headers={"X-CSRF-Token": session["csrf"]},
    )
    assert response.status_code == 403
    assert response.json()["permission"] == ("patch on deliveries.hakobu.dev in namespace shop-dev")


def test_the_openapi_document_lists_every_api_route(tmp_path: Path) -> None:
    http = client(tmp_path, LocalAccess("admin", KEY))
    document = http.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    paths = {str(getattr(route, "path", "")) for route in http.app.routes}  # type: ignore[attr-defined]
    routes = {p for p in paths if p.startswith("/api/v1/")} - {"/api/v1/openapi.json"}
    assert routes == set(document["paths"])
