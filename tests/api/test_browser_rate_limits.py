"""The widget over its rate limits, in a real browser (Debian's Chromium via Playwright),
against the real service with low limits (no Rasa needed: the bot's absence is answered).

The shop page is on another origin than the service, as on a real shop: the widget can only
read the 429's Retry-After when the service's CORS exposes it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from api.texts import widget_texts
from tests.support.servers import ROOT, free_port
from tests.support.stack import running_service

pytestmark = pytest.mark.server
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOP = "http://shop.example"
TEXTS = widget_texts()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    """A service of each test's own (counts start at nought): one new conversation per IP
    and one message per conversation a minute."""
    workdir = tmp_path
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "NORDHEM_DATABASE_URL": f"sqlite:///{workdir / 'escalations.db'}",
           "NORDHEM_RASA_URL": "http://127.0.0.1:9", "NORDHEM_ACTIONS_URL": "http://127.0.0.1:9",
           "NORDHEM_CORS_ORIGINS": SHOP, "NORDHEM_RATE_LIMIT_STORAGE": "memory://",
           "NORDHEM_RATE_LIMIT_NEW_CONVERSATIONS": "1/minute",
           "NORDHEM_RATE_LIMIT_MESSAGES": "1/minute"}
    with running_service(workdir, port, env):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                  # the shop page (fulfilled by the test) counts as public: let it reach 127.0.0.1
                  "--disable-features=LocalNetworkAccessChecks"])
        yield launched
        launched.close()


def shop(browser: Browser, service: str, language: str) -> Page:
    """A fresh visitor (own storage) on a shop page that embeds the widget from the service."""
    page = browser.new_context().new_page()
    html = (f'<!doctype html><html lang="{language}"><head><title>Shop</title></head><body>'
            f'<main><h1>Shop</h1></main><script src="{service}/widget.js" defer></script>'
            f"</body></html>")
    page.route(f"{SHOP}/", lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(f"{SHOP}/")
    page.click("#nordhem-chat-launcher")
    expect(page.locator("#nordhem-chat-panel")).to_be_visible()
    return page


def say(page: Page, text: str) -> None:
    page.fill("#nordhem-chat-input", text)
    page.press("#nordhem-chat-input", "Enter")


def before_wait(text: str) -> str:
    """The text up to its {wait}, as a pattern."""
    return re.escape(text.split("{wait}")[0])


def test_a_message_over_the_limit_is_kept_with_an_honest_wait_in_the_customers_language(
        browser: Browser, service: str) -> None:
    page = shop(browser, service, "da")
    say(page, "hej")
    expect(page.locator('#nordhem-chat-log [data-sender="system"]')).to_have_count(1)
    say(page, "hvor bliver min pakke af?")
    refused = page.locator('#nordhem-chat-log [data-sender="customer"]').last
    expect(refused).to_have_attribute("data-state", "error")
    expect(refused.locator(".nordhem-bubble")).to_have_text("hvor bliver min pakke af?")
    # the wait is the service's Retry-After (59-60 s for 1/minute), read across origins
    expect(refused.locator(".nordhem-error")).to_have_text(re.compile(
        before_wait(TEXTS["da"]["busy"]) + r"(59 sekunder|1 minut) "))
    expect(refused.locator(".nordhem-retry")).to_have_text(TEXTS["da"]["retry"])
    page.context.close()


def test_a_chat_that_cannot_start_says_so_and_the_typed_text_stays(
        browser: Browser, service: str) -> None:
    first = shop(browser, service, "nb")  # the IP's one new conversation this minute
    expect(first.locator("#nordhem-chat-connection")).to_be_hidden()
    second = shop(browser, service, "sv")
    notice = second.locator("#nordhem-chat-connection")
    expect(notice).to_have_text(re.compile(before_wait(TEXTS["sv"]["busyStart"])))
    say(second, "var är mitt paket?")
    waiting = second.locator('#nordhem-chat-log [data-sender="customer"]').last
    expect(waiting.locator(".nordhem-bubble")).to_have_text("var är mitt paket?")
    expect(waiting.locator(".nordhem-error")).to_contain_text(
        TEXTS["sv"]["busy"].split("{wait}")[0])
    first.context.close()
    second.context.close()
