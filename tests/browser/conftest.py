"""A headless Chromium (Debian's package) driven by Playwright, and the real control plane."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.integration.conftest import kube, local_cluster, namespace

__all__ = ["kube", "local_cluster", "namespace"]

CHROMIUM = "/usr/bin/chromium"
# Screenshots of every page, kept as the run's artifacts.
ARTIFACTS = Path(os.environ.get("HAKOBU_BROWSER_ARTIFACTS", "build/browser"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # Root may not use Chromium's sandbox; the pages are our own, on the loopback.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    yield opened
    context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
