"""Benchmark: the dashboard's overview of 1,000 apps x 3 environments.

Three figures, each against the target set for it:

- server time of ``GET /api/v1/overview`` (median of 20, over HTTP on the loopback):
  < 300 ms;
- the overview shown in headless Chromium (navigation until the grid is drawn): < 1 s;
- a status change reaching the open page (published until the cell shows it): < 1 s.

The environments' snapshots are made up here (1,000 apps, two images each) and handed to
the dashboard's monitor in place of reading a cluster: what is measured is the dashboard's
own cost, the serving and the drawing, not the API server's LISTs, which ``hakobu status``
already pays and ``benchmarks/sync_apply.py`` measures.

    python benchmarks/web_overview.py [--apps 1000] [--environments 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from playwright.sync_api import sync_playwright

from hakobu.cluster.errors import NotFound
from hakobu.controller.server import Server
from hakobu.model.project import Project, load_project
from hakobu.web.access import LocalAccess
from hakobu.web.monitor import Monitor
from hakobu.web.server import create_app, dashboard
from hakobu.web.snapshot import AppCell, EnvSnapshot

CHROMIUM = "/usr/bin/chromium"


class NoDeliveries:
    """An API server without the Delivery CRD: the only request the overview makes."""

    def request(self, method: str, path: str, **_: Any) -> Any:
        raise NotFound(404, "NotFound", path, {})


def made_up(apps: int, changed: set[str]) -> Any:
    def read(_kube: Any, project: Project, env: str) -> EnvSnapshot:
        cells = {}
        for i in range(apps):
            name = f"app-{i:04d}"
            drifted = f"{env}/{name}" in changed
            cells[name] = AppCell(
                "Drifted" if drifted else "Synced",
                "Degraded" if i % 97 == 0 else "Healthy",
                (f"registry.example/{name}:{i % 13}.{i % 7}", f"registry.example/sidecar:{i % 3}"),
                (),
                (),
            )
        return EnvSnapshot(env, f"shop-{env}", "a" * 40, "a" * 40, cells)

    return read


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--environments", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        envs = {f"env{i}": {"namespace": f"shop-env{i}"} for i in range(args.environments)}
        project_file = {"apiVersion": "hakobu.dev/v1alpha1", "kind": "Project", "name": "shop"}
        (root / "hakobu.yaml").write_text(yaml.safe_dump({**project_file, "environments": envs}))
        project = load_project(root)
        changed: set[str] = set()
        access = LocalAccess("admin")
        board = dashboard(project, NoDeliveries(), access)  # type: ignore[arg-type]
        board.monitor = Monitor(
            board.kube, project, board.broadcast, read=made_up(args.apps, changed)
        )
        server = Server(create_app(board), "127.0.0.1", 0)
        base = f"http://127.0.0.1:{server.start()}"
        try:
            return _measure(base, access.key, board.monitor, changed, args)
        finally:
            server.stop()


def _measure(
    base: str, key: str, monitor: Monitor, changed: set[str], args: argparse.Namespace
) -> int:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:
        client.get("/api/v1/overview").raise_for_status()
        times = []
        for _ in range(20):
            started = time.perf_counter()
            response = client.get("/api/v1/overview")
            times.append(time.perf_counter() - started)
            response.raise_for_status()
        size = len(response.content)
    server_ms = statistics.median(times) * 1000
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"] if os.geteuid() == 0 else []
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/signin#{key}")
        page.wait_for_selector("#app[data-ready=true]")
        started = time.perf_counter()
        page.goto(base + "/")
        page.wait_for_selector("#app[data-ready=true]")
        shown_ms = (time.perf_counter() - started) * 1000
        page.wait_for_selector("#live.on")
        target = 'td[data-env="env0"][data-app="app-0003"]'
        changed.add("env0/app-0003")
        started = time.perf_counter()
        monitor.refresh("env0")
        page.wait_for_selector(f"{target} .sync-Drifted")
        change_ms = (time.perf_counter() - started) * 1000
        browser.close()
    cells = args.apps * args.environments
    print(f"overview of {args.apps} apps x {args.environments} environments ({cells} cells)")
    print(f"  GET /api/v1/overview: {server_ms:.0f} ms median, {size / 1e6:.1f} MB  (target < 300)")
    print(f"  shown in Chromium:    {shown_ms:.0f} ms  (target < 1000)")
    print(f"  a change on the page: {change_ms:.0f} ms after it was read  (target < 1000)")
    return 0 if server_ms < 300 and shown_ms < 1000 and change_ms < 1000 else 1


if __name__ == "__main__":
    raise SystemExit(main())
