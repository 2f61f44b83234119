from __future__ import annotations

from hakobu.web.appview import live_manifest

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def test_a_secrets_values_never_leave_masked_or_not() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "managedFields": [{"manager": "hakobu"}],
            "annotations": {
                LAST_APPLIED: '{"data":{"password":"aHVudGVyMg=="}}',
                "team": "payments",
            },
        },
        "data": {"password": "aHVudGVyMg=="},
        "stringData": {"token": "plain"},
    }
    shown = live_manifest(secret)
    assert "aHVudGVyMg==" not in repr(shown)
    assert "plain" not in repr(shown)
    assert shown["data"] == {"password": "(hidden)"}
    assert shown["metadata"]["annotations"]["team"] == "payments"
    assert "managedFields" not in shown["metadata"]
    assert secret["data"] == {"password": "aHVudGVyMg=="}, "the object read is left alone"


def test_other_objects_are_shown_whole_but_their_managed_fields() -> None:
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "web", "managedFields": []},
        "data": {"colour": "blue"},
    }
    assert live_manifest(config) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "web"},
        "data": {"colour": "blue"},
    }
