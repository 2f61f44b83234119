"""Workloads, containers, volumes, security and scheduling in the app spec: what loads, and
the refusals (file:line: field) for what does not fit together."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hakobu.model.appspec import (
    AppSpec,
    ClaimTemplate,
    ContainerSecurity,
    CronJobSpec,
    IngressPath,
    IngressRule,
    IngressTLS,
    JobSpec,
    Mount,
    Security,
    load_app,
)
from hakobu.model.source import SourceError


def load(tmp_path: Path, text: str) -> AppSpec:
    file = tmp_path / "web.yaml"
    file.write_text(textwrap.dedent(text).lstrip("\n"))
    return load_app(file)


def test_a_cron_job_gets_safe_defaults(tmp_path: Path) -> None:
    app = load(
        tmp_path,
        """
        name: report
        image: example.test/report:1
        workload: CronJob
        cronJob: {schedule: "@daily"}
        """,
    )
    assert app.workload == "CronJob"
    assert app.cron_job == CronJobSpec("@daily")
    assert app.cron_job.concurrency_policy == "Forbid"
    assert app.job == JobSpec(restart_policy="OnFailure")


def test_pod_fields_are_typed(tmp_path: Path) -> None:
    app = load(
        tmp_path,
        """
        name: db
        image: example.test/db:16
        workload: StatefulSet
        volumeClaimTemplates: [{name: data, size: 10Gi}]
        volumes: [{name: cache, emptyDir: {}}]
        mounts: [{name: data, mountPath: /data}, {name: cache, mountPath: /cache, readOnly: false}]
        securityContext: {readOnlyRootFilesystem: true, runAsUser: 1000}
        sidecars: [{name: backup, image: example.test/backup:2, securityContext: {runAsUser: 7}}]
        """,
    )
    assert app.claim_templates == (ClaimTemplate("data", "10Gi"),)
    assert app.volumes[0].source == {"emptyDir": {}}
    assert app.mounts == (Mount("data", "/data"), Mount("cache", "/cache", None, False))
    assert app.security == Security(
        run_as_user=1000, container=ContainerSecurity(read_only_root_filesystem=True)
    )
    assert app.sidecars[0].security == ContainerSecurity(run_as_user=7)
    assert app.sidecars[0].image.location == f"{tmp_path}/web.yaml:8"


def test_several_ingress_hosts_share_certificates_by_secret(tmp_path: Path) -> None:
    app = load(
        tmp_path,
        """
        name: web
        image: web:1
        ports: [{name: http, port: 80}, {name: api, port: 81}]
        ingress:
          hosts:
          - {host: a.example.test, tls: {secretName: shared}}
          - host: b.example.test
            paths: [{path: /api, pathType: Exact, port: api}, {path: /}]
            tls: {secretName: shared}
          - {host: c.example.test, tls: {secretName: own}}
        """,
    )
    assert app.ingress is not None
    assert app.ingress.rules[1] == IngressRule(
        "b.example.test",
        (IngressPath("/api", "Exact", "api"), IngressPath("/", "Prefix", "http")),
    )
    assert app.ingress.tls == (
        IngressTLS(("a.example.test", "b.example.test"), "shared"),
        IngressTLS(("c.example.test",), "own"),
    )


BASE = "name: web\nimage: web:1\n"


@pytest.mark.parametrize(
    ("text", "expected", "hint"),
    [
        pytest.param(
            BASE + "sidecars:\n- name: web\n  image: proxy:1\n",
            "web.yaml:4: sidecars[0].name: 'web' is the name of the app's own container",
            "name the container after what it does",
            id="sidecar-named-like-the-app",
        ),
        pytest.param(
            BASE + "sidecars: [{name: proxy, image: proxy:1}]\n"
            "initContainers:\n- {name: proxy, image: proxy:1}\n",
            "web.yaml:5: initContainers[0].name: container name 'proxy' is used twice (also "
            "sidecars[0])",
            None,
            id="duplicate-container-names",
        ),
        pytest.param(
            BASE + "sidecars: [{name: a, image: a:1}, {name: a, image: a:1}]\n",
            "web.yaml:3: sidecars[1].name: container name 'a' is used twice",
            None,
            id="duplicate-sidecars",
        ),
        pytest.param(
            BASE + "workload: CronJob\ncronJob:\n  schedule: '61 * * * *'\n",
            "web.yaml:5: cronJob.schedule: '61 * * * *': bad minute field",
            "such as '*/15 * * * *'",
            id="schedule-bad-minute",
        ),
        pytest.param(
            BASE + "workload: CronJob\ncronJob: {schedule: every day}\n",
            "web.yaml:4: cronJob.schedule: expected a cron schedule of five fields",
            "@daily",
            id="schedule-not-cron",
        ),
        pytest.param(
            BASE + "workload: CronJob\ncronJob: {schedule: '0 0 30 2 *'}\n",
            "web.yaml:4: cronJob.schedule: '0 0 30 2 *': bad day-of-month field",
            None,
            id="schedule-day-that-does-not-exist",
        ),
        pytest.param(
            BASE + "workload: CronJob\ncronJob: {schedule: '@daily', timeZone: Mars/Olympus}\n",
            "web.yaml:4: cronJob.timeZone: 'Mars/Olympus' is not a time zone",
            "Europe/Berlin",
            id="schedule-zone",
        ),
        pytest.param(
            BASE + "workload: CronJob\n",
            "web.yaml:3: workload: a CronJob needs a schedule",
            "cronJob:",
            id="cronjob-without-schedule",
        ),
        pytest.param(
            BASE + "mounts:\n- {name: cache, mountPath: /cache}\n",
            "web.yaml:4: mounts[0].name: no volume is named 'cache' (volumes: none)",
            "declare it under volumes",
            id="mount-undeclared",
        ),
        pytest.param(
            BASE + "volumes: [{name: tmp, emptyDir: {}}]\n"
            "sidecars:\n- name: s\n  image: s:1\n  mounts: [{name: temp, mountPath: /t}]\n",
            "web.yaml:7: sidecars[0].mounts[0].name: no volume is named 'temp' (volumes: tmp)",
            None,
            id="sidecar-mount-undeclared",
        ),
        pytest.param(
            BASE + "configFiles: {mountPath: /etc/web, files: {a: b}}\n"
            "volumes: [{name: config, emptyDir: {}}]\n",
            "web.yaml:4: volumes[0].name: volume name 'config' is taken by the configFiles volume",
            None,
            id="volume-named-config",
        ),
        pytest.param(
            BASE + "volumes: [{name: a, emptyDir: {}}]\n"
            "mounts: [{name: a, mountPath: /a}, {name: a, mountPath: /a}]\n",
            "web.yaml:4: mounts[1].mountPath: /a is mounted twice in the same container",
            None,
            id="mount-path-twice",
        ),
        pytest.param(
            BASE + "volumes:\n- {name: a, emptyDir: {}, secret: {secretName: s}}\n",
            "web.yaml:4: volumes[0]: set exactly one of emptyDir, persistentVolumeClaim, secret, "
            "configMap, projected (found emptyDir, secret)",
            None,
            id="volume-two-sources",
        ),
        pytest.param(
            BASE + "workload: Worker\nports: [{name: http, port: 80}]\nservice: {type: NodePort}\n",
            "web.yaml:5: service: service does not apply to a Worker: it serves no traffic",
            "Deployment, StatefulSet",
            id="service-on-worker",
        ),
        pytest.param(
            BASE + "workload: Job\nports: [{name: http, port: 80}]\n"
            "ingress: {host: web.example.test}\n",
            "web.yaml:5: ingress: ingress does not apply to a Job",
            None,
            id="ingress-on-job",
        ),
        pytest.param(
            BASE + "workload: CronJob\ncronJob: {schedule: '@hourly'}\n"
            "services: [{name: x, ports: [{name: a, port: 1}]}]\n",
            "web.yaml:5: services: services does not apply to a CronJob",
            None,
            id="services-on-cronjob",
        ),
        pytest.param(
            BASE + "workload: Job\nreplicas: 3\n",
            "web.yaml:4: replicas: replicas does not apply to a Job",
            "Deployment, StatefulSet, Worker",
            id="replicas-on-job",
        ),
        pytest.param(
            BASE + "volumeClaimTemplates: [{name: data, size: 1Gi}]\n",
            "web.yaml:3: volumeClaimTemplates: volumeClaimTemplates does not apply to a Deployment",
            None,
            id="claims-on-deployment",
        ),
        pytest.param(
            BASE + "job: {backoffLimit: 1}\n",
            "web.yaml:3: job: job does not apply to a Deployment",
            None,
            id="job-on-deployment",
        ),
        pytest.param(
            BASE + "workload: Batch\n",
            "web.yaml:3: workload: expected one of Deployment, StatefulSet, Worker, Job, CronJob",
            None,
            id="workload-unknown",
        ),
        pytest.param(
            BASE + "environments:\n  prod: {workload: Job}\n",
            "web.yaml:4: environments.prod.workload: unknown field",
            None,
            id="workload-per-environment",
        ),
        pytest.param(
            BASE + "ports: [{name: http, port: 80}]\n"
            "services: [{name: web, ports: [{name: http, port: 81}]}]\n",
            "web.yaml:4: services[0].name: 'web' is the name of the app's own Service",
            None,
            id="extra-service-named-like-the-app",
        ),
        pytest.param(
            BASE + "ports: [{name: http, port: 80}]\n"
            "services: [{name: pub, ports: [{name: http, port: 81, targetPort: https}]}]\n",
            "web.yaml:4: services[0].ports[0].targetPort: no port of the app is named 'https'",
            None,
            id="extra-service-target-port",
        ),
        pytest.param(
            BASE + "ports: [{name: http, port: 80}]\n"
            "ingress:\n  hosts:\n  - host: a.example.test\n    paths: [{path: /, port: grpc}]\n",
            "web.yaml:7: ingress.hosts[0].paths[0].port: no port is named 'grpc'",
            None,
            id="ingress-path-port",
        ),
        pytest.param(
            BASE + "ports: [{name: http, port: 80}]\n"
            "ingress:\n  hosts: [{host: a.example.test}, {host: a.example.test}]\n",
            "web.yaml:5: ingress.hosts[1].host: host 'a.example.test' is listed twice",
            None,
            id="ingress-host-twice",
        ),
        pytest.param(
            BASE + "ports: [{name: http, port: 80}]\n"
            "ingress:\n  hosts: [{host: a.example.test}]\n  path: /x\n",
            "web.yaml:6: ingress.path: path is for a single host",
            None,
            id="ingress-path-with-hosts",
        ),
        pytest.param(
            BASE + "ports: [{name: http, port: 80}]\n"
            "ingress: {host: a.example.test, hosts: [{host: b.example.test}]}\n",
            "web.yaml:4: ingress: set exactly one of host, hosts (found host, hosts)",
            None,
            id="ingress-host-and-hosts",
        ),
        pytest.param(
            BASE + f"service: {{annotations: {{{'a' * 64}: x}}}}\n",
            f"web.yaml:3: service.annotations.{'a' * 57}...: the key's name is 64 characters",
            None,
            id="service-annotation-key",
        ),
        pytest.param(
            BASE + "securityContext: {capabilities: {add: [cap_net_raw]}}\n",
            "web.yaml:3: securityContext.capabilities.add[0]: 'cap_net_raw' is not valid",
            None,
            id="capability-name",
        ),
    ],
)
def test_refusals_name_file_line_and_field(
    tmp_path: Path, text: str, expected: str, hint: str | None
) -> None:
    with pytest.raises(SourceError) as raised:
        load(tmp_path, text)
    error = raised.value
    assert str(error).startswith(f"{tmp_path}/{expected}"), str(error)
    assert error.exit_code == 2
    if hint is not None:
        assert error.hint is not None, str(error)
        assert hint in error.hint, error.hint
