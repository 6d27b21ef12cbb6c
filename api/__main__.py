"""Command line: `python -m api agents create|rotate|revoke|list`, `python -m api migrate`,
`python -m api serve`, and for privacy `python -m api erase|erasures|purge`."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from typing import Optional

import sqlalchemy as sa
from sqlalchemy import select

from api.db import Database
from api.events import Events
from api.migrate import upgrade
from api.models import Agent, Erasure, utcnow
from api.security import hash_token, new_token
from api.services import erasure, outbox, retention
from api.settings import Settings, get_settings

REFERENCE = re.compile(r"NH-[A-Z0-9]{6}", re.IGNORECASE)


def create_agent(name: str) -> str:
    """Store a new agent (token hashed) and return the token, shown only this once."""
    settings = get_settings()
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    token = new_token()
    with database.sessions() as session:
        session.add(Agent(name=name, token_hash=hash_token(token)))
        session.commit()
    database.engine.dispose()
    return token


def _with_agent(name: str, change: Callable[[Agent], Optional[str]]) -> Optional[str]:
    """Apply `change` to the agent called `name`; its result, or None without such an agent."""
    settings = get_settings()
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        with database.sessions() as session:
            agent = session.scalar(select(Agent).where(Agent.name == name).order_by(Agent.id.desc()))
            if agent is None:
                return None
            result = change(agent)
            session.commit()
            return result
    finally:
        database.engine.dispose()


def rotate_token(agent: Agent) -> str:
    """A new token for the agent; the old one stops working at once."""
    token = new_token()
    agent.token_hash = hash_token(token)
    agent.token_issued_at = utcnow()
    agent.revoked_at = None
    return token


def revoke_token(agent: Agent) -> str:
    agent.revoked_at = utcnow()
    return f"revoked the token of {agent.name}"


def list_agents() -> list[str]:
    settings = get_settings()
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    with database.sessions() as session:
        rows = [f"{a.id}\t{a.name}\tissued {a.token_issued_at:%Y-%m-%d}"
                + ("\trevoked" if a.revoked_at else "")
                for a in session.scalars(select(Agent).order_by(Agent.id))]
    database.engine.dispose()
    return rows


def _database_with_outbox(settings: Settings) -> Database:
    """The database, migrated, with the helpdesk outbox written on every change: a helpdesk
    learns of an erasure from here too. No chat or console is told (not this process's);
    the console's Confirm erasure button does that."""
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    events = Events()
    events.attach(database.sessions)
    events.write_with(outbox.writer(settings.webhook_url_list))
    return database


def _counts(record: Erasure) -> str:
    return (f"{record.messages} messages, {record.escalations} escalations, "
            f"{record.outbox_events} helpdesk events, {record.tracker_events} tracker events")


def erase_conversation(target: str) -> tuple[int, str]:
    """Erase a conversation (its id, or the reference of one of its escalations) everywhere.
    Exit 0 when nothing of it is left (erased now, or before: the record says when), 1 when
    nothing was found and no erasure of it is recorded (a mistyped id)."""
    settings = get_settings()
    database = _database_with_outbox(settings)
    tracker = erasure.TrackerStore(settings.tracker_store_url)
    try:
        with database.sessions() as session:
            is_reference = REFERENCE.fullmatch(target) is not None
            conversation_id = (erasure.conversation_of_reference(session, target)
                               if is_reference else None) or target
            record = erasure.erase(session, conversation_id, tracker,
                                   erasure.Requester.OPERATOR, utcnow())
            if record is not None:
                return 0, f"erased conversation {conversation_id}: {_counts(record)}"
            earlier = erasure.erasures_of(session, conversation_id) or (list(session.scalars(
                select(Erasure).where(sa.cast(Erasure.escalation_references, sa.String)
                                      .contains(target.upper())))) if is_reference else [])
            if earlier:
                return 0, (f"nothing left of {target}: erased {earlier[-1].erased_at:%Y-%m-%d %H:%M} "
                           f"UTC ({earlier[-1].requested_by})")
            return 1, (f"nothing to erase: no conversation {target!r} in the service or in "
                       "Rasa's tracker store, and no erasure of it on record")
    finally:
        tracker.close()
        database.engine.dispose()


def purge_now() -> str:
    """One purge until nothing is due: retention and empty conversations (for cron)."""
    settings = get_settings()
    database = _database_with_outbox(settings)
    tracker = erasure.TrackerStore(settings.tracker_store_url)
    try:
        purged = retention.purge_all(database.sessions, tracker, utcnow(),
                                     settings.retention_days, settings.empty_conversation_minutes)
    finally:
        tracker.close()
        database.engine.dispose()
    return (f"erased {purged.erased} conversations without activity for "
            f"{settings.retention_days} days; deleted {purged.empty} empty conversations "
            f"(no customer message within {settings.empty_conversation_minutes} minutes)")


def list_erasures(conversation_id: Optional[str]) -> list[str]:
    """The erasure records, latest first (of one conversation, given its id)."""
    settings = get_settings()
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    query = select(Erasure).order_by(Erasure.id.desc())
    if conversation_id:
        query = query.where(Erasure.conversation_hash == erasure.conversation_hash(conversation_id))
    with database.sessions() as session:
        rows = [f"{e.erased_at:%Y-%m-%d %H:%M}\t{e.requested_by}\t"
                f"{','.join(e.escalation_references) or '-'}\t{_counts(e)}"
                for e in session.scalars(query.limit(1000))]
    database.engine.dispose()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api")
    commands = parser.add_subparsers(dest="command", required=True)
    agents = commands.add_parser("agents", help="manage agents")
    agents_commands = agents.add_subparsers(dest="agents_command", required=True)
    create = agents_commands.add_parser("create", help="create an agent and print its token")
    create.add_argument("name")
    rotate = agents_commands.add_parser("rotate", help="issue a new token; the old one stops")
    rotate.add_argument("name")
    revoke = agents_commands.add_parser("revoke", help="stop the agent's token at once")
    revoke.add_argument("name")
    agents_commands.add_parser("list", help="agents, when their tokens were issued, revoked")
    commands.add_parser("migrate", help="upgrade the database to the newest schema")
    serve = commands.add_parser("serve", help="run the service with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    erase = commands.add_parser(
        "erase", help="erase a conversation everywhere: the service, Rasa's tracker store, "
        "the helpdesk outbox; exit 0 when nothing of it is left, 1 when it is unknown")
    erase.add_argument("conversation", help="its id, or the reference of one of its "
                       "escalations (NH-...)")
    erasures = commands.add_parser("erasures", help="the record of erasures, latest first")
    erasures.add_argument("--conversation", help="only those of this conversation id")
    commands.add_parser("purge", help="erase conversations idle beyond NORDHEM_RETENTION_DAYS "
                        "and delete empty ones (for cron; the service also does it)")
    args = parser.parse_args(argv)

    if args.command == "agents" and args.agents_command == "list":
        print("\n".join(list_agents()))
    elif args.command == "agents":
        name = args.name.strip()
        if not name or len(name) > 100:
            print("agent name must be 1-100 characters", file=sys.stderr)
            return 2
        if args.agents_command == "create":
            print(create_agent(name))
            return 0
        change = rotate_token if args.agents_command == "rotate" else revoke_token
        result = _with_agent(name, change)
        if result is None:
            print(f"no agent called {name!r}", file=sys.stderr)
            return 2
        print(result)
    elif args.command == "migrate":
        upgrade(get_settings().database_url)
        print("database is up to date")
    elif args.command == "erase":
        code, message = erase_conversation(args.conversation.strip())
        print(message, file=sys.stdout if code == 0 else sys.stderr)
        return code
    elif args.command == "erasures":
        print("\n".join(list_erasures(args.conversation)))
    elif args.command == "purge":
        print(purge_now())
    elif args.command == "serve":
        import uvicorn

        from api.access_log import log_config
        from api.routers.ws import MAX_FRAME_BYTES

        uvicorn.run("api.main:create_app", factory=True, host=args.host, port=args.port,
                    log_level="info", log_config=log_config(),
                    # sockets carry only small frames (auth, typing): uvicorn's 16 MiB
                    # default would let one frame stall the event loop while parsed
                    ws_max_size=MAX_FRAME_BYTES,
                    # X-Forwarded-For is believed from these proxies only (FORWARDED_ALLOW_IPS)
                    forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
