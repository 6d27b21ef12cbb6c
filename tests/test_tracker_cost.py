"""The tracker store's memory of conversations (bot/tracker_store.py): what it hands out is
exactly what a replay of the database gives, other processes' writes are never missed,
personal data stays masked, and the memory is bounded. On real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.tracker_store import IncrementalTracker, TunedSQLTrackerStore
from core.content import load_content
from tests.support.servers import (
    ROOT,
    _wait_until_up,
    actions_command,
    bot_env,
    free_port,
    http_json,
    rasa_command,
)

POSTGRES_DB = "nordhem_tracker_cost_test"
FNR = "15076500565"
DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [greet, ask_shipping, track_order, thank]
entities: [order_number]
slots:
  topic:
    type: text
    mappings: [{type: custom}]
  order_number:
    type: text
    influence_conversation: false
    mappings: [{type: from_entity, entity: order_number}]
responses:
  utter_greet: [{text: hei}]
  utter_shipping: [{text: frakt}]
  utter_ask_order: [{text: "ordrenummer"}]
  utter_anything_else: [{text: "noe mer"}]
actions: [action_order]
""")
# how Rasa's policies ask for the history (MemoizationPolicy, RulePolicy, ...)
FLAGS: List[Dict[str, Any]] = [
    dict(omit_unset_slots=False, ignore_rule_only_turns=False, rule_only_data=None),
    dict(omit_unset_slots=True, ignore_rule_only_turns=False, rule_only_data=None),
    dict(omit_unset_slots=False, ignore_rule_only_turns=True,
         rule_only_data={"rule_only_slots": ["topic"], "rule_only_loops": []}),
]


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def sqlite_store(path: Path, **kwargs: int) -> TunedSQLTrackerStore:
    return TunedSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path), **kwargs)


def postgres_store(**kwargs: int) -> TunedSQLTrackerStore:
    return TunedSQLTrackerStore(DOMAIN, dialect="postgresql", host="127.0.0.1", port=5432,
                                db=POSTGRES_DB, login_db="test", username="postgres", **kwargs)


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """Makes stores sharing one database: each is what one Rasa process holds."""
    stores: List[TunedSQLTrackerStore] = []

    def make(**kwargs: int) -> TunedSQLTrackerStore:
        store = (sqlite_store(tmp_path / "trackers.db", **kwargs) if request.param == "sqlite"
                 else postgres_store(**kwargs))
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.engine.dispose()


def turn(number: int) -> List[Event]:
    """One customer message and the bot's answer; some turns revert or fill a slot."""
    intent = ["greet", "ask_shipping", "track_order", "thank"][number % 4]
    events: List[Event] = [
        UserUttered(f"melding {number}", {"name": intent, "confidence": 0.9},
                    parse_data={"intent": {"name": intent, "confidence": 0.9},
                                "entities": [], "text": f"melding {number}"}),
        ActionExecuted("utter_anything_else" if number % 3 else "action_order"),
        BotUttered("svar"),
    ]
    if intent == "track_order":
        events.insert(1, SlotSet("topic", "orders"))
    if number % 7 == 5:
        events.append(UserUtteranceReverted())  # "undo" the customer's message
    if number % 11 == 9:
        events.append(ActionReverted())
    # turns only rules know: policies trained on stories do not see them
    hidden = number % 5 == 3
    if hidden:
        events[1].hide_rule_turn = True
    return [*events, ActionExecuted("action_listen", hide_rule_turn=hidden)]


def fresh_replay(store: TunedSQLTrackerStore, sender: str) -> DialogueStateTracker:
    """What Rasa's own SQLTrackerStore would hand out: every stored event replayed."""
    with store.session_scope() as session:
        rows = store._event_query(session, sender, fetch_events_from_all_sessions=False).all()
        return DialogueStateTracker.from_dict(sender, [json.loads(r.data) for r in rows],
                                              DOMAIN.slots)


def say(store: TunedSQLTrackerStore, sender: str, events: List[Event]) -> DialogueStateTracker:
    """One message as Rasa's processor handles it: retrieve, append, save."""
    tracker = run(store.get_or_create_tracker(sender))
    for event in events:
        tracker.update(event)
    run(store.save(tracker))
    return tracker


def start(store: TunedSQLTrackerStore) -> str:
    sender = f"cost-{uuid.uuid4().hex[:12]}"
    say(store, sender, [ActionExecuted("action_session_start"), SessionStarted(),
                        ActionExecuted("action_listen")])
    return sender


def assert_same(tracker: DialogueStateTracker, replay: DialogueStateTracker) -> None:
    assert tracker.current_state(EventVerbosity.ALL) == replay.current_state(EventVerbosity.ALL)
    assert ([e.as_dict() for e in tracker.applied_events()]
            == [e.as_dict() for e in replay.applied_events()])
    for flags in FLAGS:
        states = tracker.past_states(DOMAIN, **flags)
        assert states == replay.past_states(DOMAIN, **flags)
        for state in states:  # Rasa's featurizers change the states they are given
            for sub_state in state.values():
                sub_state.clear()
        assert tracker.past_states(DOMAIN, **flags) == replay.past_states(DOMAIN, **flags)
    assert (tracker.copy().current_state(EventVerbosity.ALL)
            == replay.copy().current_state(EventVerbosity.ALL))


def test_remembered_tracker_is_exactly_a_replay_of_the_database(make_store) -> None:
    store = make_store()
    sender = start(store)
    for number in range(40):
        say(store, sender, turn(number))
        tracker = run(store.retrieve(sender))
        assert isinstance(tracker, IncrementalTracker)
        assert_same(tracker, fresh_replay(store, sender))
        # a tracker changed by the processor (not yet saved) too: its copy, its history
        for event in turn(100 + number)[:2]:
            tracker.update(event)
        replay = fresh_replay(store, sender)
        for event in list(tracker.events)[len(replay.events):]:
            replay.update(event)
        assert_same(tracker, replay)
    assert store.cache_misses <= 2 and store.cache_hits >= 40  # it was memory that answered


def test_two_processes_writing_one_conversation_in_turn_see_each_others_events(
    make_store,
) -> None:
    first, second = make_store(), make_store()
    sender = start(first)
    for number in range(12):
        writer, reader = (first, second) if number % 2 else (second, first)
        written = say(writer, sender, turn(number))
        seen = run(reader.retrieve(sender))
        assert seen is not None
        assert [e.as_dict() for e in seen.events] == [
            e.as_dict() for e in fresh_replay(reader, sender).events]
        assert seen.events[-1].as_dict() == written.events[-1].as_dict()
    # each store answered its own follow-up reads from memory, and read again after a write
    assert first.cache_hits > 0 and first.cache_misses >= 6
    assert second.cache_hits > 0 and second.cache_misses >= 6


def test_a_conversation_deleted_in_the_database_is_not_handed_out_from_memory(
    make_store,
) -> None:
    store = make_store()
    sender = start(store)
    say(store, sender, turn(1))
    assert run(store.retrieve(sender)) is not None
    with store.session_scope() as session:  # as the service's erasure does
        session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).delete()
        session.commit()
    assert run(store.retrieve(sender)) is None


def test_memory_holds_at_most_cache_size_conversations_the_latest_used(make_store) -> None:
    store = make_store(cache_size=3)
    senders = [start(store) for _ in range(5)]
    for sender in senders:
        say(store, sender, turn(0))
    assert store.cached_senders() == senders[2:]
    run(store.retrieve(senders[2]))  # used again: the others go first
    say(store, senders[0], turn(1))
    assert store.cached_senders() == [senders[4], senders[2], senders[0]]
    # a forgotten conversation is read from the database, complete
    tracker = run(store.retrieve(senders[1]))
    assert_same(tracker, fresh_replay(store, senders[1]))


def test_personal_data_is_stored_and_remembered_masked(tmp_path: Path) -> None:
    db = tmp_path / "trackers.db"
    store = sqlite_store(db)
    sender = start(store)
    say(store, sender, turn(0))
    text = f"fnr {FNR}, ordre 40918273"
    message = UserUttered(text, {"name": "track_order", "confidence": 0.9},
                          parse_data={"text": text, "entities": [],
                                      "intent": {"name": "track_order", "confidence": 0.9}})
    live = say(store, sender, [message, ActionExecuted("action_listen")])
    raw = "\n".join(row[0] for row in sqlite3.connect(db).execute("SELECT data FROM events"))
    assert FNR not in raw and "40918273" in raw
    assert live.latest_message.text == text  # the running conversation's tracker is unchanged
    remembered = run(store.retrieve(sender))
    assert remembered.latest_message.text == fresh_replay(store, sender).latest_message.text
    assert FNR not in json.dumps(remembered.current_state(EventVerbosity.ALL))



@contextmanager
def rasa_servers(workdir: Path, count: int) -> Iterator[List[str]]:
    """`count` Rasa servers sharing one PostgreSQL tracker store and a Redis lock store, as
    in the scaled mode (bot/endpoints-scaled.yml), with one action server; their URLs."""
    actions_port = free_port()
    lock_prefix = f"trackercost{uuid.uuid4().hex[:8]}"
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        "tracker_store:\n  type: bot.tracker_store.TunedSQLTrackerStore\n"
        "  dialect: postgresql\n  url: 127.0.0.1\n  port: 5432\n"
        f"  db: {POSTGRES_DB}\n  login_db: test\n  username: postgres\n"
        "lock_store:\n  type: redis\n  url: 127.0.0.1\n  port: 6379\n"
        f"  key_prefix: {lock_prefix}\n")
    postgres_store().engine.dispose()  # the database exists before both servers start
    env = bot_env()
    processes = [subprocess.Popen(
        actions_command(actions_port), cwd=ROOT, stdout=(workdir / "actions.log").open("w"),
        stderr=subprocess.STDOUT,
        env={**env, "ESCALATION_URL": "http://127.0.0.1:9",
             "NORDHEM_ORDERS_DB": str(workdir / "orders.db")})]
    urls = []
    for number in range(count):
        port = free_port()
        log = workdir / f"rasa-{number}.log"
        processes.append(subprocess.Popen(
            rasa_command(port, uuid.uuid4().hex, endpoints), cwd=ROOT, env=env,
            stdout=log.open("w"), stderr=subprocess.STDOUT))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        _wait_until_up(f"http://127.0.0.1:{actions_port}/health", processes[0],
                       workdir / "actions.log")
        for number, url in enumerate(urls):
            _wait_until_up(f"{url}/", processes[number + 1], workdir / f"rasa-{number}.log")
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.server
def test_two_rasa_servers_answering_one_conversation_in_turn_keep_its_context(
    tmp_path: Path,
) -> None:
    texts = load_content()
    sender = f"cost-{uuid.uuid4().hex[:12]}"
    messages = ["hvor lang tid tar leveringen til Bergen?", "kan jeg betale med vipps",
                "förlåt, jag skriver hellre på svenska: vad kostar frakten?", "ja"]
    with rasa_servers(tmp_path, 2) as urls:
        replies = [
            [reply.get("text", "") for reply in http_json(
                f"{urls[number % 2]}/webhooks/rest/webhook",  # the servers take turns
                {"sender": sender, "message": message}, timeout=60)]
            for number, message in enumerate(messages)]
    welcome = texts["welcome_prefix"]["nb"]
    assert replies[0][0].startswith(welcome)
    assert not replies[1][0].startswith(welcome)  # the second server saw the first's answer
    assert replies[2][0] == texts["shipping_cost"]["sv"]
    # the second server remembered the conversation in Norwegian, but the first switched it
    # to Swedish since: it must have read that again
    assert replies[3] == [texts["ask_what_else"]["sv"]]
    store = postgres_store()
    users = [e.text for e in fresh_replay(store, sender).events if isinstance(e, UserUttered)]
    store.engine.dispose()
    assert users == messages  # every message stored once, in order
