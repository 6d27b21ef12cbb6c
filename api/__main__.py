"""Command line: `python -m api agents create|list|set|deactivate|activate|rotate|revoke`,
`python -m api migrate`, `python -m api serve`, and for privacy
`python -m api erase|erasures|purge`."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import Database
from api.events import Events
from api.migrate import upgrade
from api.models import (
    CONSOLE_LANGUAGES,
    DEFAULT_CONVERSATIONS,
    MAX_CONVERSATIONS,
    MIN_CONVERSATIONS,
    Agent,
    Erasure,
    utcnow,
)
from api.schemas import AgentChange, agent_name, time_zone
from api.services import agents, erasure, outbox, retention
from api.services.agents import AgentError
from api.settings import Settings, get_settings
from core.languages import LANGUAGES

REFERENCE = re.compile(r"NH-[A-Z0-9]{6}", re.IGNORECASE)


@contextmanager
def _session() -> Iterator[Session]:
    """A session on the migrated database of the settings, closed and disposed after."""
    settings = get_settings()
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        with database.sessions() as session:
            yield session
    finally:
        database.engine.dispose()


def _languages(text: str) -> list[str]:
    """argparse type of --languages: 'nb,da' (a clear message and exit 2 otherwise)."""
    try:
        return agents.parse_languages(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _capacity(text: str) -> int:
    """argparse type of --capacity: how many conversations at once."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not MIN_CONVERSATIONS <= value <= MAX_CONVERSATIONS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of conversations from {MIN_CONVERSATIONS} to "
            f"{MAX_CONVERSATIONS}")
    return value


def _time_zone(text: str) -> str:
    """argparse type of --time-zone: an IANA name such as Europe/Stockholm."""
    try:
        return time_zone(text.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def list_agents(session: Session) -> list[str]:
    """A header, then a line per agent, active ones first."""
    stored_agents = {a.id: a for a in session.scalars(select(Agent))}
    rows = ["id\tname\tlanguages\topen/max\tpresence\tstate\tadmin\ttoken\tconsole\ttime zone"]
    for agent in agents.profiles(session):
        stored = stored_agents[agent.id]
        token = f"issued {stored.token_issued_at:%Y-%m-%d}" if stored.token_issued_at else "-"
        rows.append("\t".join([
            str(agent.id), agent.name, ",".join(agent.languages),
            f"{agent.open_conversations}/{agent.max_conversations}", agent.presence.value,
            "active" if agent.active else "deactivated", "admin" if agent.is_admin else "-",
            token + (", revoked" if stored.revoked_at else ""), agent.console_language,
            agent.time_zone]))
    return rows


def agents_command(args: argparse.Namespace) -> int:
    """`python -m api agents ...`: 0 done; 2 bad input or no such agent; 1 refused as things
    stand (a name an active agent has, an agent holding open conversations)."""
    with _session() as session:
        if args.agents_command == "list":
            print("\n".join(list_agents(session)))
            return 0
        try:
            name = agent_name(args.name)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 2
        try:
            if args.agents_command == "create":
                _, token = agents.create(session, name, args.languages or list(LANGUAGES),
                                         args.capacity or DEFAULT_CONVERSATIONS, args.admin)
                print(token)
                return 0
            agent = agents.by_name(session, name)
            if agent is None:
                print(f"no agent called {name!r}", file=sys.stderr)
                return 2
            print(_change_agent(session, agent, args))
        except AgentError as error:
            print(error.detail, file=sys.stderr)
            return 1
    return 0


def _change_agent(session: Session, agent: Agent, args: argparse.Namespace) -> str:
    """Rotate, revoke, set, deactivate or activate; what to print."""
    command = args.agents_command
    if command == "rotate":
        token = agents.rotate_token(agent)
        session.commit()
        return token
    if command == "revoke":
        agents.revoke_token(agent)
        session.commit()
        return f"revoked the token of {agent.name}"
    if command == "set":
        agents.change(session, agent, AgentChange(
            languages=args.languages, max_conversations=args.capacity, is_admin=args.admin,
            console_language=args.console_language, time_zone=args.time_zone))
    else:
        agents.change(session, agent, AgentChange(active=command == "activate"))
    header, *rows = list_agents(session)
    return "\n".join([header, *(row for row in rows if row.split("\t", 1)[0] == str(agent.id))])


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


def workers_refused(workers: int, settings: Settings) -> str:
    """Why `serve --workers N` would be unsound with these settings; empty when it is not.
    Processes share state only through PostgreSQL and Redis: on SQLite each would run the
    outbox (webhooks sent twice), live events would stay in the process that caused them and
    rate limits would count per process."""
    if workers <= 1:
        return ""
    missing = [name for name, ok in (
        ("NORDHEM_DATABASE_URL=postgresql+psycopg://...",
         settings.database_url.startswith("postgresql")),
        ("NORDHEM_BUS_URL=redis://...", bool(settings.bus_url)),
        ("NORDHEM_RATE_LIMIT_STORAGE=redis://...",
         settings.rate_limit_storage.startswith(("redis://", "rediss://")))) if not ok]
    if not missing:
        return ""
    return (f"--workers {workers} needs state the processes share: set "
            f"{', '.join(missing)} (README, Scaled mode)")


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
    agents_parser = commands.add_parser("agents", help="manage agents")
    agents_commands = agents_parser.add_subparsers(dest="agents_command", required=True)
    create = agents_commands.add_parser("create", help="create an agent and print its token")
    create.add_argument("name")
    set_agent = agents_commands.add_parser(
        "set", help="change an agent's languages, capacity, admin right, console language or "
        "time zone")
    set_agent.add_argument("name")
    set_agent.add_argument("--console-language", choices=CONSOLE_LANGUAGES,
                           help="the language they read the console and summaries in "
                           "(default: the first of nb, da, sv they serve, else en)")
    set_agent.add_argument("--time-zone", type=_time_zone, help="the IANA time zone the "
                           "console shows times in, e.g. Europe/Stockholm (default Europe/Oslo)")
    for command in (create, set_agent):
        command.add_argument("--languages", type=_languages, help="the languages they serve, "
                             "e.g. nb,da (nb, da, sv, en; default for a new agent: nb,da,sv)")
        command.add_argument("--capacity", type=_capacity, help="how many conversations they "
                             f"hold at once ({MIN_CONVERSATIONS}-{MAX_CONVERSATIONS}; default "
                             f"for a new agent: {DEFAULT_CONVERSATIONS})")
    create.add_argument("--admin", action="store_true", help="may manage agents over the API")
    set_agent.add_argument("--admin", action=argparse.BooleanOptionalAction, default=None,
                           help="give (--admin) or take away (--no-admin) the admin right")
    for word, text in (("deactivate", "the agent can no longer sign in (kept for history; "
                                      "refused while they hold open conversations)"),
                       ("activate", "a deactivated agent can sign in again"),
                       ("rotate", "issue a new token; the old one stops"),
                       ("revoke", "stop the agent's token at once")):
        agents_commands.add_parser(word, help=text).add_argument("name")
    agents_commands.add_parser("list", help="agents: languages, open and maximum conversations, "
                               "presence, active, admin, when their tokens were issued, revoked")
    commands.add_parser("migrate", help="upgrade the database to the newest schema")
    serve = commands.add_parser("serve", help="run the service with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="service processes sharing the "
                       "port (make run-scaled): they need PostgreSQL (NORDHEM_DATABASE_URL) and "
                       "Redis (NORDHEM_BUS_URL, NORDHEM_RATE_LIMIT_STORAGE) to share their state")
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

    if args.command == "agents" and args.agents_command == "set" and all(
            getattr(args, option) is None for option in (
                "languages", "capacity", "admin", "console_language", "time_zone")):
        parser.error("agents set: give --languages, --capacity or --admin/--no-admin, or "
                     "--console-language or --time-zone")
    if args.command == "agents":
        return agents_command(args)
    if args.command == "migrate":
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

        refusal = workers_refused(args.workers, get_settings())
        if refusal:
            print(refusal, file=sys.stderr)
            return 2
        uvicorn.run("api.main:create_app", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level="info", log_config=log_config(),
                    # sockets carry only small frames (auth, typing): uvicorn's 16 MiB
                    # default would let one frame stall the event loop while parsed
                    ws_max_size=MAX_FRAME_BYTES,
                    # X-Forwarded-For is believed from these proxies only (FORWARDED_ALLOW_IPS)
                    forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
