"""Which configuration a workload reads, and the checksum that rolls it."""

from __future__ import annotations

from typing import Any

from hakobu.render.rollout import (
    CHECKSUM_ANNOTATION,
    checksum,
    config_digest,
    references,
    with_checksum,
)

POD_SPEC: dict[str, Any] = {
    "containers": [
        {
            "name": "app",
            "env": [
                {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm-key", "key": "a"}}},
                {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s-key", "key": "b"}}},
                {"name": "C", "value": "plain"},
            ],
            "envFrom": [{"configMapRef": {"name": "cm-from"}}, {"secretRef": {"name": "s-from"}}],
        }
    ],
    "initContainers": [{"name": "init", "envFrom": [{"configMapRef": {"name": "cm-init"}}]}],
    "volumes": [
        {"name": "v1", "configMap": {"name": "cm-vol"}},
        {"name": "v2", "secret": {"secretName": "s-vol"}},
        {
            "name": "v3",
            "projected": {
                "sources": [{"configMap": {"name": "cm-proj"}}, {"secret": {"name": "s-proj"}}]
            },
        },
    ],
}


def workload(kind: str = "Deployment", api: str = "apps/v1") -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "x"}}, "spec": POD_SPEC}
    spec: dict[str, Any] = (
        {"jobTemplate": {"spec": {"template": template}}}
        if kind == "CronJob"
        else {"template": template}
    )
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": "x", "namespace": "ns"},
        "spec": spec,
    }


def test_every_kind_of_reference_is_found() -> None:
    assert references(workload()) == (
        "ConfigMap/ns/cm-from",
        "ConfigMap/ns/cm-init",
        "ConfigMap/ns/cm-key",
        "ConfigMap/ns/cm-proj",
        "ConfigMap/ns/cm-vol",
        "Secret/ns/s-from",
        "Secret/ns/s-key",
        "Secret/ns/s-proj",
        "Secret/ns/s-vol",
    )
    assert references(workload("CronJob", "batch/v1"))[0] == "ConfigMap/ns/cm-from"
    assert references({"apiVersion": "v1", "kind": "Pod", "spec": POD_SPEC}) == ()


def test_checksum_covers_only_rendered_references() -> None:
    refs = references(workload())
    assert checksum(refs, {}) is None
    one = checksum(refs, {"ConfigMap/ns/cm-vol": "d1"})
    assert one is not None
    assert one == checksum(refs, {"ConfigMap/ns/cm-vol": "d1", "ConfigMap/ns/other": "d9"})
    assert one != checksum(refs, {"ConfigMap/ns/cm-vol": "d2"})


def test_sealed_secrets_stand_for_their_secret() -> None:
    sealed = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "s-vol", "namespace": "ns"},
        "spec": {"encryptedData": {"k": "AgB..."}},
    }
    found = config_digest(sealed)
    assert found is not None
    assert found[0] == "Secret/ns/s-vol"
    resealed = {**sealed, "spec": {"encryptedData": {"k": "AgC..."}}}
    assert config_digest(resealed) != found
    assert config_digest({"apiVersion": "v1", "kind": "Service", "metadata": {}}) is None


def test_annotation_goes_on_the_pod_template_without_touching_the_input() -> None:
    original = workload("CronJob", "batch/v1")
    annotated = with_checksum(original, "abc")
    template = annotated["spec"]["jobTemplate"]["spec"]["template"]
    assert template["metadata"]["annotations"] == {CHECKSUM_ANNOTATION: "abc"}
    assert "annotations" not in original["spec"]["jobTemplate"]["spec"]["template"]["metadata"]
