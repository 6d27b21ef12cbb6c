"""The demo agent of `make run` and `make run-scaled`: created once, with the token kept in
.env (NORDHEM_DEMO_AGENT_TOKEN); it serves nb, da and sv and may manage agents."""

from __future__ import annotations

import os
import sys

from api.db import Database
from api.models import Agent
from api.security import hash_token
from api.settings import get_settings


def ensure_demo_agent(database_url: str, token: str) -> bool:
    """Create the demo agent with `token` unless an agent has it; True when created."""
    database = Database(database_url)
    try:
        with database.sessions() as session:
            if session.query(Agent).filter_by(token_hash=hash_token(token)).first():
                return False
            session.add(Agent(name="Demo agent", token_hash=hash_token(token), is_admin=True))
            session.commit()
            return True
    finally:
        database.engine.dispose()


if __name__ == "__main__":
    ensure_demo_agent(get_settings().database_url, os.environ["NORDHEM_DEMO_AGENT_TOKEN"])
    sys.exit(0)
