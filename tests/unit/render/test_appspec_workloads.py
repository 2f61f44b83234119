"""Expanding the workload kinds, the pod's extra containers, volumes, security context and
scheduling, and the Services and Ingress hosts of an app spec."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from hakobu.errors import InvalidInput
from hakobu.model.appspec import load_app
from hakobu.model.objects import Object
from hakobu.render.appspec import expand_app

SELECTOR = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}
SAFE_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": False,
    "capabilities": {"drop": ["ALL"]},
}


def expand(tmp_path: Path, text: str, images: dict[str, str] | None = None) -> list[Object]:
    file = tmp_path / "web.yaml"
    file.write_text(textwrap.dedent(text).lstrip("\n"))
    return expand_app(load_app(file), environment="dev", namespace="shop", images=images)


def refs(objects: list[Object]) -> list[str]:
    return [f"{obj['kind']}/{obj['metadata']['name']}" for obj in objects]


def pod_spec(obj: Object) -> dict[str, Any]:
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    found: dict[str, Any] = spec["template"]["spec"]
    return found


def test_a_worker_is_a_deployment_without_a_service(tmp_path: Path) -> None:
    objects = expand(
        tmp_path,
        """
        name: web
        image: web:1
        workload: Worker
        ports: [{name: metrics, port: 9090}]
        podDisruptionBudget: {maxUnavailable: 1}
        """,
    )
    assert refs(objects) == ["Deployment/web", "PodDisruptionBudget/web"]
    (container,) = pod_spec(objects[0])["containers"]
    assert container["ports"] == [{"name": "metrics", "containerPort": 9090, "protocol": "TCP"}]


def test_a_job_runs_once_without_default_probes(tmp_path: Path) -> None:
    (job,) = expand(
        tmp_path,
        """
        name: web
        image: web:1
        workload: Job
        ports: [{name: http, port: 80}]
        job: {backoffLimit: 2, activeDeadlineSeconds: 600, completions: 3, parallelism: 1}
        """,
    )
    assert job["apiVersion"] == "batch/v1"
    assert job["kind"] == "Job"
    spec = dict(job["spec"])
    template = spec.pop("template")
    assert spec == {
        "backoffLimit": 2,
        "activeDeadlineSeconds": 600,
        "completions": 3,
        "parallelism": 1,
    }
    assert template["spec"]["restartPolicy"] == "OnFailure"
    (container,) = template["spec"]["containers"]
    assert "readinessProbe" not in container
    assert "livenessProbe" not in container


@pytest.mark.parametrize("workload", ["Job", "CronJob"])
def test_a_batch_workloads_sidecars_are_native_sidecars(tmp_path: Path, workload: str) -> None:
    schedule = "cronJob: {schedule: '@hourly'}\n" if workload == "CronJob" else ""
    (obj,) = expand(
        tmp_path,
        f"name: web\nimage: web:1\nworkload: {workload}\n{schedule}"
        "initContainers: [{name: wait-for-db, image: wait:1}]\n"
        "sidecars: [{name: proxy, image: proxy:1}]\n",
    )
    pod = pod_spec(obj)
    assert [c["name"] for c in pod["containers"]] == ["web"]
    assert pod["initContainers"] == [
        {"name": "wait-for-db", "image": "wait:1"},
        {"name": "proxy", "image": "proxy:1", "restartPolicy": "Always"},
    ]


def test_a_cron_job_has_its_schedule_concurrency_and_history(tmp_path: Path) -> None:
    (cron,) = expand(
        tmp_path,
        """
        name: web
        image: web:1
        workload: CronJob
        cronJob:
          schedule: "*/15 * * * *"
          timeZone: Europe/Berlin
          concurrencyPolicy: Replace
          successfulJobsHistoryLimit: 5
          failedJobsHistoryLimit: 2
          startingDeadlineSeconds: 120
          suspend: true
        job: {restartPolicy: Never}
        """,
    )
    spec = dict(cron["spec"])
    job_template = spec.pop("jobTemplate")
    assert spec == {
        "schedule": "*/15 * * * *",
        "timeZone": "Europe/Berlin",
        "concurrencyPolicy": "Replace",
        "successfulJobsHistoryLimit": 5,
        "failedJobsHistoryLimit": 2,
        "startingDeadlineSeconds": 120,
        "suspend": True,
    }
    assert job_template["metadata"]["labels"] == cron["metadata"]["labels"]
    assert job_template["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_a_stateful_set_has_a_headless_service_and_claims(tmp_path: Path) -> None:
    objects = expand(
        tmp_path,
        """
        name: web
        image: web:1
        workload: StatefulSet
        replicas: 3
        ports: [{name: pg, port: 5432}]
        volumeClaimTemplates:
        - {name: data, size: 10Gi, accessModes: [ReadWriteOncePod], storageClassName: fast}
        mounts: [{name: data, mountPath: /var/lib/data}]
        autoscaling: {maxReplicas: 5}
        resources: {requests: {cpu: 1}}
        """,
    )
    assert refs(objects) == [
        "Service/web",
        "Service/web-headless",
        "StatefulSet/web",
        "HorizontalPodAutoscaler/web",
    ]
    headless = objects[1]["spec"]
    assert headless["clusterIP"] == "None"
    assert headless["publishNotReadyAddresses"] is True
    assert headless["ports"] == objects[0]["spec"]["ports"]
    spec = objects[2]["spec"]
    assert "replicas" not in spec
    assert spec["serviceName"] == "web-headless"
    assert spec["volumeClaimTemplates"] == [
        {
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOncePod"],
                "resources": {"requests": {"storage": "10Gi"}},
                "storageClassName": "fast",
            },
        }
    ]
    (container,) = pod_spec(objects[2])["containers"]
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/var/lib/data"}]
    assert objects[3]["spec"]["scaleTargetRef"]["kind"] == "StatefulSet"


def test_sidecars_init_containers_volumes_and_mounts(tmp_path: Path) -> None:
    objects = expand(
        tmp_path,
        """
        name: web
        image: web:1
        configFiles: {mountPath: /etc/web, files: {a.conf: x}}
        volumes:
        - {name: cache, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
        - {name: certs, secret: {secretName: tls, items: [{key: tls.crt, path: cert.pem}],
           defaultMode: 0o440}}
        - {name: shared, persistentVolumeClaim: {claimName: shared, readOnly: true}}
        - {name: scratch, emptyDir: {medium: ""}}
        - {name: writable, persistentVolumeClaim: {claimName: writable, readOnly: false}}
        - {name: all, projected: {sources: [{configMap: {name: c}},
           {serviceAccountToken: {path: token, audience: vault}}]}}
        mounts:
        - {name: cache, mountPath: /cache}
        - {name: certs, mountPath: /certs, readOnly: true, subPath: cert.pem}
        sidecars:
        - name: proxy
          image: {name: proxy}
          args: [--upstream=127.0.0.1:8080]
          env: {MODE: sidecar}
          envFrom: [{secretRef: {name: proxy}}]
          ports: [{name: proxy, containerPort: 8443}]
          resources: {limits: {memory: 64Mi}}
          mounts: [{name: config, mountPath: /etc/proxy}]
        initContainers:
        - name: migrate
          image: migrate:3
          command: [/migrate]
          mounts: [{name: all, mountPath: /all}]
        """,
        images={"proxy": "example.test/proxy:abc123"},
    )
    assert refs(objects) == ["ConfigMap/web-config", "Deployment/web"]
    pod = pod_spec(objects[1])
    assert [c["name"] for c in pod["containers"]] == ["web", "proxy"]
    assert pod["containers"][0]["volumeMounts"] == [
        {"name": "config", "mountPath": "/etc/web", "readOnly": True},
        {"name": "cache", "mountPath": "/cache"},
        {"name": "certs", "mountPath": "/certs", "subPath": "cert.pem", "readOnly": True},
    ]
    assert pod["containers"][1] == {
        "name": "proxy",
        "image": "example.test/proxy:abc123",
        "args": ["--upstream=127.0.0.1:8080"],
        "ports": [{"name": "proxy", "containerPort": 8443, "protocol": "TCP"}],
        "env": [{"name": "MODE", "value": "sidecar"}],
        "envFrom": [{"secretRef": {"name": "proxy"}}],
        "resources": {"limits": {"memory": "64Mi"}},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/proxy"}],
    }
    assert pod["initContainers"] == [
        {
            "name": "migrate",
            "image": "migrate:3",
            "command": ["/migrate"],
            "volumeMounts": [{"name": "all", "mountPath": "/all"}],
        }
    ]
    assert pod["volumes"] == [
        {"name": "config", "configMap": {"name": "web-config"}},
        {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
        {
            "name": "certs",
            "secret": {
                "secretName": "tls",
                "items": [{"key": "tls.crt", "path": "cert.pem"}],
                "defaultMode": 0o440,
            },
        },
        {"name": "shared", "persistentVolumeClaim": {"claimName": "shared", "readOnly": True}},
        # As the API server stores them: the default values are no field.
        {"name": "scratch", "emptyDir": {}},
        {"name": "writable", "persistentVolumeClaim": {"claimName": "writable"}},
        {
            "name": "all",
            "projected": {
                "sources": [
                    {"configMap": {"name": "c"}},
                    {"serviceAccountToken": {"path": "token", "audience": "vault"}},
                ]
            },
        },
    ]


def test_a_sidecar_naming_an_undeclared_image_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as raised:
        expand(
            tmp_path,
            "name: web\nimage: web:1\nsidecars:\n- name: proxy\n  image: {name: proxy}\n",
            images={},
        )
    assert str(raised.value).startswith(f"{tmp_path}/web.yaml:5: image.name: no image named")


def test_security_context_safe_defaults_and_overrides(tmp_path: Path) -> None:
    (deployment,) = expand(
        tmp_path,
        """
        name: web
        image: web:1
        securityContext: {readOnlyRootFilesystem: true, runAsUser: 1000, fsGroup: 2000}
        sidecars:
        - name: root-helper
          image: helper:1
          securityContext:
            runAsUser: 0
            readOnlyRootFilesystem: false
            allowPrivilegeEscalation: true
            capabilities: {add: [NET_ADMIN]}
        initContainers:
        - {name: init, image: init:1}
        """,
    )
    pod = pod_spec(deployment)
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "fsGroup": 2000,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    main, helper = pod["containers"]
    assert main["securityContext"] == {**SAFE_CONTAINER, "readOnlyRootFilesystem": True}
    assert pod["initContainers"][0]["securityContext"] == main["securityContext"]
    assert helper["securityContext"] == {
        "allowPrivilegeEscalation": True,
        "readOnlyRootFilesystem": False,
        "capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN"]},
        "runAsUser": 0,
    }


def test_an_empty_security_context_is_the_safe_defaults(tmp_path: Path) -> None:
    (deployment,) = expand(tmp_path, "name: web\nimage: web:1\nsecurityContext: {}\n")
    pod = pod_spec(deployment)
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["containers"][0]["securityContext"] == SAFE_CONTAINER


def test_without_a_security_context_nothing_is_set(tmp_path: Path) -> None:
    (deployment,) = expand(tmp_path, "name: web\nimage: web:1\nsidecars: [{name: s, image: s:1}]\n")
    pod = pod_spec(deployment)
    assert "securityContext" not in pod
    assert all("securityContext" not in c for c in pod["containers"])


def test_scheduling(tmp_path: Path) -> None:
    (deployment,) = expand(
        tmp_path,
        """
        name: web
        image: web:1
        nodeSelector: {kubernetes.io/os: linux}
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}]}]
        tolerations: [{key: dedicated, operator: Equal, value: web, effect: NoSchedule}]
        topologySpreadConstraints:
        - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone}
        - {maxSkew: 2, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway}
        priorityClassName: business-critical
        """,
    )
    pod = pod_spec(deployment)
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert pod["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}
    ]
    assert pod["topologySpreadConstraints"] == [
        {
            "whenUnsatisfiable": "DoNotSchedule",
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "labelSelector": {"matchLabels": SELECTOR},
        },
        {
            "whenUnsatisfiable": "ScheduleAnyway",
            "maxSkew": 2,
            "topologyKey": "kubernetes.io/hostname",
            "labelSelector": {"matchLabels": SELECTOR},
        },
    ]
    assert pod["priorityClassName"] == "business-critical"


def test_service_type_and_extra_services(tmp_path: Path) -> None:
    objects = expand(
        tmp_path,
        """
        name: web
        image: web:1
        ports: [{name: http, port: 80, targetPort: 8080}, {name: admin, port: 9000}]
        service: {type: NodePort, annotations: {example.test/team: shop}}
        services:
        - name: web-public
          type: LoadBalancer
          annotations: {example.test/lb: external}
          ports: [{name: https, port: 443, targetPort: http, nodePort: 30443}]
        - {name: web-admin, ports: [{name: admin, port: 9000, targetPort: 9000, protocol: TCP}]}
        """,
    )
    assert refs(objects) == [
        "Service/web",
        "Service/web-public",
        "Service/web-admin",
        "Deployment/web",
    ]
    own, public, admin = objects[:3]
    assert own["spec"]["type"] == "NodePort"
    assert own["metadata"]["annotations"] == {"example.test/team": "shop"}
    assert public["metadata"]["annotations"] == {"example.test/lb": "external"}
    assert public["spec"] == {
        "type": "LoadBalancer",
        "selector": SELECTOR,
        "ports": [
            {
                "name": "https",
                "port": 443,
                "targetPort": "http",
                "protocol": "TCP",
                "nodePort": 30443,
            }
        ],
    }
    assert admin["spec"]["type"] == "ClusterIP"
    assert admin["spec"]["ports"][0]["targetPort"] == 9000


def test_several_ingress_hosts_with_paths_and_tls(tmp_path: Path) -> None:
    objects = expand(
        tmp_path,
        """
        name: web
        image: web:1
        ports: [{name: http, port: 80}, {name: api, port: 81}]
        ingress:
          className: nginx
          hosts:
          - host: shop.example.test
            paths: [{path: /api, pathType: Exact, port: api}, {path: /}]
            tls: {secretName: shop-tls}
          - {host: www.shop.example.test, tls: {secretName: shop-tls}}
          - {host: plain.example.test}
        """,
    )
    ingress = objects[-1]["spec"]
    assert ingress["ingressClassName"] == "nginx"
    assert ingress["tls"] == [
        {"hosts": ["shop.example.test", "www.shop.example.test"], "secretName": "shop-tls"}
    ]

    def route(path: str, kind: str, port: str) -> Object:
        backend = {"service": {"name": "web", "port": {"name": port}}}
        return {"path": path, "pathType": kind, "backend": backend}

    assert ingress["rules"] == [
        {
            "host": "shop.example.test",
            "http": {"paths": [route("/api", "Exact", "api"), route("/", "Prefix", "http")]},
        },
        {"host": "www.shop.example.test", "http": {"paths": [route("/", "Prefix", "http")]}},
        {"host": "plain.example.test", "http": {"paths": [route("/", "Prefix", "http")]}},
    ]
