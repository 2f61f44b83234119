"""A small chart with every part hakobu treats specially: hooks, tests, CRDs, helpers."""

from __future__ import annotations

import subprocess
from pathlib import Path

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: shop\nversion: 0.3.0\nappVersion: '2.1'\n",
    "values.yaml": "replicas: 1\ngreeting: hello\nimage: nginx:1.27\n",
    "crds/gadget.yaml": """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.charts.example.com
spec:
  group: charts.example.com
  names: {kind: Gadget, plural: gadgets, singular: gadget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
""",
    "templates/_helpers.tpl": '{{- define "shop.labels" -}}\n'
    "app.kubernetes.io/name: {{ .Chart.Name }}\n"
    "app.kubernetes.io/instance: {{ .Release.Name }}\n"
    "{{- end }}\n",
    "templates/NOTES.txt": "Installed {{ .Release.Name }}.\n",
    "templates/configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
  labels: {{- include "shop.labels" . | nindent 4 }}
data:
  greeting: {{ .Values.greeting | quote }}
  namespace: {{ .Release.Namespace }}
  kube: {{ .Capabilities.KubeVersion.Version }}
""",
    "templates/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels: {{- include "shop.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {{- include "shop.labels" . | nindent 6 }}
  template:
    metadata:
      labels: {{- include "shop.labels" . | nindent 8 }}
    spec:
      containers:
        - name: web
          image: {{ .Values.image }}
          envFrom:
            - configMapRef:
                name: {{ .Release.Name }}-settings
""",
    "templates/migrate.yaml": """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-1"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: {{ .Values.image }}
          command: [sh, -c, "echo migrating"]
""",
    "templates/tests/connection.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test
  annotations:
    helm.sh/hook: test
spec:
  restartPolicy: Never
  containers:
    - name: check
      image: busybox
      command: [wget, {{ .Release.Name }}]
""",
}


def write_chart(directory: Path, files: dict[str, str] | None = None) -> Path:
    for name, text in (files or CHART).items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


def push_chart(helm_bin: Path, chart: Path, registry: str, scratch: Path) -> Path:
    """Package ``chart`` and push it to ``oci://<registry>/charts`` over plain HTTP, as a
    publisher would; the packaged archive."""
    scratch.mkdir(parents=True, exist_ok=True)
    env = {"HOME": str(scratch), "PATH": "/usr/bin:/bin"}
    packaged = subprocess.run(
        [str(helm_bin), "package", str(chart), "--destination", str(scratch)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    archive = Path(packaged.stdout.strip().rsplit(": ", 1)[-1])
    subprocess.run(
        [str(helm_bin), "push", str(archive), f"oci://{registry}/charts", "--plain-http"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return archive
