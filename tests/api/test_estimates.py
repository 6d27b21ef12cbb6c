"""Waiting times from the rate at which the queue was actually served, with an injected
clock: no basis gives no time, a floor and a range otherwise, and the receipt is truthful."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Optional
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.db import Database
from api.main import create_app
from api.migrate import upgrade
from api.models import Agent, Conversation, Escalation, Presence
from api.services import escalations, estimates
from api.settings import Settings
from core.vocabulary import ConversationStatus, EscalationStatus
from tests.support.api import add_agent, auth, hook_body, make_settings, post_hook, start
from tests.support.live import live_socket, next_of_type

TUESDAY_MORNING = dt.datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Oslo"))
TUESDAY_NIGHT = dt.datetime(2026, 12, 1, 22, 0, tzinfo=ZoneInfo("Europe/Oslo"))


def served(settings: Settings, minutes_ago: list[float], now: dt.datetime,
           resolved_after_seconds: float = 5, language: str = "nb",
           by: Optional[str] = None) -> None:
    """Escalations in `language` taken by a person `minutes_ago` (by the agent called `by`,
    if given), each resolved a few seconds later."""
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    with database.sessions() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.name == by)) if by else None
        stored = session.scalar(select(func.count()).select_from(Escalation)) or 0
        for number, minutes in enumerate(minutes_ago, start=stored):
            claimed = now - dt.timedelta(minutes=minutes)
            session.add(Conversation(id=f"served-{number}", customer_token_hash="",
                                     language=language, status="closed"))
            session.add(Escalation(reference=f"NH-S{number:05d}", conversation_id=f"served-{number}",
                                   language=language, reason="request_human", status="closed",
                                   agent_id=agent_id,
                                   created_at=claimed - dt.timedelta(minutes=3), claimed_at=claimed,
                                   resolved_at=claimed + dt.timedelta(seconds=resolved_after_seconds)))
        session.commit()
    database.engine.dispose()


def lately(settings: Settings, now: dt.datetime, language: str = "nb") -> Optional[estimates.Served]:
    """What the language's queue saw in the hour before `now`."""
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    with database.sessions() as session:
        value = estimates.served_lately(session, now, 60).get(language)
    database.engine.dispose()
    return value


def rate(settings: Settings, now: dt.datetime, slots_now: int = 0,
         language: str = "nb") -> Optional[estimates.ServiceRate]:
    return estimates.service_rate(lately(settings, now, language), now, slots_now, 3)


def test_no_basis_gives_no_waiting_time(settings: Settings) -> None:
    served(settings, [5, 10], TUESDAY_MORNING)  # two in the last hour are too few to tell
    assert rate(settings, TUESDAY_MORNING) is None
    assert estimates.wait_for(3, None, 2) is None


def test_quickly_resolved_escalations_count_as_served_not_as_handling_time(settings: Settings) -> None:
    served(settings, [5, 15, 25, 35, 45, 55], TUESDAY_MORNING, resolved_after_seconds=2)
    served_rate = rate(settings, TUESDAY_MORNING)
    assert served_rate is not None and served_rate.per_minute == pytest.approx(6 / 55)
    # the 25th in the queue waits hours at six an hour, not "about 1 minute"
    wait = estimates.wait_for(25, served_rate, 2)
    assert wait is not None and wait.low >= 120 and wait.high <= 375


def test_claims_outside_the_window_do_not_count(settings: Settings) -> None:
    served(settings, [61, 90, 120, 5], TUESDAY_MORNING)
    assert rate(settings, TUESDAY_MORNING) is None


def test_a_fast_queue_never_promises_less_than_the_floor() -> None:
    wait = estimates.wait_for(1, estimates.ServiceRate(2.0, 30), 2)
    assert wait == estimates.Wait(2, 3)


def test_the_range_grows_with_the_place() -> None:
    every_five_minutes = estimates.ServiceRate(0.2, 12)
    first = estimates.wait_for(1, every_five_minutes, 2)
    tenth = estimates.wait_for(10, every_five_minutes, 2)
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


# ---------- each language's own queue, the capacity online, and agents with room ----------

ONLINE = {"presence": Presence.ONLINE}


def holding(settings: Settings, agent: str, language: str = "nb") -> None:
    """The agent called `agent` holds one more open conversation."""
    database = Database(settings.database_url)
    with database.sessions() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.name == agent))
        number = session.scalar(select(func.count()).select_from(Escalation)) or 0
        session.add(Conversation(id=f"held-{number}", customer_token_hash="", language=language,
                                 status=ConversationStatus.WITH_AGENT))
        session.add(Escalation(reference=f"NH-H{number:05d}", conversation_id=f"held-{number}",
                               language=language, reason="request_human",
                               status=EscalationStatus.WITH_AGENT, agent_id=agent_id,
                               claimed_at=TUESDAY_MORNING - dt.timedelta(hours=3)))
        session.commit()
    database.engine.dispose()


def waiting_info(client: TestClient, conversation: str, token: str) -> dict[str, Any]:
    response = client.get(f"/api/conversations/{conversation}/messages", headers=auth(token))
    assert response.status_code == 200, response.text
    info: dict[str, Any] = response.json()["escalation"]
    return info


def test_each_language_queue_is_timed_by_its_own_service_rate(settings: Settings) -> None:
    served(settings, [2, 4, 6, 8, 10, 12], TUESDAY_MORNING, language="nb")
    add_agent(settings, "Kari", languages=["nb", "da"], **ONLINE)
    for client in client_at(settings, TUESDAY_MORNING):
        norwegian = post_hook(client, hook_body(start(client, "nb")[0], language="nb")).json()
        danish = post_hook(client, hook_body(start(client, "da")[0], language="da")).json()
        assert norwegian["eta_minutes"] is not None
        # Kari is there for Danish customers too, but nobody has served their queue lately:
        # a busy Norwegian queue says nothing about how long a Danish customer waits
        assert danish["agents_online"] == 1 and danish["eta_minutes"] is None


def test_the_rate_is_scaled_by_the_capacity_online_against_who_served(settings: Settings) -> None:
    upgrade(settings.database_url)
    add_agent(settings, "Kari", languages=["nb"], max_conversations=2)
    add_agent(settings, "Ola", languages=["nb"], max_conversations=2)
    served(settings, [5, 15, 25], TUESDAY_MORNING, by="Kari")
    served(settings, [10, 20, 30], TUESDAY_MORNING, by="Ola")
    seen = lately(settings, TUESDAY_MORNING)
    assert seen is not None and (seen.count, seen.slots) == (6, 4)  # each agent counted once
    both = rate(settings, TUESDAY_MORNING, slots_now=4)
    alone = rate(settings, TUESDAY_MORNING, slots_now=2)
    helped = rate(settings, TUESDAY_MORNING, slots_now=6)
    assert both is not None and alone is not None and helped is not None
    assert both.per_minute == pytest.approx(6 / 30)
    assert alone.per_minute == pytest.approx(both.per_minute / 2)
    assert helped.per_minute == pytest.approx(both.per_minute * 1.5)
    # nobody online here (a helpdesk's agents may be serving): the rate as it was seen
    unknown = rate(settings, TUESDAY_MORNING, slots_now=0)
    assert unknown is not None and unknown.per_minute == pytest.approx(both.per_minute)


def test_a_queue_served_by_unknown_agents_is_not_scaled(settings: Settings) -> None:
    served(settings, [5, 10, 15, 20, 25, 30], TUESDAY_MORNING)  # taken, by nobody we know
    seen_rate = rate(settings, TUESDAY_MORNING, slots_now=9)
    assert seen_rate is not None and seen_rate.per_minute == pytest.approx(6 / 30)


def test_capacity_online_counts_the_room_of_active_online_agents_taking_the_language(
        settings: Settings) -> None:
    upgrade(settings.database_url)
    add_agent(settings, "Kari", languages=["nb", "da"], max_conversations=3, **ONLINE)
    add_agent(settings, "Mette", languages=["da"], max_conversations=2, **ONLINE)
    add_agent(settings, "Ola", languages=["nb"], max_conversations=2, presence=Presence.AWAY)
    add_agent(settings, "Sven", languages=["sv"], max_conversations=4, active=False, **ONLINE)
    holding(settings, "Kari")
    database = Database(settings.database_url)
    with database.sessions() as session:
        # by the fallback, agents serving Danish take Swedish escalations too
        capacity = estimates.capacity_online(session, {"sv": frozenset({"da"})})
    database.engine.dispose()
    assert capacity["nb"] == estimates.Capacity(slots=3, free=2)
    assert capacity["da"] == estimates.Capacity(slots=5, free=4)
    assert capacity["sv"] == estimates.Capacity(slots=5, free=4)


def test_customers_that_agents_with_room_will_take_wait_only_the_floor() -> None:
    every_two_minutes = estimates.ServiceRate(0.5, 12)
    assert estimates.wait_for(2, every_two_minutes, 2, free=2) == estimates.Wait(2, 3)
    # the third waits for one conversation to end, as the first would with nobody free
    assert estimates.wait_for(3, every_two_minutes, 2, free=2) == \
        estimates.wait_for(1, every_two_minutes, 2)


def test_a_rate_measured_on_more_escalations_gives_a_narrower_range() -> None:
    few = estimates.wait_for(10, estimates.ServiceRate(0.5, 3), 2)
    many = estimates.wait_for(10, estimates.ServiceRate(0.5, 60), 2)
    assert few is not None and many is not None
    assert few.low < many.low and many.high < few.high


def test_an_agent_going_away_lengthens_the_wait_of_a_waiting_customer(settings: Settings) -> None:
    upgrade(settings.database_url)
    add_agent(settings, "Kari", languages=["nb"], max_conversations=1, **ONLINE)
    ola = add_agent(settings, "Ola", languages=["nb"], max_conversations=1, **ONLINE)
    served(settings, [5, 15, 25], TUESDAY_MORNING, by="Kari")
    served(settings, [10, 20, 30], TUESDAY_MORNING, by="Ola")
    holding(settings, "Kari")
    holding(settings, "Ola")  # both busy: the customer waits for a conversation to end
    for client in client_at(settings, TUESDAY_MORNING):
        conversation, token = start(client)
        post_hook(client, hook_body(conversation))
        both = waiting_info(client, conversation, token)
        away = client.put("/api/agents/me/presence", json={"presence": "away"},
                          headers=auth(ola))
        assert away.status_code == 200, away.text
        alone = waiting_info(client, conversation, token)
        assert both["position"] == alone["position"] == 1
        assert both["eta_max_minutes"] is not None and alone["eta_max_minutes"] is not None
        assert alone["eta_max_minutes"] > both["eta_max_minutes"]


def test_the_waiting_customer_hears_a_shorter_wait_as_their_place_improves(
        settings: Settings) -> None:
    served(settings, [2, 4, 6, 8, 10, 12], TUESDAY_MORNING)  # one every two minutes
    add_agent(settings, "Kari", languages=["nb"], max_conversations=1, **ONLINE)
    holding(settings, "Kari")  # Kari is busy: nobody has room
    per = add_agent(settings, "Per", languages=["nb"], max_conversations=1)
    for client in client_at(settings, TUESDAY_MORNING):
        first = post_hook(client, hook_body(start(client)[0])).json()
        conversation, token = start(client)
        second = post_hook(client, hook_body(conversation)).json()
        assert (first["position"], second["position"]) == (1, 2)
        assert second["eta_max_minutes"] > first["eta_max_minutes"]
        with live_socket(client, f"/ws/conversations/{conversation}", token) as customer:
            first_id = escalations_by_reference(client, first["reference"])
            claimed = client.post(f"/api/escalations/{first_id}/claim", headers=auth(per))
            assert claimed.status_code == 200, claimed.text
            moved = next_of_type(customer, "queue")["escalation"]
            assert moved["position"] == 1
            assert (moved["eta_minutes"], moved["eta_max_minutes"]) == \
                (first["eta_minutes"], first["eta_max_minutes"])


def escalations_by_reference(client: TestClient, reference: str) -> int:
    with client.app.state.hub.database.sessions() as session:
        return escalations.by_reference(session, reference).id
