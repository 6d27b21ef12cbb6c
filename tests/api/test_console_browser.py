"""The agent console in the agent's language, in a real browser (Debian's Chromium via
Playwright), against the escalation service alone: a Danish hand-off, signed as the bot
signs it, read by a Swedish-console agent in Stockholm from a browser set to another time
zone; and the login page in the browser's language."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, expect

from api.security import sign
from tests.api.test_browser import axe_violations, screenshot
from tests.api.test_console_language import CONSOLE, ORDER_FACTS
from tests.support.api import add_agent, auth, make_settings
from tests.support.servers import ROOT, free_port
from tests.support.stack import RATE_LIMITS_OUT_OF_THE_WAY, running_service

pytestmark = pytest.mark.server
expect.set_options(timeout=30_000)
HOOK_SECRET = "console-hook-secret"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
# the browser's own zone, nine hours from Stockholm: the console must not use it
BROWSER_ZONE = "America/Los_Angeles"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The service alone: (its URL, its database URL)."""
    workdir = Path(tmp_path_factory.mktemp("console"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database_url = f"sqlite:///{workdir / 'escalations.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NORDHEM_DATABASE_URL": database_url,
           "NORDHEM_HOOK_SECRET": HOOK_SECRET, "NORDHEM_RASA_URL": "http://127.0.0.1:9",
           "NORDHEM_ACTIONS_URL": "http://127.0.0.1:9", "NORDHEM_TRACKER_STORE_URL": "sqlite://",
           "NORDHEM_CORS_ORIGINS": url, **RATE_LIMITS_OUT_OF_THE_WAY}
    with running_service(workdir, port, env):
        yield url, database_url


def danish_late_parcel(api: str, said_at: float) -> str:
    """The bot's signed hand-off of a Danish customer's late parcel; its reference."""
    body = {"event_id": uuid.uuid4().hex, "sent_at": time.time(),
            "conversation_id": "c_" + uuid.uuid4().hex[:12], "language": "da",
            "reason": "late_delivery", "priority": "high",
            "summary": "Customer writes da; hand-off because: late delivery.",
            "topics": ["shipping_cost", "track_order"], "answered": ["shipping_cost"],
            "details": ORDER_FACTS,
            "transcript": [{"sender": "customer", "text": "hvad koster fragten?",
                            "timestamp": said_at},
                           {"sender": "bot", "text": "Sådan er vores fragtpriser: ...",
                            "timestamp": said_at + 60}],
            "scorecard": {"welcomed": True, "score": 1.0}}
    raw = json.dumps(body).encode()
    response = httpx.post(f"{api}/hooks/escalations", content=raw, headers={
        "Content-Type": "application/json", "X-Signature": sign(raw, HOOK_SECRET)})
    assert response.status_code == 201, response.text
    return str(response.json()["reference"])


def clock(timestamp: float, zone: ZoneInfo | str) -> str:
    return dt.datetime.fromtimestamp(timestamp, ZoneInfo(str(zone))).strftime("%H:%M")


def test_a_swedish_agent_reads_a_danish_hand_off_in_swedish_in_stockholm_time(
        browser: Browser, service: tuple[str, str]) -> None:
    api, database_url = service
    token = add_agent(make_settings(database_url), "Sven", languages=["da", "sv"],
                      console_language="sv", time_zone="Europe/Stockholm")
    said_at = time.time() - 600
    reference = danish_late_parcel(api, said_at)

    # bypass_csp lets the test inject axe-core; the console itself runs under its CSP
    context = browser.new_context(viewport={"width": 1300, "height": 900}, locale="en-US",
                                  timezone_id=BROWSER_ZONE, bypass_csp=True)
    console = context.new_page()
    console.goto(f"{api}/agent")
    expect(console.locator("#login")).to_have_text("Log in")  # the browser reads English
    console.fill("#token", token)
    console.click("#login")
    sv = {key: texts["sv"] for key, texts in CONSOLE["ui"].items()}
    expect(console.locator("#connection")).to_have_text(sv["conn_live"])
    expect(console.locator("html")).to_have_attribute("lang", "sv")
    expect(console.locator("h1")).to_have_text(sv["console_title"])
    expect(console.locator("#logout")).to_have_text(sv["logout"])
    expect(console.locator("#time-zone")).to_have_text("Tider: Europe/Stockholm")
    expect(console.locator("#console-language")).to_have_value("sv")

    item = console.locator("#queue li[data-escalation-id]").filter(has_text=reference)
    expect(item).to_contain_text(CONSOLE["reasons"]["late_delivery"]["sv"])
    expect(item).to_contain_text("Kundens order är försenad")
    item.click()
    summary = console.locator("#summary")
    expect(summary).to_contain_text("Kundens order är försenad och kunden vill ha hjälp.")
    expect(summary).to_contain_text("ordernummer 40918273 (bekräftad av boten)")
    expect(summary).to_contain_text("Boten har redan svarat på: fraktkostnader.")
    panel = console.locator("#d-order-panel")
    expect(panel).to_contain_text(CONSOLE["order"]["verified_note"]["sv"])
    expect(panel).to_contain_text("försenad")
    expect(console.locator("#d-topics li.answered")).to_have_text(
        "Fraktkostnader✓ (besvarat av boten)")
    expect(console.locator("#d-details")).to_contain_text("E-post")
    expect(console.locator("#claim")).to_have_text(sv["claim"])

    # times in the agent's time zone, not the browser's
    times = console.locator("#transcript-list time")
    expect(times).to_have_count(2)
    expect(times.first).to_contain_text(clock(said_at, STOCKHOLM))
    expect(times.last).to_contain_text(clock(said_at + 60, STOCKHOLM))
    assert clock(said_at, BROWSER_ZONE) not in times.first.inner_text()
    expect(console.locator("#transcript-list .meta").first).to_contain_text(sv["sender_customer"])
    handed = console.locator(".handed-over")
    expect(handed).to_contain_text("Överlämnat")
    created = httpx.get(f"{api}/api/escalations", headers=auth(token)).json()[0]["created_at"]
    created_at = dt.datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    expect(handed).to_contain_text(clock(created_at, STOCKHOLM))

    console.click("#claim")
    expect(console.locator("#d-meta")).to_contain_text("Tagits av Sven")
    expect(console.locator("#reply-hint")).to_have_text(sv["hint_enter"])
    expect(console.locator("#resolve")).to_have_text(sv["resolve"])
    screenshot(console, "agent-console-sv")
    violations = axe_violations(console)
    assert violations == [], [(v["id"], v["nodes"][0]["target"]) for v in violations]

    # the switcher: the console, and the summary written by the service, in English
    console.select_option("#console-language", "en")
    expect(console.locator("#logout")).to_have_text("Log out")
    expect(console.locator("html")).to_have_attribute("lang", "en")
    expect(summary).to_contain_text("The customer's order is late and they want help.")
    expect(console.locator("#resolve")).to_have_text("Resolve")
    expect(item).to_contain_text("The customer's order is late")
    me = httpx.get(f"{api}/api/agents/me", headers=auth(token)).json()
    assert me["console_language"] == "en"
    context.close()


def test_the_login_page_speaks_the_browsers_language(browser: Browser,
                                                     service: tuple[str, str]) -> None:
    context = browser.new_context(viewport={"width": 1000, "height": 700}, locale="da-DK",
                                  bypass_csp=True)
    page = context.new_page()
    page.goto(f"{service[0]}/agent")
    da = {key: texts["da"] for key, texts in CONSOLE["ui"].items()}
    expect(page.locator("#login")).to_have_text(da["login_button"])
    expect(page.locator("label[for=token]")).to_have_text(da["token_label"])
    expect(page.locator("html")).to_have_attribute("lang", "da")
    page.click("#login")
    expect(page.locator("#error")).to_have_text(da["error_enter_token"])
    page.fill("#token", "not-a-token")
    page.click("#login")
    expect(page.locator("#error")).to_have_text(da["error_invalid_token"])
    violations = axe_violations(page)
    assert violations == [], [(v["id"], v["nodes"][0]["target"]) for v in violations]
    context.close()
