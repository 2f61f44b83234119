"""Expanding app specs into Kubernetes objects."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.errors import InvalidInput
from hakobu.model.appspec import AppSpec, load_app
from hakobu.model.objects import Object
from hakobu.render.appspec import REVISION_HISTORY_LIMIT, expand_app


def load(tmp_path: Path, text: str) -> AppSpec:
    file = tmp_path / "web.yaml"
    file.write_text(textwrap.dedent(text).lstrip("\n"))
    return load_app(file)


def expand(tmp_path: Path, text: str, environment: str = "dev") -> list[Object]:
    return expand_app(load(tmp_path, text), environment=environment, namespace="shop")


def by_kind(objects: list[Object]) -> dict[str, Object]:
    found = {obj["kind"]: obj for obj in objects}
    assert len(found) == len(objects), "one object per kind expected"
    return found


def container(objects: list[Object]) -> dict[str, Any]:
    containers = by_kind(objects)["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    found: dict[str, Any] = containers[0]
    return found


MINIMAL = """
name: web
image: example.test/web:1.4.2
ports: [{name: http, port: 80, targetPort: 8080}]
"""

RECOMMENDED_LABELS = {
    "app.kubernetes.io/name": "web",
    "app.kubernetes.io/instance": "web",
    "app.kubernetes.io/version": "1.4.2",
    "app.kubernetes.io/managed-by": "hakobu",
}
SELECTOR = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}


def test_minimal_app(tmp_path: Path) -> None:
    objects = expand(tmp_path, MINIMAL)
    assert [obj["kind"] for obj in objects] == ["Service", "Deployment"]
    service, deployment = objects
    for obj in objects:
        assert obj["metadata"]["namespace"] == "shop"
        assert obj["metadata"]["name"] == "web"
        assert obj["metadata"]["labels"] == RECOMMENDED_LABELS
        assert "annotations" not in obj["metadata"]
    assert service == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": service["metadata"],
        "spec": {
            "type": "ClusterIP",
            "selector": SELECTOR,
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    assert deployment["apiVersion"] == "apps/v1"
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["revisionHistoryLimit"] == REVISION_HISTORY_LIMIT
    assert spec["selector"] == {"matchLabels": SELECTOR}
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    assert spec["template"]["metadata"] == {"labels": RECOMMENDED_LABELS}
    assert spec["template"]["spec"] == {
        "containers": [
            {
                "name": "web",
                "image": "example.test/web:1.4.2",
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "readinessProbe": {"tcpSocket": {"port": "http"}},
                "livenessProbe": {"tcpSocket": {"port": "http"}},
            }
        ]
    }


def test_app_without_ports_is_a_lone_deployment_without_probes(tmp_path: Path) -> None:
    objects = expand(tmp_path, "name: worker\nimage: worker:2\n")
    assert [obj["kind"] for obj in objects] == ["Deployment"]
    assert container(objects) == {"name": "worker", "image": "worker:2"}


def test_full_app(tmp_path: Path) -> None:
    objects = expand(
        tmp_path,
        """
        name: web
        image: {repository: example.test/web, tag: "1.4.2", pullPolicy: IfNotPresent}
        component: frontend
        partOf: shop
        ports:
          - {name: http, port: 80, targetPort: 8080}
          - {name: metrics, port: 9090}
        command: [/bin/web]
        args: [--serve]
        env: {LOG_LEVEL: info}
        envFrom: [{configMapRef: {name: settings}}]
        resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}
        autoscaling: {minReplicas: 2, maxReplicas: 10}
        probes: {readiness: {path: /ready}}
        ingress: {host: web.example.test, tls: {secretName: web-tls}}
        podDisruptionBudget: {minAvailable: 1}
        configFiles: {mountPath: /etc/web, files: {web.conf: "listen 8080\\n"}}
        serviceAccount: {}
        labels: {team: shop}
        annotations: {owner: shop-team}
        extraObjects:
          - {apiVersion: v1, kind: Secret, metadata: {name: extra}}
        """,
    )
    assert [obj["kind"] for obj in objects] == [
        "ServiceAccount",
        "ConfigMap",
        "Service",
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Ingress",
        "Secret",
    ]
    labels = {
        **RECOMMENDED_LABELS,
        "app.kubernetes.io/component": "frontend",
        "app.kubernetes.io/part-of": "shop",
        "team": "shop",
    }
    for obj in objects[:-1]:
        assert obj["metadata"]["labels"] == labels
        assert obj["metadata"]["namespace"] == "shop"
        assert obj["metadata"]["annotations"] == {"owner": "shop-team"}
    assert objects[-1] == {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "extra"}}
    main = container(objects)
    assert main["image"] == "example.test/web:1.4.2"
    assert main["imagePullPolicy"] == "IfNotPresent"
    assert (main["command"], main["args"]) == (["/bin/web"], ["--serve"])
    assert main["env"] == [{"name": "LOG_LEVEL", "value": "info"}]
    assert main["envFrom"] == [{"configMapRef": {"name": "settings"}}]
    assert main["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"memory": "256Mi"},
    }
    assert main["readinessProbe"] == {"httpGet": {"path": "/ready", "port": "http"}}
    assert main["livenessProbe"] == {"tcpSocket": {"port": "http"}}
    assert "replicas" not in by_kind(objects)["Deployment"]["spec"]


def test_autoscaling_makes_an_hpa_and_drops_replicas(tmp_path: Path) -> None:
    objects = expand(
        tmp_path,
        """
        name: web
        image: web:1
        replicas: 3
        resources: {requests: {cpu: 1, memory: 1Gi}}
        autoscaling:
          minReplicas: 2
          maxReplicas: 6
          targetCPUUtilizationPercentage: 70
          targetMemoryUtilizationPercentage: 85
        """,
    )
    kinds = by_kind(objects)
    assert "replicas" not in kinds["Deployment"]["spec"]
    hpa = kinds["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"] == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 2,
        "maxReplicas": 6,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": name,
                    "target": {"type": "Utilization", "averageUtilization": target},
                },
            }
            for name, target in (("cpu", 70), ("memory", 85))
        ],
    }
    # Numbers become quantities as text.
    assert container(objects)["resources"] == {"requests": {"cpu": "1", "memory": "1Gi"}}


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        ("{minAvailable: '50%'}", {"minAvailable": "50%"}),
        ("{maxUnavailable: 1}", {"maxUnavailable": 1}),
    ],
)
def test_disruption_budget(tmp_path: Path, budget: str, expected: dict[str, Any]) -> None:
    pdb = by_kind(expand(tmp_path, f"name: web\nimage: web:1\npodDisruptionBudget: {budget}\n"))[
        "PodDisruptionBudget"
    ]
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"] == {**expected, "selector": {"matchLabels": SELECTOR}}


def test_ingress(tmp_path: Path) -> None:
    objects = expand(
        tmp_path,
        """
        name: web
        image: web:1
        ports: [{name: grpc, port: 9000}, {name: http, port: 80}]
        ingress:
          host: web.example.test
          path: /api
          port: http
          className: nginx
          tls: {secretName: web-tls}
          annotations: {nginx.ingress.kubernetes.io/ssl-redirect: "true"}
        annotations: {owner: shop-team}
        """,
    )
    ingress = by_kind(objects)["Ingress"]
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    assert ingress["metadata"]["annotations"] == {
        "owner": "shop-team",
        "nginx.ingress.kubernetes.io/ssl-redirect": "true",
    }
    assert ingress["spec"] == {
        "ingressClassName": "nginx",
        "tls": [{"hosts": ["web.example.test"], "secretName": "web-tls"}],
        "rules": [
            {
                "host": "web.example.test",
                "http": {
                    "paths": [
                        {
                            "path": "/api",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "web", "port": {"name": "http"}}},
                        }
                    ]
                },
            }
        ],
    }


def test_ingress_defaults_to_the_main_port_and_plain_http(tmp_path: Path) -> None:
    ingress = by_kind(expand(tmp_path, MINIMAL + "ingress: {host: web.example.test}\n"))["Ingress"]
    assert "tls" not in ingress["spec"]
    assert "ingressClassName" not in ingress["spec"]
    path = ingress["spec"]["rules"][0]["http"]["paths"][0]
    assert (path["path"], path["backend"]["service"]["port"]) == ("/", {"name": "http"})


def test_config_files_are_mounted_and_roll_the_pods_on_change(tmp_path: Path) -> None:
    def render(content: str) -> list[Object]:
        return expand(
            tmp_path,
            "name: web\nimage: web:1\n"
            f"configFiles: {{mountPath: /etc/web, files: {{b.conf: {content}, a.conf: x}}}}\n",
        )

    objects = render("one")
    config_map = by_kind(objects)["ConfigMap"]
    assert config_map["metadata"]["name"] == "web-config"
    assert list(config_map["data"].items()) == [("a.conf", "x"), ("b.conf", "one")]
    pod = by_kind(objects)["Deployment"]["spec"]["template"]
    assert pod["spec"]["volumes"] == [{"name": "config", "configMap": {"name": "web-config"}}]
    assert container(objects)["volumeMounts"] == [
        {"name": "config", "mountPath": "/etc/web", "readOnly": True}
    ]
    # The checksum that rolls the pods is added for the whole environment at render time.
    assert "annotations" not in pod["metadata"]


def test_service_account_created_or_existing(tmp_path: Path) -> None:
    created = expand(tmp_path, "name: web\nimage: web:1\nserviceAccount: {annotations: {a: b}}\n")
    account = by_kind(created)["ServiceAccount"]
    assert account["metadata"]["name"] == "web"
    assert account["metadata"]["annotations"] == {"a": "b"}
    pod_spec = by_kind(created)["Deployment"]["spec"]["template"]["spec"]
    assert pod_spec["serviceAccountName"] == "web"

    existing = expand(
        tmp_path, "name: web\nimage: web:1\nserviceAccount: {create: false, name: shared}\n"
    )
    assert [obj["kind"] for obj in existing] == ["Deployment"]
    pod_spec = existing[0]["spec"]["template"]["spec"]
    assert pod_spec["serviceAccountName"] == "shared"


def test_env_references(tmp_path: Path) -> None:
    env = container(
        expand(
            tmp_path,
            """
            name: web
            image: web:1
            env:
              A: {configMapKeyRef: {name: flags, key: a, optional: true}}
              B: {secretKeyRef: {name: db, key: password}}
              C: {fieldRef: {fieldPath: status.podIP}}
            envFrom:
              - {secretRef: {name: creds, optional: false}, prefix: CREDS_}
            """,
        )
    )
    assert env["env"] == [
        {
            "name": "A",
            "valueFrom": {"configMapKeyRef": {"name": "flags", "key": "a", "optional": True}},
        },
        {"name": "B", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"name": "C", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
    ]
    assert env["envFrom"] == [
        {"secretRef": {"name": "creds", "optional": False}, "prefix": "CREDS_"}
    ]


def test_probes_overridden_disabled_and_startup(tmp_path: Path) -> None:
    main = container(
        expand(
            tmp_path,
            MINIMAL
            + """
probes:
  readiness: {path: /ready, port: 8081, scheme: HTTPS, periodSeconds: 5, failureThreshold: 2}
  liveness: false
  startup: {command: [/bin/started], initialDelaySeconds: 3}
""",
        )
    )
    assert main["readinessProbe"] == {
        "httpGet": {"path": "/ready", "port": 8081, "scheme": "HTTPS"},
        "periodSeconds": 5,
        "failureThreshold": 2,
    }
    assert "livenessProbe" not in main
    assert main["startupProbe"] == {"exec": {"command": ["/bin/started"]}, "initialDelaySeconds": 3}


def test_no_default_probes_for_a_udp_main_port(tmp_path: Path) -> None:
    main = container(
        expand(tmp_path, "name: dns\nimage: dns:1\nports: [{name: dns, port: 53, protocol: UDP}]\n")
    )
    assert "readinessProbe" not in main
    assert "livenessProbe" not in main


@pytest.mark.parametrize(
    ("image", "version"),
    [
        ("web@sha256:" + "a" * 64, None),
        ("web:" + "v" * 64, None),
        ("web:1.0-", None),
        ("web:1.0-rc.1", "1.0-rc.1"),
    ],
)
def test_version_label_only_when_the_tag_is_a_label_value(
    tmp_path: Path, image: str, version: str | None
) -> None:
    (deployment,) = expand(tmp_path, f"name: web\nimage: {image}\n")
    assert deployment["metadata"]["labels"].get("app.kubernetes.io/version") == version
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image


def test_pod_labels_and_annotations(tmp_path: Path) -> None:
    (deployment,) = expand(
        tmp_path,
        "name: web\nimage: web:1\nlabels: {team: shop}\n"
        "podAnnotations: {prometheus.io/scrape: 'true'}\n",
    )
    template = deployment["spec"]["template"]["metadata"]
    assert template["labels"]["team"] == "shop"
    assert template["annotations"] == {"prometheus.io/scrape": "true"}
    assert "annotations" not in deployment["metadata"]
    # The selector never includes the spec's own labels: it cannot change after creation.
    assert deployment["spec"]["selector"] == {"matchLabels": SELECTOR}


# --- environments --------------------------------------------------------------------------

ENVIRONMENTS = """
name: web
image: web:1.0
ports: [{name: http, port: 80}]
replicas: 2
env: {LOG_LEVEL: debug, TRACE: "on"}
environments:
  production:
    image: web:1.1
    replicas: 5
    env: {LOG_LEVEL: warn, TRACE: null}
    ingress: {host: web.example.test}
"""


def test_environment_overrides_apply_only_to_their_environment(tmp_path: Path) -> None:
    app = load(tmp_path, ENVIRONMENTS)
    production = expand_app(app, environment="production", namespace="shop-prod")
    staging = expand_app(app, environment="staging", namespace="shop-staging")
    assert [obj["kind"] for obj in production] == ["Service", "Deployment", "Ingress"]
    assert [obj["kind"] for obj in staging] == ["Service", "Deployment"]
    assert {obj["metadata"]["namespace"] for obj in production} == {"shop-prod"}
    assert {obj["metadata"]["namespace"] for obj in staging} == {"shop-staging"}
    prod_deployment = by_kind(production)["Deployment"]
    assert prod_deployment["spec"]["replicas"] == 5
    assert container(production)["image"] == "web:1.1"
    assert container(production)["env"] == [{"name": "LOG_LEVEL", "value": "warn"}]
    assert prod_deployment["metadata"]["labels"]["app.kubernetes.io/version"] == "1.1"
    assert container(staging)["env"] == [
        {"name": "LOG_LEVEL", "value": "debug"},
        {"name": "TRACE", "value": "on"},
    ]
    assert by_kind(staging)["Deployment"]["spec"]["replicas"] == 2


def test_invalid_namespace_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a valid namespace name"):
        expand_app(load(tmp_path, MINIMAL), environment="dev", namespace="Shop_1")


# --- patches and extra objects ------------------------------------------------------------


def test_patches_merge_into_generated_objects(tmp_path: Path) -> None:
    objects = expand(
        tmp_path,
        MINIMAL
        + """
patches:
  - kind: Deployment
    spec:
      template:
        spec:
          containers:
            - name: web
              securityContext: {runAsNonRoot: true}
              livenessProbe: null
            - name: proxy
              image: proxy:1
  - kind: Service
    metadata: {name: web}
    spec: {type: NodePort}
""",
    )
    kinds = by_kind(objects)
    containers = kinds["Deployment"]["spec"]["template"]["spec"]["containers"]
    web = next(c for c in containers if c["name"] == "web")
    assert web["securityContext"] == {"runAsNonRoot": True}
    assert "livenessProbe" not in web
    assert web["readinessProbe"] == {"tcpSocket": {"port": "http"}}
    assert {"name": "proxy", "image": "proxy:1"} in containers
    assert kinds["Service"]["spec"]["type"] == "NodePort"
    assert kinds["Service"]["spec"]["ports"][0]["name"] == "http"


def test_a_patch_can_delete_a_generated_object(tmp_path: Path) -> None:
    objects = expand(tmp_path, MINIMAL + "patches: [{kind: Service, $patch: delete}]\n")
    assert [obj["kind"] for obj in objects] == ["Deployment"]


def test_a_patch_that_matches_nothing_names_its_line(tmp_path: Path) -> None:
    text = MINIMAL + "patches:\n  - kind: Deployment\n    metadata: {name: api}\n"
    with pytest.raises(InvalidInput) as raised:
        expand(tmp_path, text)
    assert str(raised.value).startswith(
        f"{tmp_path}/web.yaml:5: the patch for Deployment/api matches no generated object"
    )
    assert raised.value.hint is not None
    assert "Deployment/shop/web" in raised.value.hint


def test_a_patch_of_the_wrong_shape_is_invalid_input(tmp_path: Path) -> None:
    text = MINIMAL + "patches:\n  - {kind: Deployment, spec: {template: [1]}}\n"
    with pytest.raises(InvalidInput, match=r"web\.yaml:5: "):
        expand(tmp_path, text)


def test_extra_objects_may_not_repeat_a_generated_object(tmp_path: Path) -> None:
    text = MINIMAL + "extraObjects:\n  - {apiVersion: v1, kind: Service, metadata: {name: web}}\n"
    with pytest.raises(InvalidInput, match=r"extraObjects\[0\]: Service/web has the same kind"):
        expand(tmp_path, text)


def test_extra_objects_in_another_namespace_are_distinct(tmp_path: Path) -> None:
    text = MINIMAL + (
        "extraObjects:\n  - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: x}}\n"
    )
    assert [obj["kind"] for obj in expand(tmp_path, text)] == ["Service", "Deployment", "Service"]


# --- determinism ---------------------------------------------------------------------------


def test_expansion_is_deterministic_and_leaves_the_spec_alone(tmp_path: Path) -> None:
    app = load(
        tmp_path,
        ENVIRONMENTS
        + """
    patches: [{kind: Deployment, spec: {template: {spec: {containers: [{name: web, tty: true}]}}}}]
    extraObjects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: extra}, data: {a: b}}]
""",
    )
    before = copy.deepcopy(app)
    first = expand_app(app, environment="production", namespace="shop")
    first[-1]["data"]["a"] = "changed"
    second = expand_app(app, environment="production", namespace="shop")
    third = expand_app(
        load(tmp_path, (tmp_path / "web.yaml").read_text()),
        environment="production",
        namespace="shop",
    )
    assert app == before
    assert yaml.safe_dump_all(second) == yaml.safe_dump_all(third)
    assert second[-1]["data"] == {"a": "b"}
    assert container(second[:-1])["tty"] is True
