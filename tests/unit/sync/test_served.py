"""What the target server does not serve blocks its app before anything is written; what
it has deprecated is applied, with the server's warning passed on."""

from __future__ import annotations

from hakobu.cluster.discovery import ApiResource
from hakobu.model.objects import Object
from hakobu.sync import observe
from hakobu.sync.manifests import AppManifests, DesiredState, Manifest
from hakobu.sync.run import Outcome
from tests.fakes.kube import BUILT_IN, FakeKube
from tests.unit.sync.test_engine import ENV, NS, PROJECT, configmap, names, run

WIDGETS = ApiResource("example.com", "v1", "Widget", "widgets", namespaced=True)
CRDS = ApiResource(
    "apiextensions.k8s.io",
    "v1",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    namespaced=False,
)


def ingress(api_version: str) -> Object:
    return {
        "apiVersion": api_version,
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {},
    }


def widget(api_version: str = "example.com/v1") -> Object:
    return {"apiVersion": api_version, "kind": "Widget", "metadata": {"name": "w", "namespace": NS}}


def widget_crd() -> Object:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }


def apps(**by_app: list[Object]) -> DesiredState:
    return DesiredState(
        "dev",
        "r1",
        tuple(
            AppManifests(app, tuple(Manifest(o, f"{app}/{o['kind'].lower()}.yaml") for o in objs))
            for app, objs in by_app.items()
        ),
    )


def test_a_removed_api_version_blocks_its_app_naming_the_release_and_the_replacement() -> None:
    kube = FakeKube()
    result = run(
        kube,
        apps(
            web=[configmap("web-config"), ingress("extensions/v1beta1")],
            api=[configmap("api-config")],
        ),
    )
    web, api = sorted(result.apps, key=lambda a: a.app != "web")
    assert web.result is Outcome.FAILED
    assert web.messages == (
        "web/ingress.yaml: Ingress/shop-dev/web: Ingress extensions/v1beta1 is not served by "
        "this cluster (Kubernetes 1.36.0): Kubernetes 1.22 stopped serving extensions/v1beta1; "
        "use apiVersion: networking.k8s.io/v1 (see the Deprecated API Migration Guide for the "
        "fields that changed)",
    )
    # Nothing of the blocked app was written; the other app was synced.
    assert api.result is Outcome.SUCCEEDED
    assert names(kube) == {"api-config"}


def test_an_unknown_kind_is_blocked_unless_a_crd_of_the_environment_defines_it() -> None:
    kube = FakeKube()
    blocked = run(kube, apps(web=[widget()]))
    [message] = blocked.apps[0].messages
    assert message.endswith(
        "Widget example.com/v1 is not served by this cluster (Kubernetes 1.36.0): no "
        "CustomResourceDefinition in the cluster or in this environment defines it"
    )
    # Defined by a CRD another app of the environment declares (applied before it).
    kube = FakeKube((*BUILT_IN, CRDS))
    states = observe(kube, PROJECT, ENV, apps(crds=[widget_crd()], web=[widget()]))
    assert [s.blocked for s in states] == [(), ()]


def test_a_deprecated_version_is_applied_with_the_servers_warning() -> None:
    kube = FakeKube((*BUILT_IN, WIDGETS))
    kube.deprecations[("example.com/v1", "Widget")] = (
        "example.com/v1 Widget is deprecated; use example.com/v2 Widget",
    )
    result = run(kube, apps(web=[widget()]))
    assert result.apps[0].result is Outcome.SUCCEEDED
    assert result.apps[0].messages == (
        "warning: web/widget.yaml: Widget example.com/v1: example.com/v1 Widget is deprecated; "
        "use example.com/v2 Widget",
    )
