"""The widget and the agent console in a real browser (Debian's Chromium via Playwright),
against the real Rasa server, action server and escalation service."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, WebSocket, expect

from core.content import load_content, read_texts
from tests.support.api import add_agent, make_settings
from tests.support.orders import demo_order
from tests.support.stack import Stack, running_stack

pytestmark = pytest.mark.server
# every wait is on state (expect retries until it holds); the generous limit only matters
# when the machine is busy (Rasa answering slowly on two shared cores), never on a pass
expect.set_options(timeout=30_000)
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTEFACTS = ROOT / "results" / "screenshots"
TEXTS = load_content()
TEXTS_WIDGET = read_texts(ROOT / "content" / "widget.yml")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(Path(tmp_path_factory.mktemp("browser"))) as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    opened = context.new_page()
    yield opened
    context.close()


def shop_page(page: Page, stack: Stack, language: str | None = None) -> None:
    """Open a shop page that embeds the widget with one tag (optionally data-language)."""
    if language is None:
        page.goto(f"{stack.api}/")
        return
    html = (f'<!doctype html><html lang="en"><head><title>Butik</title></head><body><main>'
            f'<h1>Shop</h1></main><script src="/widget.js" data-language="{language}" defer>'
            f"</script></body></html>")
    page.route(f"{stack.api}/shop-{language}",
               lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(f"{stack.api}/shop-{language}")


def open_widget(page: Page) -> None:
    page.click("#nordhem-chat-launcher")
    expect(page.locator("#nordhem-chat-panel")).to_be_visible()


def say(page: Page, text: str) -> None:
    page.fill("#nordhem-chat-input", text)
    page.press("#nordhem-chat-input", "Enter")


def bot_messages(page: Page):
    return page.locator('#nordhem-chat-log [data-sender="bot"]')


def log_in(console: Page, api: str, token: str) -> None:
    """The agent console of the service at `api`, logged in with `token`, once its socket is
    live (its script and WebSocket ran)."""
    console.goto(f"{api}/agent")
    console.fill("#token", token)
    console.click("#login")
    expect(console.locator("#connection")).to_have_class(re.compile(r"\blive\b"))


def socket_frames(page: Page) -> list[tuple[str, str, str]]:
    """(sent or received, socket URL, payload) of every WebSocket frame of `page`, from now on."""
    frames: list[tuple[str, str, str]] = []

    def watch(socket: WebSocket) -> None:
        socket.on("framesent", lambda payload: frames.append(("sent", socket.url, str(payload))))
        socket.on("framereceived",
                  lambda payload: frames.append(("received", socket.url, str(payload))))
    page.on("websocket", watch)
    return frames


def axe_violations(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def screenshot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"))


@pytest.mark.parametrize("language, question, answer", [
    ("nb", "hva koster frakten?", "shipping_cost"),
    ("da", "hvornår har i åbent?", "opening_hours"),
    ("sv", "kan jag betala med swish?", "payment_methods"),
])
def test_faq_question_is_answered_in_the_page_language(
    page: Page, stack: Stack, language: str, question: str, answer: str
) -> None:
    shop_page(page, stack, language)
    open_widget(page)
    say(page, question)
    expect(bot_messages(page).first).to_contain_text(TEXTS[answer][language][:60])
    expect(page.locator('#nordhem-chat-log [data-sender="customer"]').last).to_have_text(question)
    if language == "nb":
        screenshot(page, "widget-answer")


def test_clarifying_button_continues_the_conversation(page: Page, stack: Stack) -> None:
    shop_page(page, stack)
    open_widget(page)
    say(page, "jeg har et problem med bestillingen min")
    buttons = page.locator(".nordhem-buttons button")
    expect(buttons.first).to_be_visible()
    titles = buttons.all_inner_texts()
    assert TEXTS["button_person"]["nb"] in titles
    screenshot(page, "widget-clarify")
    buttons.first.click()
    expect(page.locator('#nordhem-chat-log [data-sender="customer"]').last).to_have_text(titles[0])
    expect(bot_messages(page)).to_have_count(3)


def test_person_request_shows_the_queue_and_agent_replies_arrive_live(
    browser: Browser, page: Page, stack: Stack
) -> None:
    token = add_agent(make_settings(stack.database_url), "Kari")
    frames = socket_frames(page)
    shop_page(page, stack, "sv")
    open_widget(page)
    say(page, "jag vill prata med en människa")
    status = page.locator("#nordhem-chat-status")
    expect(status).to_contain_text("NH-")
    screenshot(page, "widget-queue")

    # bypass_csp lets the test inject axe-core; the console itself runs under its CSP
    console = browser.new_context(viewport={"width": 1300, "height": 850},
                                  bypass_csp=True).new_page()
    log_in(console, stack.api, token)
    item = console.locator("#queue li[data-escalation-id]").first
    expect(item).to_be_visible()
    item.click()
    expect(console.locator("#summary")).to_contain_text("The customer wants to talk to a person")
    console.click("#claim")
    console.fill("#reply", "Hej! Det här är Kari från kundtjänst.")
    console.click("#send")
    screenshot(console, "agent-console")
    violations = axe_violations(console)
    assert violations == [], [v["id"] for v in violations]

    agent = page.locator('#nordhem-chat-log [data-sender="agent"]').last
    expect(agent).to_contain_text("Hej! Det här är Kari från kundtjänst.")
    expect(page.locator(".nordhem-agent-name").last).to_contain_text("Kari")
    # the widget's socket: no token in its URL, the token in its first frame, then "ready"
    customer_token = json.loads(page.evaluate("localStorage.getItem('nordhem_chat')"))[
        "customer_token"]
    assert frames and all("token" not in url for _, url, _ in frames)
    assert json.loads(frames[0][2]) == {"type": "auth", "token": customer_token}
    assert ("received", frames[0][1], '{"type":"ready"}') in frames

    page.reload()  # the widget was open: it opens again, with the conversation restored
    expect(page.locator("#nordhem-chat-panel")).to_be_visible()
    expect(page.locator('#nordhem-chat-log [data-sender="agent"]').last).to_contain_text(
        "Hej! Det här är Kari från kundtjänst.")
    expect(page.locator('#nordhem-chat-log [data-sender="customer"]').first).to_have_text(
        "jag vill prata med en människa")
    console.context.close()


def test_html_from_the_customer_is_shown_as_text(page: Page, stack: Stack) -> None:
    shop_page(page, stack)
    open_widget(page)
    payload = '<img src=x onerror="window.hacked=1"><b>fet</b>'
    say(page, payload)
    expect(page.locator('#nordhem-chat-log [data-sender="customer"]').last).to_have_text(payload)
    expect(bot_messages(page).first).to_be_visible()
    assert page.locator("#nordhem-chat-log img, #nordhem-chat-log b").count() == 0
    assert page.evaluate("window.hacked === undefined")


def test_widget_has_no_serious_accessibility_violations(page: Page, stack: Stack) -> None:
    shop_page(page, stack)
    open_widget(page)
    say(page, "hei")
    expect(bot_messages(page).first).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], [(v["id"], v["nodes"][0]["target"]) for v in violations]


def test_phone_sized_viewport_shows_the_widget_full_screen(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True)
    phone = context.new_page()
    shop_page(phone, stack)
    open_widget(phone)
    expect(phone.locator("#nordhem-chat-launcher")).to_be_hidden()  # the phone layout applies
    box = phone.locator("#nordhem-chat-panel").bounding_box()
    assert box["width"] >= 370 and box["height"] >= 600
    screenshot(phone, "widget-phone")
    context.close()


def test_the_console_works_under_its_content_security_policy(browser: Browser, stack: Stack) -> None:
    token = add_agent(make_settings(stack.database_url), "Lina")
    console = browser.new_context(viewport={"width": 1300, "height": 850}).new_page()
    blocked: list[str] = []
    console.on("console", lambda message: blocked.append(message.text)
               if "Content Security Policy" in message.text else None)
    log_in(console, stack.api, token)
    assert blocked == []
    console.context.close()


def test_the_console_shows_the_order_the_bot_verified_so_the_agent_does_not_ask_again(
    browser: Browser, page: Page, stack: Stack
) -> None:
    """A delayed order, verified in the widget; the customer takes the offered person. The
    console's order panel holds the verified facts, the tracking page as a link."""
    order = demo_order(stack.workdir, "NO", "delayed")
    token = add_agent(make_settings(stack.database_url), "Ola")
    shop_page(page, stack, "nb")
    open_widget(page)
    for text in ("hei, hvor er pakken min?", f"ordrenummer {order['number']}", order["email"]):
        count = bot_messages(page).count()
        say(page, text)
        expect(bot_messages(page)).not_to_have_count(count)
    expect(bot_messages(page).last).to_contain_text(order["tracking_number"])
    say(page, "ja, gjerne")
    status = page.locator("#nordhem-chat-status")
    expect(status).to_contain_text("NH-")
    reference = re.search(r"NH-[A-Z0-9]+", status.inner_text()).group(0)

    console = browser.new_context(viewport={"width": 1300, "height": 850}).new_page()
    log_in(console, stack.api, token)
    console.locator("#queue li[data-escalation-id]").filter(has_text=reference).click()
    panel = console.locator("#d-order-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Verified by the bot")
    expect(panel).to_contain_text(order["number"])
    expect(panel).to_contain_text("delayed")
    link = panel.locator("a")
    expect(link).to_contain_text(order["tracking_number"])
    assert link.get_attribute("href").startswith("https://")
    assert link.get_attribute("rel") == "noopener noreferrer"
    # the order's facts are in the panel, not again under Details
    expect(console.locator("#d-details")).not_to_contain_text(order["tracking_number"])
    console.context.close()


def test_the_widget_asks_for_a_rating_once_the_agent_resolved_and_keeps_the_answer(
    page: Page, stack: Stack
) -> None:
    """The agent resolves; the widget asks 1-5 in the customer's language (accessibly), the
    customer answers with a comment, and after a reload the question is not asked again."""
    token = add_agent(make_settings(stack.database_url), "Lise")
    agent = {"Authorization": f"Bearer {token}"}
    shop_page(page, stack, "da")
    open_widget(page)
    say(page, "jeg vil gerne tale med en medarbejder")
    status = page.locator("#nordhem-chat-status")
    expect(status).to_contain_text("NH-")
    reference = re.search(r"NH-[A-Z0-9]+", status.inner_text()).group(0)
    [item] = [e for e in httpx.get(f"{stack.api}/api/escalations", headers=agent).json()
              if e["reference"] == reference]
    httpx.post(f"{stack.api}/api/escalations/{item['id']}/claim", headers=agent)
    httpx.post(f"{stack.api}/api/escalations/{item['id']}/resolve",
               json={"return_to_bot": False}, headers=agent)

    box = page.locator("#nordhem-chat-csat")
    expect(box).to_contain_text(TEXTS_WIDGET["csatQuestion"]["da"])
    violations = axe_violations(page)
    assert violations == [], [v["id"] for v in violations]
    box.locator(".nordhem-csat-send").click()  # no score yet: asked to pick one, nothing sent
    expect(box.locator(".nordhem-csat-note")).to_have_text(TEXTS_WIDGET["csatPick"]["da"])
    box.get_by_role("button", name=TEXTS_WIDGET["csatScore"]["da"].replace("{n}", "4")).click()
    page.fill("#nordhem-chat-csat-comment", "Hurtig og venlig hjælp")
    box.locator(".nordhem-csat-send").click()
    expect(box).to_have_text(TEXTS_WIDGET["csatThanks"]["da"])

    detail = httpx.get(f"{stack.api}/api/escalations/{item['id']}", headers=agent).json()
    assert detail["csat_score"] == 4
    page.reload()
    expect(page.locator("#nordhem-chat-panel")).to_be_visible()
    expect(page.locator('#nordhem-chat-log [data-sender="system"]').last).to_be_visible()
    expect(page.locator("#nordhem-chat-csat")).to_have_count(0)
