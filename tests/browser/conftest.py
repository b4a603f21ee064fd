"""Browser tests: the real ``cds-b12 serve`` process and Debian's Chromium, driven by Playwright.

Every page is watched: a console error, an uncaught exception, or a request to any origin
other than the ones the test allows (the service itself, and for the SMART launch the test
EHR, both on 127.0.0.1) fails the test. Missing Chromium fails the suite, never skips it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    expect,
    sync_playwright,
)

from ..serving import ServeProcess, service_env, started

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WIDE = {"width": 1200, "height": 900}


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    store = tmp_path_factory.mktemp("browser-store")
    with started(service_env(store), store / "serve.log") as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium package "
            "(apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@dataclass
class Watch:
    """What one page did that it should not: console errors, exceptions, foreign requests."""

    allowed_origins: set[str]
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    expected_console: list[re.Pattern[str]] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(
            p.search(message.text) for p in self.expected_console
        ):
            self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def expect_console_error(self, pattern: str) -> None:
        """A console error this test provokes on purpose (e.g. a 4xx answer it checks)."""
        self.expected_console.append(re.compile(pattern))

    def foreign_requests(self) -> list[str]:
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in self.allowed_origins or parts.hostname != "127.0.0.1":
                foreign.append(url)
        return foreign

    def assert_clean(self) -> None:
        assert not self.page_errors, f"uncaught page errors: {self.page_errors}"
        assert not self.console_errors, f"console errors: {self.console_errors}"
        assert not self.foreign_requests(), f"requests to other hosts: {self.foreign_requests()}"


@dataclass
class Opened:
    page: Page
    watch: Watch


@pytest.fixture
def open_page(browser: Browser, service: ServeProcess) -> Iterator[Callable[..., Opened]]:
    """``open_page(width=1200, origins=(service.base,))`` → a fresh page under watch.

    Every page opened is checked when the test ends."""
    opened: list[tuple[Opened, BrowserContext]] = []

    def open_(width: int = 1200, origins: tuple[str, ...] = ()) -> Opened:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        watch = Watch(allowed_origins={service.base, *origins})
        page.on("console", watch.on_console)
        page.on("pageerror", lambda exc: watch.page_errors.append(str(exc)))
        page.on("request", watch.on_request)
        page.set_default_timeout(10_000)
        result = Opened(page, watch)
        opened.append((result, context))
        return result

    yield open_
    for _, context in opened:
        context.close()
    for result, _ in opened:
        result.watch.assert_clean()


# ------------------------------------------------------------------ preview helpers


def open_preview(
    open_page: Callable[..., Opened], service: ServeProcess, width: int = 1200
) -> Opened:
    opened = open_page(width=width)
    opened.page.goto(f"{service.base}/preview")
    expect(opened.page.locator("body")).to_have_attribute("data-ready", "true")
    return opened


def choose(page: Page, patient: str, hook: str = "patient-view", profile: str = "us") -> None:
    """Pick a bundled patient, then the hook and profile (a click on their labels)."""
    page.get_by_test_id("patient-select").select_option(patient)
    page.locator(f"label[for='hook-{hook}']").click()
    page.locator(f"label[for='profile-{profile}']").click()
    expect(page.get_by_test_id(f"hook-{hook}")).to_be_checked()


def get_cards(page: Page) -> None:
    """Click Get cards and wait for the answer to be drawn."""
    with page.expect_response(lambda r: "/cds-services/" in r.url):
        page.get_by_test_id("get-cards").click()
    expect(page.get_by_test_id("get-cards")).to_be_enabled()
