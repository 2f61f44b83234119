"""The fleet controller against the real control plane and a bare git remote: a
FleetInstance is committed, delivered and reported Healthy; a person's edit of the same
file is kept; deleting it prunes exactly its objects; a burst of changes lands in few
commits and none is lost; what the fleet refuses (a tier, a value, an instance declared
twice) and a missing Delivery are reported on the resource and nothing is committed for
it, until a Delivery appears or a commit makes the fleet accept it; spec.suspend leaves an
instance's objects alone until it is unset."""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from hakobu.cluster.client import KubeClient
from hakobu.cluster.errors import Invalid, NotFound, TooManyRequests
from hakobu.controller.deliveries import request_reconcile
from hakobu.controller.delivery import DeliveryRef
from hakobu.controller.fleetinstance import API_VERSION, KIND
from hakobu.localcluster.controlplane import ClusterInfo
from tests.integration.controllerkit import (
    Controller,
    create_delivery,
    running_controller,
    wait_until,
)
from tests.integration.test_agent import Remote
from tests.integration.test_sync import live
from tests.unit.releases.test_fleetcommit import TEMPLATE

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def controller(
    local_cluster: ClusterInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Controller]:
    with (
        running_controller(local_cluster, tmp_path_factory.mktemp("controller")) as running,
        KubeClient.from_kubeconfig(Path(local_cluster.kubeconfig)) as kube,
    ):
        wait_until("FleetInstances are served", lambda: _served(kube))
        yield running


def _served(kube: KubeClient) -> bool:
    try:
        kube.refresh_discovery()
        kube.list(API_VERSION, KIND, "default")
    except (NotFound, TooManyRequests):
        return False
    return True


@pytest.fixture
def remote(tmp_path: Path, namespace: str, kube: KubeClient) -> Remote:
    remote = Remote(tmp_path, namespace)
    fleet = remote.work / "apps" / "shops"
    (fleet / "template").mkdir(parents=True)
    (fleet / "fleet.yaml").write_text(
        "tiers: [canary, stable]\nvalues:\n  host: ''\n  replicas: 1\n"
    )
    (fleet / "template" / "shop.yaml.j2").write_text(TEMPLATE)
    remote.push("a fleet of shops")
    create_delivery(
        kube, namespace, "shop", repository={"url": str(remote.bare)}, environment="dev", prune=True
    )
    return remote


def instance(kube: KubeClient, namespace: str, name: str, **spec: Any) -> None:
    kube.create(
        {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"delivery": "shop", "fleet": "shops", "tier": "canary", **spec},
        }
    )


def status(kube: KubeClient, namespace: str, name: str) -> dict[str, Any]:
    return kube.get(API_VERSION, KIND, name, namespace).get("status") or {}


def condition(kube: KubeClient, namespace: str, name: str, kind: str) -> dict[str, Any]:
    found = status(kube, namespace, name).get("conditions") or []
    return next((dict(c) for c in found if c["type"] == kind), {})


def in_git(remote: Remote, path: str) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(remote.bare), "show", f"main:{path}"],
        check=False,
        capture_output=True,
        text=True,
    )
    return done.stdout if done.returncode == 0 else None


def commits(remote: Remote) -> int:
    return int(
        subprocess.run(
            ["git", "-C", str(remote.bare), "rev-list", "--count", "main"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )


def refused(kube: KubeClient, namespace: str, name: str) -> dict[str, Any] | None:
    """The Written condition once it says why the instance is not written."""
    written = condition(kube, namespace, name, "Written")
    return written if written.get("status") == "False" else None


def healthy(kube: KubeClient, namespace: str, name: str) -> bool:
    return condition(kube, namespace, name, "Ready").get("status") == "True"


def test_an_instance_is_committed_delivered_reported_and_pruned_on_deletion(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str
) -> None:
    instance(kube, namespace, "berlin", values={"host": "berlin.example.com"})
    instance(kube, namespace, "paris", tier="stable", values={"host": "paris.example.com"})
    wait_until(
        "both are Healthy", lambda: all(healthy(kube, namespace, n) for n in ("berlin", "paris"))
    )
    berlin = status(kube, namespace, "berlin")
    assert (berlin["sync"], berlin["health"]) == ("Synced", "Healthy")
    assert in_git(remote, "apps/shops/instances/berlin.yaml") is not None
    written = condition(kube, namespace, "berlin", "Written")
    assert (written["status"], written["reason"]) == ("True", "Committed")
    assert berlin["commit"][:12] in written["message"]
    assert live(kube, namespace, "ConfigMap", "shops-berlin")["data"] == {
        "host": "berlin.example.com",
        "tier": "canary",
    }

    # A person edits another key of paris's file while the resource changes: both stay.
    remote.git("pull", "-q", "--rebase", "origin", "main")
    file = remote.work / "apps" / "shops" / "instances" / "paris.yaml"
    file.write_text(file.read_text() + "  replicas: 3  # by hand\n")
    remote.push("paris: three replicas")
    kube.request(
        "PATCH",
        f"/apis/{API_VERSION}/namespaces/{namespace}/fleetinstances/paris",
        body={"spec": {"values": {"host": "paris.example.org"}}},
        content_type="application/merge-patch+json",
    )
    wait_until(
        "the resource's change is written beside the person's",
        lambda: (
            "host: paris.example.org\n  replicas: 3  # by hand"
            in (in_git(remote, "apps/shops/instances/paris.yaml") or "")
        ),
    )
    wait_until(
        "and delivered",
        lambda: (
            live(kube, namespace, "ConfigMap", "shops-paris")["data"]["host"] == "paris.example.org"
        ),
    )
    wait_until("paris is Healthy again", lambda: healthy(kube, namespace, "paris"))
    assert status(kube, namespace, "paris")["observedGeneration"] == 2
    paris = live(kube, namespace, "ConfigMap", "shops-paris")["metadata"]

    # What names the file cannot change: the old file would be left behind.
    with pytest.raises(Invalid, match="cannot be changed"):
        kube.request(
            "PATCH",
            f"/apis/{API_VERSION}/namespaces/{namespace}/fleetinstances/berlin",
            body={"spec": {"instance": "munich"}},
            content_type="application/merge-patch+json",
        )

    kube.delete(API_VERSION, KIND, "berlin", namespace)
    wait_until(
        "the FleetInstance is gone",
        lambda: (
            not any(
                o["metadata"]["name"] == "berlin"
                for o in kube.list(API_VERSION, KIND, namespace).items
            )
        ),
    )
    assert in_git(remote, "apps/shops/instances/berlin.yaml") is None
    assert in_git(remote, "generated/dev/shops-berlin/configmap-shops-berlin.yaml") is None
    wait_until(
        "its objects are pruned",
        lambda: (
            not any(
                c["metadata"]["name"] == "shops-berlin"
                for c in kube.list("v1", "ConfigMap", namespace).items
            )
        ),
    )
    after = live(kube, namespace, "ConfigMap", "shops-paris")["metadata"]
    assert (after["uid"], after["resourceVersion"]) == (paris["uid"], paris["resourceVersion"])


def test_a_burst_of_changes_is_batched_and_none_is_lost(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str
) -> None:
    before = commits(remote)
    names = [f"shop-{n}" for n in range(40)]
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(lambda n: instance(kube, namespace, n, values={"host": f"{n}.example"}), names)
        )

    # Ten of them change again while the first commits are being made.
    def update(name: str) -> None:
        kube.request(
            "PATCH",
            f"/apis/{API_VERSION}/namespaces/{namespace}/fleetinstances/{name}",
            body={"spec": {"tier": "stable", "values": {"host": f"{name}.shop"}}},
            content_type="application/merge-patch+json",
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(update, names[:10]))
    wait_until(
        "every change is in git",
        lambda: all(
            (text := in_git(remote, f"apps/shops/instances/{n}.yaml")) is not None
            and (f"{n}.shop" in text if n in names[:10] else f"{n}.example" in text)
            for n in names
        ),
        seconds=120,
    )
    made = commits(remote) - before
    print(f"50 changes in {made} commits")
    assert 1 <= made < 20, f"{made} commits for 50 changes"
    # The replica counts what it committed.
    pattern = rf'hakobu_fleet_commits_total{{delivery="{namespace}/shop"}} (\d+)'
    wait_until(
        "the commits are counted",
        lambda: (found := re.search(pattern, controller.metrics())) and int(found[1]) == made,
    )
    for name in names[:10]:
        text = in_git(remote, f"apps/shops/instances/{name}.yaml") or ""
        assert "tier: stable" in text
    wait_until(
        "each one's status names a commit that holds it",
        lambda: all(
            status(kube, namespace, n).get("observedGeneration") == (2 if n in names[:10] else 1)
            and status(kube, namespace, n).get("commit")
            for n in names
        ),
        seconds=60,
    )


@pytest.mark.usefixtures("controller")
def test_a_replica_killed_during_a_burst_loses_nothing(
    local_cluster: ClusterInfo,
    kube: KubeClient,
    remote: Remote,
    namespace: str,
    tmp_path: Path,
) -> None:
    # A second replica shares the shards; whichever holds the Delivery's, killing the
    # second in the middle of the burst leaves every change to be written, by it or by the
    # replica that takes its shards over once their Leases run out.
    with running_controller(local_cluster, tmp_path / "second") as second:
        wait_until(
            "the second replica holds shards",
            lambda: re.search(r"holding shards \[\d", second.log.read_text()),
            seconds=90,
        )
        names = [f"shop-{n}" for n in range(20)]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda n: instance(kube, namespace, n), names[:10]))
        second.kill()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda n: instance(kube, namespace, n), names[10:]))
    wait_until(
        "every instance is in git and reported written",
        lambda: all(
            in_git(remote, f"apps/shops/instances/{n}.yaml") is not None
            and condition(kube, namespace, n, "Written").get("reason") == "Committed"
            for n in names
        ),
        seconds=120,
    )


def test_what_the_fleet_refuses_is_reported_and_nothing_committed(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str
) -> None:
    before = commits(remote)
    instance(kube, namespace, "rome", tier="gold")
    instance(kube, namespace, "oslo", values={"colour": "red"})
    instance(kube, namespace, "nowhere", delivery="missing")
    # A Delivery whose repository cannot be read: the write fails, and is retried.
    create_delivery(
        kube,
        namespace,
        "unreadable",
        repository={"url": str(remote.bare.parent / "gone.git")},
        environment="dev",
    )
    instance(kube, namespace, "vienna", delivery="unreadable")
    for name, reason, said in (
        ("rome", "Refused", "tier 'gold' is not a tier of fleet 'shops'"),
        ("oslo", "Refused", "does not accept a value 'colour'"),
        ("nowhere", "DeliveryNotFound", "does not exist"),
        ("vienna", "WriteFailed", "cannot fetch branch 'main'"),
    ):
        written = wait_until(
            f"{name} is refused", functools.partial(refused, kube, namespace, name)
        )
        assert written["status"] == "False" and written["reason"] == reason, written
        assert said in written["message"], written
        assert name in written["message"] or "of Delivery" in written["message"]
        assert condition(kube, namespace, name, "Ready")["reason"] == reason
    assert commits(remote) == before
    assert in_git(remote, "apps/shops/instances/rome.yaml") is None

    # Two resources declaring one instance: the second is refused, the first's file stays.
    instance(kube, namespace, "lisbon")
    wait_until("lisbon is written", lambda: status(kube, namespace, "lisbon").get("commit"))
    instance(kube, namespace, "lisbon-again", instance="lisbon", tier="stable")
    written = wait_until(
        "the second is refused", functools.partial(refused, kube, namespace, "lisbon-again")
    )
    assert written["reason"] == "Refused"
    assert "has an instance 'lisbon' already" in written["message"]
    assert f"written for FleetInstance {namespace}/lisbon" in written["message"]
    assert "tier: canary" in (in_git(remote, "apps/shops/instances/lisbon.yaml") or "")
    assert commits(remote) == before + 1
    told = [
        e
        for e in kube.list("v1", "Event", namespace).items
        if e["involvedObject"]["name"] == "rome" and e.get("reason") == "Refused"
    ]
    assert told and told[0]["type"] == "Warning"


def printed(kube: KubeClient, path: str) -> dict[str, Any]:
    """The columns ``kubectl get`` prints for the resource at ``path``, by name."""
    table = kube.request("GET", path, accept="application/json;as=Table;v=v1;g=meta.k8s.io")
    names = [column["name"] for column in table["columnDefinitions"]]
    return dict(zip(names, table["rows"][0]["cells"], strict=True))


def test_spec_suspend_leaves_the_instance_alone_until_it_is_unset(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str
) -> None:
    instance(kube, namespace, "berlin", values={"host": "berlin.example.com"})
    wait_until("berlin is Healthy", lambda: healthy(kube, namespace, "berlin"))
    before = live(kube, namespace, "ConfigMap", "shops-berlin")["metadata"]["resourceVersion"]
    path = f"/apis/{API_VERSION}/namespaces/{namespace}/fleetinstances/berlin"
    merge = "application/merge-patch+json"
    kube.request(
        "PATCH",
        path,
        body={"spec": {"suspend": True, "values": {"host": "berlin.example.org"}}},
        content_type=merge,
    )
    wait_until(
        "berlin is reported Suspended",
        lambda: condition(kube, namespace, "berlin", "Ready").get("reason") == "Suspended",
    )
    assert status(kube, namespace, "berlin")["sync"] == "Suspended"
    assert printed(kube, path)["Suspended"] is True
    text = in_git(remote, "apps/shops/instances/berlin.yaml") or ""
    assert "switches: suspend)" in text.partition("\n")[0] and "\nsuspend: true" in text
    # Every sync leaves its objects as they were, the new host included.
    after = live(kube, namespace, "ConfigMap", "shops-berlin")
    assert after["metadata"]["resourceVersion"] == before
    assert after["data"]["host"] == "berlin.example.com"

    # Unset: the switch the resource set goes back to off, and the instance is synced.
    kube.request("PATCH", path, body={"spec": {"suspend": None}}, content_type=merge)
    wait_until("berlin is Healthy again", lambda: healthy(kube, namespace, "berlin"))
    text = in_git(remote, "apps/shops/instances/berlin.yaml") or ""
    assert "(values: host)" in text.partition("\n")[0] and "suspend:" not in text
    assert printed(kube, path)["Suspended"] is None
    assert live(kube, namespace, "ConfigMap", "shops-berlin")["data"]["host"] == (
        "berlin.example.org"
    )


def test_an_instance_is_written_once_what_stopped_it_goes_away(
    controller: Controller, kube: KubeClient, remote: Remote, namespace: str
) -> None:
    # Neither resource is edited again: the Delivery appearing and a commit to the fleet
    # are what let them be written.
    instance(kube, namespace, "early", delivery="later", values={"host": "early.example"})
    instance(kube, namespace, "golden", tier="gold", values={"host": "golden.example"})
    for name, reason in (("early", "DeliveryNotFound"), ("golden", "Refused")):
        written = wait_until(
            f"{name} is not written", functools.partial(refused, kube, namespace, name)
        )
        assert written["reason"] == reason, written

    create_delivery(
        kube, namespace, "later", repository={"url": str(remote.bare)}, environment="dev"
    )
    wait_until("early is Healthy", lambda: healthy(kube, namespace, "early"))

    remote.git("pull", "-q", "--rebase", "origin", "main")
    fleet = remote.work / "apps" / "shops" / "fleet.yaml"
    fleet.write_text(fleet.read_text().replace("[canary, stable]", "[canary, gold, stable]"))
    remote.push("shops: a gold tier")
    request_reconcile(kube, DeliveryRef(namespace, "shop"))
    wait_until("golden is Healthy", lambda: healthy(kube, namespace, "golden"))
    assert "tier: gold" in (in_git(remote, "apps/shops/instances/golden.yaml") or "")
    assert status(kube, namespace, "golden")["observedGeneration"] == 1
