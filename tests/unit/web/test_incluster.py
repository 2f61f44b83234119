"""The controller's dashboard: which Delivery's repository it shows, how its clone's
readers and fetches take turns, what it answers before it can be built, and that it stops
reading the cluster when nobody looks."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import cast

import yaml
from starlette.applications import Starlette
from starlette.testclient import TestClient

from hakobu.cluster.client import KubeClient
from hakobu.controller.deliveries import delivery_object
from hakobu.controller.delivery import Delivery, DeliveryRef, parse
from hakobu.web.incluster import CloneGate, ControllerDashboard, DashboardSettings, chosen
from tests.fakes.kube import BUILT_IN, FakeKube
from tests.unit.controller.test_deliveries import DELIVERY


def delivery(namespace: str, name: str, url: str = "https://git.example/shop.git") -> Delivery:
    return parse(delivery_object(DeliveryRef(namespace, name), url=url, environment="dev"))


def test_auto_shows_the_one_repository_every_delivery_follows() -> None:
    found = [delivery("b", "shop-prod"), delivery("a", "shop-dev")]
    assert chosen(found, None) == found[1]


def test_auto_refuses_several_repositories_and_says_how_to_choose() -> None:
    found = [delivery("a", "shop"), delivery("a", "blog", url="https://git.example/blog.git")]
    problem = chosen(found, None)
    assert isinstance(problem, str)
    assert "2 repositories" in problem and "--dashboard NAMESPACE/NAME" in problem
    assert chosen(found, DeliveryRef("a", "blog")) == found[1]


def test_no_delivery_or_a_missing_choice_is_said() -> None:
    assert "no Delivery exists yet" in str(chosen([], None))
    missing = chosen([delivery("a", "shop")], DeliveryRef("a", "other"))
    assert missing == "Delivery a/other, named by --dashboard, does not exist (yet)"


def test_a_fetch_waits_for_readers_and_holds_new_ones_back() -> None:
    gate = CloneGate()
    order: list[str] = []
    gate.enter()
    # A reader within a reader (a request's snapshot read) gets in at once.
    gate.enter()
    fetching = threading.Event()

    def fetch() -> None:
        fetching.set()
        order.append("fetch")

    writer = threading.Thread(target=gate.write, args=(fetch,))
    writer.start()
    assert not fetching.wait(0.2), "the fetch ran while the clone was read"
    order.append("read done")
    gate.leave()
    gate.leave()
    writer.join(5)
    assert order == ["read done", "fetch"]

    # While a fetch runs, a reader waits for its end.
    release = threading.Event()
    running = threading.Event()

    def slow_fetch() -> None:
        running.set()
        release.wait(5)
        order.append("slow fetch")

    writer = threading.Thread(target=gate.write, args=(slow_fetch,))
    writer.start()
    running.wait(5)

    def read() -> None:
        gate.enter()
        order.append("read")
        gate.leave()

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(0.2)
    assert reader.is_alive(), "a reader got in during a fetch"
    release.set()
    writer.join(5)
    reader.join(5)
    assert order[-2:] == ["slow fetch", "read"]


def project_repository(root: Path) -> Path:
    root.mkdir()
    project = {
        "apiVersion": "hakobu.dev/v1alpha1",
        "kind": "Project",
        "name": "shop",
        "environments": {"dev": {"namespace": "shop-dev"}},
    }
    (root / "hakobu.yaml").write_text(yaml.safe_dump(project))
    for args in (
        ["init", "-q", "-b", "main"],
        ["-c", "user.name=CI", "-c", "user.email=ci@example.com", "add", "-A"],
        ["-c", "user.name=CI", "-c", "user.email=ci@example.com", "commit", "-q", "-m", "shop"],
    ):
        subprocess.run(["git", "-C", str(root), *args], check=True)
    return root


def served(tmp_path: Path, choice: DeliveryRef, logs: list[str]) -> ControllerDashboard:
    kube = FakeKube((*BUILT_IN, DELIVERY))
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    repository = project_repository(tmp_path / "shop")
    kube.create(
        delivery_object(DeliveryRef("team", "shop"), url=str(repository), environment="dev")
    )
    settings = DashboardSettings(
        workdir=tmp_path / "work", namespace="hakobu-system", choice=choice, fetch_interval=0.05,
        idle=1.0,
    )  # fmt: skip
    return ControllerDashboard(cast(KubeClient, kube), settings, key=b"k" * 32, log=logs.append)


def test_until_its_delivery_exists_the_dashboard_is_503_and_the_log_says_why(
    tmp_path: Path,
) -> None:
    logs: list[str] = []
    board = served(tmp_path, DeliveryRef("team", "other"), logs)
    http = TestClient(Starlette(routes=[board.route]))
    answer = http.get("/api/v1/overview")
    assert answer.status_code == 503
    # Who has not signed in learns nothing of the cluster's Deliveries.
    assert "team/other" not in answer.text
    assert logs == ["no dashboard: Delivery team/other, named by --dashboard, does not exist (yet)"]
    assert http.get("/").status_code == 503


def test_an_idle_dashboard_stops_and_the_next_request_builds_it_again(tmp_path: Path) -> None:
    logs: list[str] = []
    board = served(tmp_path, DeliveryRef("team", "shop"), logs)
    http = TestClient(Starlette(routes=[board.route]))
    try:
        assert http.get("/api/v1/overview").status_code == 401
        assert http.get("/static/style.css").status_code == 200
        assert sum(line.startswith("dashboard of") for line in logs) == 1
        # Nobody looks for longer than the idle time: it stops; a request builds it anew.
        time.sleep(2.5)
        assert http.get("/api/v1/overview").status_code == 401
        assert any(line.startswith("no page open for 1s") for line in logs), logs
        assert sum(line.startswith("dashboard of") for line in logs) == 2
    finally:
        board.close()


def test_a_fetched_change_of_the_project_file_builds_the_dashboard_again(tmp_path: Path) -> None:
    logs: list[str] = []
    board = served(tmp_path, DeliveryRef("team", "shop"), logs)
    http = TestClient(Starlette(routes=[board.route]))
    try:
        assert http.get("/api/v1/overview").status_code == 401
        source = tmp_path / "shop"
        text = (source / "hakobu.yaml").read_text()
        (source / "hakobu.yaml").write_text(text.replace("shop-dev", "shop-dev2"))
        subprocess.run(
            ["git", "-C", str(source), "-c", "user.name=CI", "-c", "user.email=ci@example.com",
             "commit", "-q", "-am", "dev moves"],
            check=True,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not any(line.startswith("hakobu.yaml changed") for line in logs):
            assert time.monotonic() < deadline, logs
            http.get("/static/style.css")
            time.sleep(0.1)
        assert sum(line.startswith("dashboard of") for line in logs) == 2
    finally:
        board.close()
