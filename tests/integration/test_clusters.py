"""One environment delivered to two real control planes side by side: `hakobu sync`,
`status` and `history` per cluster, a cluster that cannot be reached failing only its
part, promotion refused while one cluster of the source is Degraded; a fleet instance
Degraded on one cluster is Degraded for its FleetInstance, the controller's rollout step,
`fleet status` and `promote --fleet`."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hakobu.cli.main import main
from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import NotFound
from hakobu.cluster.kubeconfig import load
from hakobu.controller.deliveries import request_reconcile
from hakobu.controller.delivery import API_VERSION, DeliveryRef
from hakobu.controller.fleetinstance import API_VERSION as FLEET_API_VERSION
from hakobu.errors import OperationFailed
from hakobu.localcluster import controlplane
from hakobu.localcluster.controlplane import ClusterInfo
from hakobu.model.clusters import Cluster
from hakobu.model.project import load_project
from hakobu.model.usercache import cache_root
from hakobu.releases import HealthCheck, require_healthy
from tests.integration.controllerkit import (
    Controller,
    condition,
    create_delivery,
    data,
    holds,
    running_controller,
    status,
    wait_until,
)
from tests.integration.test_agent import Remote

pytestmark = pytest.mark.cluster

FIRST, SECOND = "hakobu-local", "hakobu-second"
# A label only the first cluster's node carries: pods that ask for it stay Pending in the
# second one.
ZONE = "hakobu.dev/test-zone"


@pytest.fixture(scope="module")
def second_cluster() -> Iterator[ClusterInfo]:
    """A second control plane beside the session's, with its own state and context."""
    first = Path(os.environ.get("HAKOBU_TEST_CLUSTER_DIR", cache_root() / "test-cluster"))
    state_dir = first.with_name(first.name + "-second")
    controlplane.down(state_dir)
    info, _ = controlplane.up(
        state_dir, lambda m: print(f"[second cluster] {m}", file=sys.stderr), context=SECOND
    )
    yield info
    controlplane.down(state_dir)


@pytest.fixture
def kube_two(second_cluster: ClusterInfo) -> Iterator[KubeClient]:
    with KubeClient(load(Path(second_cluster.kubeconfig))) as client:
        yield client


@pytest.fixture
def kubeconfigs(
    local_cluster: ClusterInfo,
    second_cluster: ClusterInfo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """KUBECONFIG of both clusters' files, and a third whose context `gone` reaches nothing."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gone = tmp_path / "gone.kubeconfig"
    gone.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "gone"}}],
                "clusters": [
                    {
                        "name": "gone",
                        "cluster": {
                            "server": f"https://127.0.0.1:{port}",
                            "insecure-skip-tls-verify": True,
                        },
                    }
                ],
                "users": [{"name": "gone", "user": {"token": "t"}}],
            }
        )
    )
    files = (local_cluster.kubeconfig, second_cluster.kubeconfig, str(gone))
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(files))


@pytest.fixture
def both(namespace: str, kube_two: KubeClient) -> Iterator[str]:
    """The namespace of the test in the second cluster too (sync would create it; this
    deletes it after)."""
    yield namespace
    with contextlib.suppress(NotFound):
        kube_two.delete("v1", "Namespace", namespace, propagation="Background")


def project(root: Path, namespace: str, clusters: list[dict[str, str]]) -> Path:
    root.mkdir()
    (root / "hakobu.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "hakobu.dev/v1alpha1",
                "kind": "Project",
                "name": "shop",
                "environments": {"dev": {"namespace": namespace, "clusters": clusters}},
            }
        )
    )
    git(root, "init", "-q", "-b", "main")
    return root


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "-c", "user.email=ci@example.com", "-c", "user.name=CI", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def commit(root: Path, objects: dict[str, dict[str, Any]], message: str) -> str:
    for app, obj in objects.items():
        directory = root / "generated" / "dev" / app
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        (directory / name).write_text(yaml.safe_dump(obj))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def deployment(name: str, *, zone: bool = False) -> dict[str, Any]:
    pod: dict[str, Any] = {"containers": [{"name": name, "image": "nginx:1.27"}]}
    if zone:
        pod["nodeSelector"] = {ZONE: "ready"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            # Pods that cannot be scheduled turn the Deployment Degraded within moments.
            "progressDeadlineSeconds": 5,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod},
        },
    }


def absent(kube: KubeClient, kind: str, name: str, namespace: str) -> bool:
    try:
        kube.get("apps/v1", kind, name, namespace)
    except NotFound:
        return True
    return False


def hakobu(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def wait_for(what: str, check: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {timeout:.0f}s")
        time.sleep(0.2)


@pytest.mark.usefixtures("kubeconfigs")
def test_one_environment_syncs_to_both_clusters_with_status_and_history_per_cluster(
    kube: KubeClient,
    kube_two: KubeClient,
    both: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = project(
        tmp_path / "shop",
        both,
        [{"name": "one", "context": FIRST}, {"name": "two", "context": SECOND}],
    )
    revision = commit(root, {"web": deployment("web")}, "web")
    cwd = ("-C", str(root))

    code, out, err = hakobu(capsys, "sync", "dev", *cwd, "-o", "json")
    assert code == 0, out + err
    synced = json.loads(out)
    assert [(c["cluster"], c["reach"], c["sync"]["result"]) for c in synced["clusters"]] == [
        ("one", "Done", "Succeeded"),
        ("two", "Done", "Succeeded"),
    ]
    assert {c["sync"]["revision"] for c in synced["clusters"]} == {revision}
    # Each cluster's progress lines say which cluster they are about.
    assert "[one] " in err and "[two] " in err
    for client in (kube, kube_two):
        assert client.get("apps/v1", "Deployment", "web", both)["metadata"]["name"] == "web"

    code, out, _ = hakobu(capsys, "status", "dev", *cwd, "-o", "json")
    assert code == 0, out
    statuses = json.loads(out)["clusters"]
    assert [
        (c["cluster"], [(a["app"], a["sync"], a["health"]) for a in c["apps"]]) for c in statuses
    ] == [("one", [("web", "Synced", "Healthy")]), ("two", [("web", "Synced", "Healthy")])]

    # One cluster changed by hand: only its status says so.
    kube_two.delete("apps/v1", "Deployment", "web", both)
    wait_for("deleted", lambda: absent(kube_two, "Deployment", "web", both))
    code, out, _ = hakobu(capsys, "status", "dev", *cwd)
    assert code == 1
    assert out.splitlines() == [
        f"cluster one (context {FIRST}):",
        "  web: Synced, Healthy",
        f"cluster two (context {SECOND}):",
        "  web: Drifted, Missing",
        f"    Deployment/{both}/web (create)",
        f"    Deployment/{both}/web Missing",
    ]

    # Only the second cluster is synced again: the history of each has its own syncs.
    assert hakobu(capsys, "sync", "dev", *cwd, "--cluster", "two")[0] == 0
    code, out, _ = hakobu(capsys, "history", "dev", *cwd, "-o", "json")
    assert code == 0, out
    history = {c["cluster"]: c for c in json.loads(out)["clusters"]}
    assert [len(history[name]["commits"][0]["syncs"]) for name in ("one", "two")] == [1, 2]
    assert history["one"]["running"] == history["two"]["running"] == revision
    assert history["two"]["commits"][0]["health"] == "Healthy"


@pytest.mark.usefixtures("kubeconfigs")
def test_a_cluster_that_cannot_be_reached_fails_only_its_part(
    kube: KubeClient, namespace: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(
        tmp_path / "shop",
        namespace,
        [{"name": "one", "context": FIRST}, {"name": "gone"}],
    )
    commit(root, {"web": deployment("web")}, "web")
    cwd = ("-C", str(root), "--request-timeout", "2s")

    started = time.monotonic()
    code, out, err = hakobu(capsys, "sync", "dev", *cwd)
    assert code == 1, out + err
    assert time.monotonic() - started < 60
    lines = out.splitlines()
    assert lines[0] == f"cluster one (context {FIRST}):"
    assert ": Succeeded — 1 applied" in lines[1]
    [gone] = [line for line in lines if line.startswith("cluster gone")]
    assert gone.startswith("cluster gone (context gone): Unreachable — ")
    assert "127.0.0.1" in gone
    assert kube.get("apps/v1", "Deployment", "web", namespace)["metadata"]["name"] == "web"

    code, out, _ = hakobu(capsys, "status", "dev", *cwd, "-o", "json")
    assert code == 1
    reached = [(c["cluster"], c["reach"], "apps" in c) for c in json.loads(out)["clusters"]]
    assert reached == [("one", "Done", True), ("gone", "Unreachable", False)]

    code, out, _ = hakobu(capsys, "history", "dev", *cwd)
    assert code == 1
    assert "cluster not reachable, git history only" in out


@pytest.mark.usefixtures("kubeconfigs")
def test_promotion_is_refused_while_one_cluster_of_the_source_is_degraded(
    kube: KubeClient,
    kube_two: KubeClient,
    both: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Pods of web are scheduled only where a node has the zone label: in the first cluster.
    kube.request(
        "PATCH",
        "/api/v1/nodes/kwok-node-0",
        body={"metadata": {"labels": {ZONE: "ready"}}},
        content_type="application/merge-patch+json",
    )
    try:
        root = project(
            tmp_path / "shop",
            both,
            [{"name": "one", "context": FIRST}, {"name": "two", "context": SECOND}],
        )
        revision = commit(root, {"web": deployment("web", zone=True)}, "web")
        code, out, err = hakobu(capsys, "sync", "dev", "-C", str(root), "--timeout", "60")
        assert code == 1, out + err
        assert ": Succeeded" in out.splitlines()[1]
        assert "  web: Failed" in out.split(f"cluster two (context {SECOND}):")[1]

        loaded = load_project(root)

        def connect(cluster: Cluster | None) -> KubeClient:
            assert cluster is not None
            path = os.environ["KUBECONFIG"].split(os.pathsep)
            return KubeClient.from_kubeconfig([Path(p) for p in path], cluster.context)

        with pytest.raises(OperationFailed) as refused:
            require_healthy(connect, loaded, HealthCheck("dev", revision, None, None))
        assert "dev is not Synced and Healthy" in refused.value.message
        assert "cluster two: web: Synced, Degraded" in refused.value.message
        assert "cluster one" not in refused.value.message
    finally:
        kube.request(
            "PATCH",
            "/api/v1/nodes/kwok-node-0",
            body={"metadata": {"labels": {ZONE: None}}},
            content_type="application/merge-patch+json",
        )


@pytest.fixture(scope="module")
def controller(
    local_cluster: ClusterInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Controller]:
    with running_controller(local_cluster, tmp_path_factory.mktemp("controller")) as running:
        yield running


@pytest.mark.usefixtures("controller")
def test_a_delivery_delivers_to_each_cluster_and_reports_each(
    kube: KubeClient,
    kube_two: KubeClient,
    both: str,
    *,
    local_cluster: ClusterInfo,
    second_cluster: ClusterInfo,
    tmp_path: Path,
) -> None:
    remote = Remote(tmp_path, both)
    project = yaml.safe_load((remote.work / "hakobu.yaml").read_text())
    # Cluster three has no Secret with its kubeconfig: only its part fails.
    project["environments"]["dev"]["clusters"] = [{"name": n} for n in ("one", "two", "three")]
    (remote.work / "hakobu.yaml").write_text(yaml.safe_dump(project))
    remote.put("dev", "web", deployment("web"))
    revision = remote.push("web")
    for name, info in (("one", local_cluster), ("two", second_cluster)):
        kube.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"hakobu-cluster-{name}", "namespace": both},
                "stringData": {"value": Path(info.kubeconfig).read_text()},
            }
        )
    create_delivery(
        kube, both, "shop", repository={"url": str(remote.bare)}, environment="dev", prune=True
    )

    def reported() -> dict[str, dict[str, str]]:
        return {c["name"]: c for c in status(kube, both, "shop").get("clusters") or []}

    def both_applied() -> bool:
        clusters = reported()
        return all(
            clusters.get(name, {}).get("lastAppliedRevision") == revision
            and clusters[name].get("health") == "Healthy"
            for name in ("one", "two")
        )

    wait_until("applied to clusters one and two", both_applied, seconds=120)
    for client in (kube, kube_two):
        assert client.get("apps/v1", "Deployment", "web", both)["metadata"]["name"] == "web"
    clusters = reported()
    assert [clusters[n]["sync"] for n in ("one", "two")] == ["Synced", "Synced"]
    assert "revision" not in clusters["three"]
    assert f"Secret {both}/hakobu-cluster-three" in clusters["three"]["message"]
    ready = condition(kube, both, "shop", "Ready")
    assert ready["status"] == "False"
    assert ready["message"].startswith("cluster three: ")
    assert "cluster one" not in ready["message"] and "cluster two" not in ready["message"]
    apps = {a["name"]: a for a in status(kube, both, "shop")["apps"]}
    assert apps["one/web"]["health"] == apps["two/web"]["health"] == "Healthy"

    # Without cluster three, every cluster is delivered to: Ready.
    project["environments"]["dev"]["clusters"] = [{"name": "one"}, {"name": "two"}]
    (remote.work / "hakobu.yaml").write_text(yaml.safe_dump(project))
    remote.push("two clusters")
    request_reconcile(kube, DeliveryRef(both, "shop"))
    wait_until("Ready", functools.partial(holds, kube, both, "shop", "Ready", "True"), seconds=120)
    assert [c["name"] for c in status(kube, both, "shop")["clusters"]] == ["one", "two"]

    # Deleted with prune: what it deployed goes from each cluster before the Delivery goes.
    kube.delete(API_VERSION, "Delivery", "shop", both, propagation="Background")
    wait_until(
        "deleted from both clusters",
        lambda: all(absent(c, "Deployment", "web", both) for c in (kube, kube_two)),
        seconds=120,
    )
    wait_until("the Delivery is gone", lambda: absent_delivery(kube, both, "shop"), seconds=60)


def absent_delivery(kube: KubeClient, namespace: str, name: str) -> bool:
    try:
        kube.get(API_VERSION, "Delivery", name, namespace)
    except NotFound:
        return True
    return False


SHOP_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ app }}
spec:
  replicas: 1
  progressDeadlineSeconds: 5
  selector:
    matchLabels: {app: {{ app }}}
  template:
    metadata:
      labels: {app: {{ app }}}
    spec:
{% if values.zoned %}
      nodeSelector: {"hakobu.dev/test-zone": ready}
{% endif %}
      containers:
      - {name: shop, image: "nginx:1.27"}
"""


def shop_fleet(
    kube: KubeClient, both: str, tmp_path: Path, clusters: dict[str, ClusterInfo | None]
) -> None:
    """A project whose environment dev names ``clusters`` (a Secret with the kubeconfig of
    each one given), holding the fleet of SHOP_TEMPLATE, and its Delivery."""
    remote = Remote(tmp_path, both)
    project = yaml.safe_load((remote.work / "hakobu.yaml").read_text())
    project["environments"] = {
        "dev": {"namespace": both, "clusters": [{"name": name} for name in clusters]}
    }
    (remote.work / "hakobu.yaml").write_text(yaml.safe_dump(project))
    fleet = remote.work / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "fleet.yaml").write_text("tiers: [canary]\nvalues:\n  zoned: false\n")
    (fleet / "template" / "shop.yaml.j2").write_text(SHOP_TEMPLATE)
    remote.push("a fleet of shops")
    for name, info in clusters.items():
        if info is not None:
            kube.create(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": f"hakobu-cluster-{name}", "namespace": both},
                    "stringData": {"value": Path(info.kubeconfig).read_text()},
                }
            )
    create_delivery(kube, both, "shop", repository={"url": str(remote.bare)}, environment="dev")


@pytest.mark.usefixtures("controller")
def test_a_fleet_instance_is_healthy_only_when_healthy_on_every_cluster(
    kube: KubeClient,
    both: str,
    *,
    local_cluster: ClusterInfo,
    second_cluster: ClusterInfo,
    tmp_path: Path,
) -> None:
    shop_fleet(kube, both, tmp_path, {"one": local_cluster, "two": second_cluster})

    def fleet_instance(name: str, values: dict[str, Any]) -> None:
        kube.create(
            {
                "apiVersion": FLEET_API_VERSION,
                "kind": "FleetInstance",
                "metadata": {"name": name, "namespace": both},
                "spec": {"delivery": "shop", "fleet": "shops", "tier": "canary", "values": values},
            }
        )

    def reported(name: str) -> dict[str, Any]:
        found = kube.get(FLEET_API_VERSION, "FleetInstance", name, both).get("status") or {}
        conditions: list[dict[str, Any]] = found.get("conditions") or []
        ready = next((c for c in conditions if c["type"] == "Ready"), {})
        return {"health": found.get("health"), "ready": ready.get("status")}

    fleet_instance("berlin", {})
    wait_until(
        "berlin is Ready: Healthy on both clusters",
        lambda: reported("berlin") == {"health": "Healthy", "ready": "True"},
        seconds=120,
    )
    # Pods of rome are scheduled only where a node has the zone label: in cluster one.
    kube.request(
        "PATCH",
        "/api/v1/nodes/kwok-node-0",
        body={"metadata": {"labels": {ZONE: "ready"}}},
        content_type="application/merge-patch+json",
    )
    try:
        fleet_instance("rome", {"zoned": True})
        wait_until(
            "rome is Degraded: Degraded on cluster two",
            lambda: reported("rome") == {"health": "Degraded", "ready": "False"},
            seconds=120,
        )

        def on(cluster: str) -> str | None:
            apps = {a["name"]: a for a in status(kube, both, "shop").get("apps") or []}
            return (apps.get(f"{cluster}/shops-rome") or {}).get("health")

        # Cluster two's Degraded is enough to make the instance Degraded; cluster one's
        # report of the same pass may still say Progressing while its Pods start.
        wait_until("rome is Healthy on cluster one", lambda: on("one") == "Healthy", seconds=60)
        assert on("two") == "Degraded"
        assert reported("rome") == {"health": "Degraded", "ready": "False"}
        assert reported("berlin") == {"health": "Healthy", "ready": "True"}
    finally:
        kube.request(
            "PATCH",
            "/api/v1/nodes/kwok-node-0",
            body={"metadata": {"labels": {ZONE: None}}},
            content_type="application/merge-patch+json",
        )


@pytest.mark.usefixtures("controller")
def test_a_fleet_instance_says_which_cluster_did_not_take_its_commit(
    kube: KubeClient, both: str, *, local_cluster: ClusterInfo, tmp_path: Path
) -> None:
    # Cluster three has no Secret with its kubeconfig: every revision fails there.
    shop_fleet(kube, both, tmp_path, {"one": local_cluster, "three": None})
    kube.create(
        {
            "apiVersion": FLEET_API_VERSION,
            "kind": "FleetInstance",
            "metadata": {"name": "oslo", "namespace": both},
            "spec": {"delivery": "shop", "fleet": "shops", "tier": "canary"},
        }
    )

    def ready() -> dict[str, Any]:
        found = kube.get(FLEET_API_VERSION, "FleetInstance", "oslo", both).get("status") or {}
        conditions: list[dict[str, Any]] = found.get("conditions") or []
        return next((c for c in conditions if c["type"] == "Ready"), {})

    wait_until(
        "oslo says the Delivery did not apply its commit",
        lambda: "did not apply" in str(ready().get("message")),
        seconds=120,
    )
    said = ready()
    assert said["status"] == "False" and said["reason"] != "Syncing"
    assert said["message"].startswith("the Delivery did not apply the commit: cluster three: ")
    assert f"Secret {both}/hakobu-cluster-three" in said["message"]
    # Cluster one took it all the same.
    assert kube.get("apps/v1", "Deployment", "shops-oslo", both)["metadata"]["name"]


ZONED_WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ app }}
spec:
  replicas: 1
  progressDeadlineSeconds: 5
  selector:
    matchLabels: {app: {{ app }}}
  template:
    metadata:
      labels: {app: {{ app }}}
    spec:
      nodeSelector: {"hakobu.dev/test-zone": ready}
      containers:
      - {name: web, image: "nginx:1.27"}
"""


@pytest.mark.usefixtures("controller")
def test_the_controller_steps_a_fleet_rollout_judging_every_cluster(
    kube: KubeClient,
    kube_two: KubeClient,
    both: str,
    *,
    local_cluster: ClusterInfo,
    second_cluster: ClusterInfo,
    tmp_path: Path,
) -> None:
    remote = Remote(tmp_path, both)
    project = yaml.safe_load((remote.work / "hakobu.yaml").read_text())
    project["environments"] = {
        "dev": {"namespace": both, "clusters": [{"name": "one"}, {"name": "two"}]}
    }
    (remote.work / "hakobu.yaml").write_text(yaml.safe_dump(project))
    fleet = remote.work / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "fleet.yaml").write_text(
        "tiers: [canary, stable]\nrollout: {soak: 2s, environment: dev}\n"
    )
    (fleet / "template" / "config.yaml.j2").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: '{{ app }}'\ndata:\n  release: '1'\n"
    )
    for shop, tier in (("berlin", "canary"), ("paris", "stable")):
        assert main(["fleet", "-C", str(remote.work), "add", "shops", shop, tier]) == 0

    def publish(message: str) -> None:
        remote.git("pull", "-q", "--rebase", "--autostash", "origin", "main")
        assert main(["render", "-C", str(remote.work)]) == 0
        remote.push(message)

    def subject() -> str:
        return remote.git("log", "-1", "--format=%s", "origin/main")

    def fetched_subject() -> str:
        remote.git("fetch", "-q", "origin")
        return subject()

    assert main(["render", "-C", str(remote.work)]) == 0
    remote.push("two shops")
    for name, info in (("one", local_cluster), ("two", second_cluster)):
        kube.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"hakobu-cluster-{name}", "namespace": both},
                "stringData": {"value": Path(info.kubeconfig).read_text()},
            }
        )
    create_delivery(
        kube, both, "shop", repository={"url": str(remote.bare)}, environment="dev", interval="2s"
    )
    wait_until(
        "the later tier gets its own copy of the template",
        lambda: fetched_subject() == "pin fleet shops: stable keep the template they render",
        seconds=120,
    )
    config = fleet / "template" / "config.yaml.j2"
    config.write_text(config.read_text().replace("'1'", "'2'"))
    publish("release 2")
    wait_until(
        "promoted once canary is Healthy on both clusters, and synced to both",
        lambda: all(
            (data(client, both, "shops-paris") or {}).get("release") == "2"
            for client in (kube, kube_two)
        ),
        seconds=120,
    )
    # The rollout's record is kept in the environment's first cluster.
    assert kube.get("v1", "ConfigMap", "hakobu-fleet-shops", both)["data"]

    # Pods of web are scheduled only where a node has the zone label: in cluster one.
    kube.request(
        "PATCH",
        "/api/v1/nodes/kwok-node-0",
        body={"metadata": {"labels": {ZONE: "ready"}}},
        content_type="application/merge-patch+json",
    )
    try:
        (fleet / "template" / "web.yaml.j2").write_text(ZONED_WEB)
        publish("a web server for every shop")
        halted = wait_until(
            "the halt is told",
            lambda: [
                str(e.get("message", ""))
                for e in kube.list("v1", "Event", both).items
                if e.get("reason") == "FleetHalted"
            ],
            seconds=120,
        )
        assert "tier canary: instance berlin is Degraded" in halted[0]
        assert "cluster two" in halted[0]
        assert fetched_subject() == "a web server for every shop"
    finally:
        kube.request(
            "PATCH",
            "/api/v1/nodes/kwok-node-0",
            body={"metadata": {"labels": {ZONE: None}}},
            content_type="application/merge-patch+json",
        )


@pytest.mark.usefixtures("kubeconfigs")
def test_fleet_status_and_promotion_judge_every_cluster(
    kube: KubeClient, both: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(
        tmp_path / "shop",
        both,
        [{"name": "one", "context": FIRST}, {"name": "two", "context": SECOND}],
    )
    fleet = root / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "fleet.yaml").write_text("tiers: [canary, stable]\n")
    (fleet / "template" / "web.yaml.j2").write_text(ZONED_WEB)
    assert main(["fleet", "-C", str(root), "add", "shops", "berlin", "canary"]) == 0
    assert main(["render", "-C", str(root)]) == 0
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "a fleet of one shop")
    # Pods of web are scheduled only where a node has the zone label: in cluster one.
    kube.request(
        "PATCH",
        "/api/v1/nodes/kwok-node-0",
        body={"metadata": {"labels": {ZONE: "ready"}}},
        content_type="application/merge-patch+json",
    )
    try:
        hakobu(capsys, "sync", "dev", "-C", str(root), "--timeout", "60")
        code, out, err = hakobu(capsys, "fleet", "status", "shops", "dev", "-C", str(root))
        assert code == 1, out + err
        assert "canary (template" in out and "0/1 Synced and Healthy (1 Degraded)" in out
        assert any(
            line.strip().startswith("berlin:") and "Degraded" in line for line in out.splitlines()
        )
        code, out, err = hakobu(
            capsys, "fleet", "status", "shops", "dev", "--cluster", "one", "-C", str(root)
        )
        assert code == 0 and "1/1 Synced and Healthy" in out, out + err

        code, out, err = hakobu(
            capsys, "promote", "canary", "stable", "--fleet", "shops", "--env", "dev", "-C",
            str(root),
        )  # fmt: skip
        assert code == 1, out + err
        assert "berlin" in err
    finally:
        kube.request(
            "PATCH",
            "/api/v1/nodes/kwok-node-0",
            body={"metadata": {"labels": {ZONE: None}}},
            content_type="application/merge-patch+json",
        )
