"""Command line: `python -m api agents create|rotate|revoke|list`, `python -m api migrate`,
`python -m api serve`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Optional

from sqlalchemy import select

from api.db import Database
from api.migrate import upgrade
from api.models import Agent, utcnow
from api.security import hash_token, new_token
from api.settings import get_settings


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
    elif args.command == "serve":
        import uvicorn

        uvicorn.run("api.main:create_app", factory=True, host=args.host, port=args.port,
                    log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
