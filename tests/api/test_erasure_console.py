"""The erasure request in a real browser: the customer asks in the widget, an agent confirms
with the console's button, and the widget says the conversation was erased."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Dialog, expect, sync_playwright

from core.content import load_content, notice
from tests.api.test_browser import log_in, open_widget, say, shop_page
from tests.support.api import add_agent, make_settings
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS
from tests.support.stack import running_stack

pytestmark = pytest.mark.server


def test_an_agent_confirms_an_erasure_request_and_the_widget_is_told(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_FLAGS)
        token = add_agent(make_settings(stack.database_url), "Kari")
        page = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
        shop_page(page, stack, "nb")
        open_widget(page)
        say(page, "jeg vil at dere sletter alle opplysningene dere har om meg")
        expect(page.locator('#nordhem-chat-log [data-sender="bot"]').last).to_contain_text(
            load_content()["offer_erasure"]["nb"].strip())
        say(page, "ja takk")
        expect(page.locator("#nordhem-chat-status")).to_contain_text("NH-")

        console = browser.new_context(viewport={"width": 1300, "height": 850}).new_page()
        log_in(console, stack.api, token)
        item = console.locator("#queue li[data-escalation-id]")
        expect(item).to_have_count(1)
        expect(item).to_contain_text("Erasure request")
        item.click()
        expect(console.locator("#claim")).to_be_visible()
        expect(console.locator("#erase")).to_be_hidden()  # only once claimed
        console.click("#claim")
        expect(console.locator("#erase")).to_have_text("Confirm erasure")
        questions: list[str] = []

        def accept(dialog: Dialog) -> None:
            questions.append(dialog.message)
            dialog.accept()
        console.on("dialog", accept)
        console.click("#erase")
        expect(console.locator("#detail-empty")).to_contain_text("The conversation was erased")
        expect(item).to_have_count(0)
        assert questions and "cannot be undone" in questions[0]

        expect(page.locator('#nordhem-chat-log [data-sender="system"]').last).to_contain_text(
            notice("erased", "nb"))
        browser.close()
