"""API tests run against a real database: a SQLite file and a PostgreSQL database.
The helpers (settings, agents, signed hooks) are in tests/support/api.py."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.support.api import add_agent, make_settings
from tests.support.browser import browser  # noqa: F401 - the browser tests' fixture
from tests.support.tracker_store import create_tracker_store

POSTGRES_ADMIN = os.environ.get("NORDHEM_TEST_POSTGRES",
                                "host=127.0.0.1 port=5432 dbname=test user=postgres")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'escalations.db'}"
        return
    name = f"nordhem_test_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    params = dict(p.split("=", 1) for p in POSTGRES_ADMIN.split())
    yield (f"postgresql+psycopg://{params['user']}@{params['host']}:{params['port']}/{name}")
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def agent_token(client: TestClient, settings: Settings) -> str:
    return add_agent(settings, "Kari")


@pytest.fixture
def tracker_db(tmp_path: Path) -> Path:
    """An empty Rasa tracker store (its `events` table), for erasures and retention."""
    path = tmp_path / "trackers.db"
    create_tracker_store(path)
    return path
