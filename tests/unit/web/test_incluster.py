"""The controller's dashboard: which Delivery's repository it shows, and how its clone's
readers and fetches take turns."""

from __future__ import annotations

import threading

from hakobu.controller.deliveries import delivery_object
from hakobu.controller.delivery import Delivery, DeliveryRef, parse
from hakobu.web.incluster import CloneGate, chosen


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
