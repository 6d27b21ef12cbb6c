"""Command line: `python -m api agents create NAME`, `python -m api migrate`, `python -m api serve`."""

from __future__ import annotations

import argparse
import sys

from api.db import Database
from api.migrate import upgrade
from api.models import Agent
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api")
    commands = parser.add_subparsers(dest="command", required=True)
    agents = commands.add_parser("agents", help="manage agents")
    agents_commands = agents.add_subparsers(dest="agents_command", required=True)
    create = agents_commands.add_parser("create", help="create an agent and print its token")
    create.add_argument("name")
    commands.add_parser("migrate", help="upgrade the database to the newest schema")
    serve = commands.add_parser("serve", help="run the service with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    if args.command == "agents":
        name = args.name.strip()
        if not name or len(name) > 100:
            print("agent name must be 1-100 characters", file=sys.stderr)
            return 2
        print(create_agent(name))
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
