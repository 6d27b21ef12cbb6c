"""The Alembic migrations on SQLite and PostgreSQL: statuses become checked enums without
losing or changing a row, and the way back works."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from api.db import Database, make_engine
from api.migrate import alembic_config
from api.models import Agent, Conversation, Escalation, Presence
from api.services import agents
from core.vocabulary import ConversationStatus, EscalationStatus


def migrate(url: str, revision: str, down: bool = False) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
    engine.dispose()


def test_statuses_survive_the_move_to_enums_and_back(database_url: str) -> None:
    migrate(database_url, "0001")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO conversations (id, customer_token_hash, status, created_at) "
            "VALUES ('c_old', 'x', 'with_agent', CURRENT_TIMESTAMP)"))
        connection.execute(sa.text(
            "INSERT INTO messages (conversation_id, sender, text, created_at) "
            "VALUES ('c_old', 'customer', 'hei', CURRENT_TIMESTAMP)"))
        connection.execute(sa.text(
            "INSERT INTO escalations (reference, conversation_id, language, reason, priority, "
            "summary, topics, details, transcript, status, created_at) VALUES ('NH-OLD', 'c_old', "
            "'nb', 'complaint', 'high', '', '[]', '{}', '[]', 'with_agent', CURRENT_TIMESTAMP)"))
    engine.dispose()

    migrate(database_url, "head")
    database = Database(database_url)
    with database.sessions() as session:
        assert session.get_one(Conversation, "c_old").status is ConversationStatus.WITH_AGENT
        escalation = session.scalar(sa.select(Escalation))
        assert escalation is not None and escalation.status is EscalationStatus.WITH_AGENT
        assert len(session.get_one(Conversation, "c_old").messages) == 1
    with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as connection:
        connection.execute(sa.text("UPDATE escalations SET status = 'lost'"))
    database.engine.dispose()

    # one revision per transaction: on SQLite, 0002 can switch foreign keys off for its table
    # copies only before the transaction's first write (the PRAGMA is ignored inside one)
    migrate(database_url, "0002", down=True)
    migrate(database_url, "0001", down=True)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE escalations SET status = 'anything'"))
    engine.dispose()


def agent_before(database_url: str, revision: str) -> None:
    """An agent stored as `revision` knew agents ('Old'), then the upgrade to the newest."""
    migrate(database_url, revision)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO agents (name, token_hash, created_at) "
                                   "VALUES ('Old', 'hash', CURRENT_TIMESTAMP)"))
    engine.dispose()
    migrate(database_url, "head")


def test_agent_tokens_get_an_issue_time_and_lose_it_on_the_way_back(database_url: str) -> None:
    agent_before(database_url, "0002")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        issued, revoked = connection.execute(sa.text(
            "SELECT token_issued_at, revoked_at FROM agents")).one()
    engine.dispose()
    assert issued is not None and revoked is None  # an existing token keeps working
    migrate(database_url, "0002", down=True)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("agents")}
    engine.dispose()
    assert "token_issued_at" not in columns and "revoked_at" not in columns


def test_outbox_events_learn_their_conversation_so_that_erasure_finds_them(database_url: str) -> None:
    migrate(database_url, "0003")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO conversations (id, customer_token_hash, status, created_at) "
            "VALUES ('c_old', 'x', 'queued', CURRENT_TIMESTAMP)"))
        connection.execute(sa.text(
            "INSERT INTO escalations (reference, conversation_id, language, reason, priority, "
            "summary, topics, details, transcript, status, created_at) VALUES ('NH-OLD234', "
            "'c_old', 'nb', 'complaint', 'high', '', '[]', '{}', '[]', 'queued', CURRENT_TIMESTAMP)"))
        for event_type, payload in [("escalation.created", '{"conversation_id": "c_old"}'),
                                    ("message.created", '{"reference": "NH-OLD234"}'),
                                    ("message.created", '{"reference": "NH-GONE22"}')]:
            connection.execute(sa.text(
                "INSERT INTO outbox (url, type, payload, status, attempts, next_attempt_at, "
                "created_at) VALUES ('http://h', :type, :payload, 'delivered', 1, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"type": event_type, "payload": payload})
    engine.dispose()

    migrate(database_url, "head")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        owners = connection.execute(sa.text("SELECT conversation_id FROM outbox ORDER BY id")).scalars()
        assert list(owners) == ["c_old", "c_old", None]
        assert sa.inspect(connection).has_table("erasures")
    engine.dispose()

    migrate(database_url, "0003", down=True)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("outbox")}
        assert "conversation_id" not in columns and not sa.inspect(connection).has_table("erasures")
    engine.dispose()


def test_existing_agents_serve_nb_da_sv_three_at_a_time_and_lose_it_on_the_way_back(
        database_url: str) -> None:
    agent_before(database_url, "0004")
    database = Database(database_url)
    with database.sessions() as session:
        old = session.scalars(sa.select(Agent)).one()
        assert (old.languages, old.max_conversations, old.presence, old.is_admin, old.active) \
            == (["nb", "da", "sv"], 3, Presence.OFFLINE, False, True)
    for refused in ("UPDATE agents SET presence = 'busy'", "UPDATE agents SET max_conversations = 0",
                    "UPDATE agents SET max_conversations = 21"):
        with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as connection:
            connection.execute(sa.text(refused))
    database.engine.dispose()

    migrate(database_url, "0004", down=True)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("agents")}
        assert connection.execute(sa.text("SELECT name FROM agents")).scalars().all() == ["Old"]
    engine.dispose()
    assert not columns & {"languages", "max_conversations", "presence", "is_admin", "active"}


def test_existing_agents_read_the_console_in_their_language_in_oslo_time_and_lose_it_on_the_way_back(
        database_url: str) -> None:
    """Before 0007: an agent serving Swedish, and an escalation. After: the agent has chosen
    no console language (so reads Swedish), sees Oslo time, and the escalation answered
    nothing; an unknown console language is refused by the database."""
    migrate(database_url, "0006")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO agents (name, token_hash, created_at, languages) "
                                   """VALUES ('Old', 'hash', CURRENT_TIMESTAMP, '["sv", "en"]')"""))
        connection.execute(sa.text(
            "INSERT INTO conversations (id, customer_token_hash, status, created_at) "
            "VALUES ('c_old', 'x', 'queued', CURRENT_TIMESTAMP)"))
        connection.execute(sa.text(
            "INSERT INTO escalations (reference, conversation_id, language, reason, priority, "
            "summary, topics, details, transcript, status, created_at) VALUES ('NH-OLD777', "
            "'c_old', 'sv', 'complaint', 'high', '', '[]', '{}', '[]', 'queued', CURRENT_TIMESTAMP)"))
    engine.dispose()
    migrate(database_url, "head")
    database = Database(database_url)
    with database.sessions() as session:
        old = session.scalars(sa.select(Agent)).one()
        assert (old.console_language, old.time_zone) == (None, "Europe/Oslo")
        assert agents.console_language(old) == "sv"
        assert session.scalars(sa.select(Escalation)).one().answered == []
    with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as connection:
        connection.execute(sa.text("UPDATE agents SET console_language = 'de'"))
    with database.engine.begin() as connection:
        connection.execute(sa.text("UPDATE agents SET console_language = 'en'"))
    database.engine.dispose()

    migrate(database_url, "0006", down=True)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        inspector = sa.inspect(connection)
        agent_columns = {c["name"] for c in inspector.get_columns("agents")}
        escalation_columns = {c["name"] for c in inspector.get_columns("escalations")}
        assert connection.execute(sa.text("SELECT name FROM agents")).scalars().all() == ["Old"]
    engine.dispose()
    assert not agent_columns & {"console_language", "time_zone"}
    assert "answered" not in escalation_columns
