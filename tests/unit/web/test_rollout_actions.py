"""A rollout's actions over HTTP: the sync permission and the CSRF token, as every action;
and what of a measurement reaches the browser."""

from __future__ import annotations

from pathlib import Path

from hakobu.web.access import LocalAccess
from hakobu.web.rolloutview import without_userinfo
from tests.unit.web.test_server import BASE, KEY, ViewOnly, client

PROMOTE = "/api/v1/environments/dev/apps/web/rollout/promote"


def test_a_viewer_may_not_promote_abort_or_retry(tmp_path: Path) -> None:
    http = client(tmp_path, ViewOnly("viewer", KEY))
    http.post("/api/v1/session", json={"token": KEY})
    csrf = http.get("/api/v1/session").json()["csrf"]
    for action in ("promote", "abort", "retry"):
        response = http.post(
            f"/api/v1/environments/dev/apps/web/rollout/{action}",
            headers={"X-CSRF-Token": csrf, "Origin": BASE},
        )
        assert response.status_code == 403
        assert (
            response.json()["permission"] == "patch on deliveries.hakobu.dev in namespace shop-dev"
        )
        assert f"may not {action} rollouts in dev" in response.json()["message"]


def test_an_action_without_the_csrf_token_is_403_and_an_unknown_one_404(tmp_path: Path) -> None:
    http = client(tmp_path, LocalAccess("admin", KEY))
    http.post("/api/v1/session", json={"token": KEY})
    response = http.post(PROMOTE)
    assert response.status_code == 403 and "X-CSRF-Token" in response.json()["message"]
    csrf = http.get("/api/v1/session").json()["csrf"]
    unknown = http.post(
        "/api/v1/environments/dev/apps/web/rollout/pause",
        headers={"X-CSRF-Token": csrf, "Origin": BASE},
    )
    assert unknown.status_code == 404 and "promote, abort or retry" in unknown.json()["message"]


def test_an_app_without_a_rollout_is_a_clear_400(tmp_path: Path) -> None:
    http = client(tmp_path, LocalAccess("admin", KEY))
    http.post("/api/v1/session", json={"token": KEY})
    csrf = http.get("/api/v1/session").json()["csrf"]
    response = http.post(PROMOTE, headers={"X-CSRF-Token": csrf, "Origin": BASE})
    assert response.status_code == 400
    assert "declaring a canary rollout" in response.json()["message"]


def test_a_measurements_message_loses_the_addresss_credentials() -> None:
    message = "Prometheus at https://ops:s3cret@prom.example:9090 cannot be reached: refused"
    assert without_userinfo(message) == (
        "Prometheus at https://prom.example:9090 cannot be reached: refused"
    )
    assert without_userinfo("result [0.5] meets failureCondition") == (
        "result [0.5] meets failureCondition"
    )
