"""Runs the Alembic migrations of api/migrations against a database URL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from api.db import make_engine
from api.services.job_lock import lock_key

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema."""
    engine = make_engine(url)  # creates the SQLite file's folder if needed
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # several service processes start at once (make run-scaled, replicas): one
            # migrates, the others wait for it and then find nothing to do
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": lock_key("migrations")})
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()
