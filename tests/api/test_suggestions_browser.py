"""Suggested answers in a real browser: a Danish customer asks the bot about returns and then
for a person; the agent sees the Danish return answer first, puts it into the reply with one
click, and typing ranks the suggestions again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from core.content import load_content, topic_labels
from tests.api.test_browser import (
    bot_messages,
    log_in,
    open_widget,
    say,
    screenshot,
    shop_page,
)
from tests.support.api import add_agent, make_settings
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS
from tests.support.stack import Stack, running_stack

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(Path(tmp_path_factory.mktemp("suggestions"))) as running:
        yield running


def test_an_agent_puts_the_danish_return_answer_into_the_reply_with_one_click(
        stack: Stack) -> None:
    return_answer = load_content()["return_policy"]["da"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_FLAGS)
        token = add_agent(make_settings(stack.database_url), "Mette")
        page = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
        shop_page(page, stack, "da")
        open_widget(page)
        say(page, "hvordan sender jeg en vare retur?")
        expect(bot_messages(page).filter(has_text=return_answer.splitlines()[0])).to_have_count(1)
        say(page, "jeg vil gerne tale med et menneske")
        expect(page.locator("#nordhem-chat-status")).to_contain_text("NH-")

        console = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
        blocked: list[str] = []
        console.on("console", lambda message: blocked.append(message.text)
                   if "Content Security Policy" in message.text else None)
        log_in(console, stack.api, token)
        console.locator("#queue li[data-escalation-id]").first.click()
        suggestions = console.locator("#suggestions li")
        expect(suggestions.first).to_contain_text(topic_labels()["return_policy"]["da"])
        expect(suggestions.first).to_contain_text(return_answer.splitlines()[0])
        insert = suggestions.first.locator("button")
        expect(insert).to_be_disabled()  # the reply box takes text once the agent claims

        console.click("#claim")
        expect(insert).to_be_enabled()
        console.fill("#reply", "Hej!")
        insert.click()
        reply = console.locator("#reply")
        expect(reply).to_have_value(f"Hej!\n\n{return_answer}")
        expect(reply).to_be_focused()
        screenshot(console, "agent-suggestions")

        gift_cards = suggestions.filter(has_text=topic_labels()["gift_card"]["da"])
        expect(gift_cards).to_have_count(0)
        reply.fill("Dit gavekort")  # typing ranks again: the gift card answers come up
        expect(gift_cards).not_to_have_count(0)
        expect(suggestions.first).to_contain_text(topic_labels()["return_policy"]["da"])
        assert blocked == []
        browser.close()
