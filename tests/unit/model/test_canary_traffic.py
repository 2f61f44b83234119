"""Traffic routers, HTTP checks and background analysis as an app spec declares them, and
their errors with file:line:field."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from hakobu.model.appspec import AppSpec, load_app
from hakobu.model.canary import Analysis, Canary
from hakobu.model.source import SourceError
from hakobu.model.traffic import (
    ROUTE_ANNOTATION,
    GatewayAPI,
    Nginx,
    TrafficRouting,
    holding_route,
    routed,
)
from hakobu.model.webcheck import WebRequest

HEAD = """\
name: web
image: example.test/web:1.0
replicas: 10
"""


def load(tmp_path: Path, rollout: str) -> AppSpec:
    file = tmp_path / "web.yaml"
    file.write_text(HEAD + textwrap.dedent(rollout).lstrip("\n"))
    return load_app(file)


def error(tmp_path: Path, rollout: str) -> str:
    with pytest.raises(SourceError) as raised:
        load(tmp_path, rollout)
    return str(raised.value)


def test_a_gateway_api_route_and_an_nginx_ingress(tmp_path: Path) -> None:
    spec = load(
        tmp_path,
        """
        rollout:
          canary:
            stableService: web-stable
            trafficRouting:
              plugins:
                argoproj-labs/gatewayAPI: {httpRoute: web}
            steps: [{setWeight: 20}]
        """,
    )
    assert isinstance(spec.rollout, Canary)
    assert spec.rollout.traffic == TrafficRouting(GatewayAPI("web"), "web-stable", False)
    spec = load(
        tmp_path,
        """
        rollout:
          canary:
            dynamicStableScale: true
            trafficRouting: {nginx: {stableIngress: web}}
            steps: [{setWeight: 20}]
        """,
    )
    assert isinstance(spec.rollout, Canary)
    assert spec.rollout.traffic == TrafficRouting(Nginx("web"), None, True)


def test_an_http_check_and_a_background_analysis(tmp_path: Path) -> None:
    spec = load(
        tmp_path,
        """
        rollout:
          canary:
            steps:
              - setWeight: 20
              - analysis:
                  web:
                    url: http://web-canary.shop/healthz
                    headers: [{key: Authorization, value: Bearer t}]
                    jsonPath: "{$.checks[0].ok}"
                  successCondition: result[0] == 1
            analysis:
              startingStep: 1
              templates:
                - web: {url: http://web-canary.shop/healthz, method: POST, body: "{}"}
                  interval: 10s
                - address: http://prom.test
                  query: up
                  failureCondition: result[0] < 1
                  count: 3
        """,
    )
    assert isinstance(spec.rollout, Canary)
    step = spec.rollout.steps[1]
    assert isinstance(step, Analysis) and step.web is not None
    assert step.web.json_path == ("checks", 0, "ok")
    assert step.web.headers == (("Authorization", "Bearer t"),)
    assert (step.address, step.query, step.count) == ("", "", 1)
    background = spec.rollout.background
    assert background is not None and background.starting_step == 1
    web, prometheus = background.analyses
    # Without a count a background analysis measures until the rollout ends.
    assert (web.count, web.interval_seconds, web.success, web.failure) == (0, 10.0, None, None)
    assert web.web == WebRequest("http://web-canary.shop/healthz", "POST", (), "{}", 10, None, "")
    assert (prometheus.count, prometheus.web) == (3, None)


@pytest.mark.parametrize(
    ("rollout", "expected"),
    [
        (
            """
            rollout:
              canary:
                trafficRouting: {nginx: {stableIngress: web}, plugins: {}}
                steps: [{setWeight: 20}]
            """,
            "web.yaml:6: rollout.canary.trafficRouting: expected exactly one router",
        ),
        (
            """
            rollout:
              canary:
                trafficRouting: {plugins: {argoproj-labs/istio: {}}}
                steps: [{setWeight: 20}]
            """,
            "web.yaml:6: rollout.canary.trafficRouting.plugins.argoproj-labs/istio: unknown field",
        ),
        (
            """
            rollout:
              canary:
                trafficRouting: {nginx: {stableIngress: Web_1}}
                steps: [{setWeight: 20}]
            """,
            "web.yaml:6: rollout.canary.trafficRouting.nginx.stableIngress: expected the name "
            "of an Ingress, got 'Web_1'",
        ),
        (
            """
            rollout:
              canary:
                stableService: web
                steps: [{setWeight: 20}]
            """,
            "web.yaml:6: rollout.canary.stableService: only means something with trafficRouting",
        ),
        (
            """
            rollout:
              canary:
                steps:
                  - setWeight: 20
                  - analysis: {web: {url: "ftp://x"}}
            """,
            "web.yaml:8: rollout.canary.steps[1].analysis.web.url: expected an http:// or "
            "https:// URL",
        ),
        (
            """
            rollout:
              canary:
                steps:
                  - setWeight: 20
                  - analysis: {web: {url: "http://x", body: "{}"}}
            """,
            "web.yaml:8: rollout.canary.steps[1].analysis.web.body: expected a string, with "
            "method POST or PUT",
        ),
        (
            """
            rollout:
              canary:
                steps:
                  - setWeight: 20
                  - analysis: {web: {url: "http://x", jsonPath: "{$.items[?(@.ok)]}"}}
            """,
            "web.yaml:8: rollout.canary.steps[1].analysis.web.jsonPath: '{$.items[?(@.ok)]}': "
            "cannot read",
        ),
        (
            """
            rollout:
              canary:
                steps:
                  - setWeight: 20
                  - analysis: {web: {url: "http://x"}, query: up}
            """,
            "web.yaml:8: rollout.canary.steps[1].analysis.query: an analysis measures either",
        ),
        (
            """
            rollout:
              canary:
                steps: [{setWeight: 20}, {pause: {}}]
                analysis: {templates: [{web: {url: "http://x"}}], startingStep: 2}
            """,
            "web.yaml:7: rollout.canary.analysis.startingStep: step 2 is past the last step",
        ),
        (
            """
            rollout:
              canary:
                steps: [{setWeight: 20}]
                analysis: {templates: []}
            """,
            "web.yaml:7: rollout.canary.analysis.templates: expected a list of analyses",
        ),
    ],
)
def test_bad_declarations_name_file_line_and_field(
    tmp_path: Path, rollout: str, expected: str
) -> None:
    assert expected in error(tmp_path, rollout)


def routed_live(kind: str, weight: str | None, field: str, value: object) -> dict[str, Any]:
    api = "v1" if kind == "Service" else "gateway.networking.k8s.io/v1"
    annotations = {} if weight is None else {ROUTE_ANNOTATION: weight}
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": "web", "annotations": annotations},
        "spec": {field: value},
    }


@pytest.mark.parametrize(
    ("kind", "field", "git", "live"),
    [
        ("Service", "selector", {"app": "web"}, {"app": "web", "pod-template-hash": "5c59"}),
        (
            "HTTPRoute",
            "rules",
            [{"backendRefs": [{"name": "web"}]}],
            [{"backendRefs": [{"name": "web", "weight": 80}, {"name": "web-c", "weight": 20}]}],
        ),
    ],
)
def test_a_sync_holds_what_the_router_set_while_the_canary_has_traffic(
    kind: str, field: str, git: object, live: object
) -> None:
    desired = routed_live(kind, None, field, git)
    held = holding_route(desired, routed_live(kind, "20", field, live))
    assert held["spec"] == {field: live}
    # Back at weight 0 (or never routed), git's version is applied.
    assert holding_route(desired, routed_live(kind, "0", field, live)) == desired
    assert holding_route(desired, None) == desired
    assert routed(routed_live(kind, "0", field, live)) and not routed(desired)
