"""Waiting times from the rate at which the queue was actually served, with an injected
clock: no basis gives no time, a floor and a range otherwise, and the receipt is truthful."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api.db import Database
from api.main import create_app
from api.migrate import upgrade
from api.models import Conversation, Escalation, Presence
from api.services import estimates
from api.settings import Settings
from tests.support.api import add_agent, hook_body, make_settings, post_hook, start

TUESDAY_MORNING = dt.datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
TUESDAY_NIGHT = dt.datetime(2026, 12, 1, 22, 0, tzinfo=ZoneInfo("Europe/Oslo"))


def served(settings: Settings, minutes_ago: list[float], now: dt.datetime,
           resolved_after_seconds: float = 5) -> None:
    """Escalations taken by agents `minutes_ago`, each resolved a few seconds later."""
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    with database.sessions() as session:
        for index, minutes in enumerate(minutes_ago):
            claimed = now - dt.timedelta(minutes=minutes)
            session.add(Conversation(id=f"served-{index}", customer_token_hash="", language="nb",
                                     status="closed"))
            session.add(Escalation(reference=f"NH-S{index:05d}", conversation_id=f"served-{index}",
                                   language="nb", reason="request_human", status="closed",
                                   created_at=claimed - dt.timedelta(minutes=3), claimed_at=claimed,
                                   resolved_at=claimed + dt.timedelta(seconds=resolved_after_seconds)))
        session.commit()
    database.engine.dispose()


def rate(settings: Settings, now: dt.datetime) -> float | None:
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    with database.sessions() as session:
        value = estimates.served_per_minute(session, now, 60, 3)
    database.engine.dispose()
    return value


def test_no_basis_gives_no_waiting_time(settings: Settings) -> None:
    served(settings, [5, 10], TUESDAY_MORNING)  # two in the last hour are too few to tell
    assert rate(settings, TUESDAY_MORNING) is None
    assert estimates.wait_for(3, None, 2) is None


def test_quickly_resolved_escalations_count_as_served_not_as_handling_time(settings: Settings) -> None:
    served(settings, [5, 15, 25, 35, 45, 55], TUESDAY_MORNING, resolved_after_seconds=2)
    served_rate = rate(settings, TUESDAY_MORNING)
    assert served_rate == pytest.approx(6 / 55)
    # the 25th in the queue waits hours at six an hour, not "about 1 minute"
    wait = estimates.wait_for(25, served_rate, 2)
    assert wait is not None and wait.low >= 150 and wait.high <= 375


def test_claims_outside_the_window_do_not_count(settings: Settings) -> None:
    served(settings, [61, 90, 120, 5], TUESDAY_MORNING)
    assert rate(settings, TUESDAY_MORNING) is None


def test_a_fast_queue_never_promises_less_than_the_floor() -> None:
    wait = estimates.wait_for(1, 2.0, 2)
    assert wait == estimates.Wait(2, 3)


def test_the_range_grows_with_the_place() -> None:
    first, tenth = estimates.wait_for(1, 0.2, 2), estimates.wait_for(10, 0.2, 2)
    assert first is not None and tenth is not None
    assert first.low <= tenth.low and first.high < tenth.high and tenth.low < tenth.high


def client_at(settings: Settings, moment: dt.datetime) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=lambda: moment)) as client:
        yield client


@pytest.fixture
def open_client(settings: Settings) -> Iterator[TestClient]:
    yield from client_at(settings, TUESDAY_MORNING)


def test_receipt_while_open_with_nobody_connected_says_nobody_is_available(open_client: TestClient) -> None:
    conversation, _ = start(open_client)
    receipt = post_hook(open_client, hook_body(conversation)).json()
    assert receipt["open_now"] is True and receipt["position"] == 1
    assert receipt["agents_available"] == 0
    assert receipt["eta_minutes"] is None and receipt["eta_max_minutes"] is None


def test_receipt_with_a_helpdesk_does_not_claim_nobody_is_there(database_url: str) -> None:
    settings = make_settings(database_url, webhook_urls="http://127.0.0.1:9/hook",
                             webhook_secret="s", outbox_worker=False)
    for client in client_at(settings, TUESDAY_MORNING):
        conversation, _ = start(client)
        receipt = post_hook(client, hook_body(conversation)).json()
        assert receipt["agents_available"] is None and receipt["open_now"] is True


def test_receipt_with_a_served_queue_gives_a_range(settings: Settings) -> None:
    served(settings, [2, 4, 6, 8, 10, 12], TUESDAY_MORNING)  # one every two minutes
    add_agent(settings, "Kari", languages=["nb"], presence=Presence.ONLINE)
    for client in client_at(settings, TUESDAY_MORNING):
        conversation, _ = start(client)
        receipt = post_hook(client, hook_body(conversation)).json()
        assert (receipt["eta_minutes"], receipt["eta_max_minutes"]) == (2, 3)


def test_receipt_at_night_is_closed_with_the_next_opening(settings: Settings) -> None:
    served(settings, [2, 4, 6, 8], TUESDAY_NIGHT)
    for client in client_at(settings, TUESDAY_NIGHT):
        conversation, _ = start(client)
        receipt = post_hook(client, hook_body(conversation)).json()
        assert receipt["open_now"] is False and receipt["eta_minutes"] is None
        assert receipt["next_open"] == "i morgen kl. 08:00"
