"""Database engine and sessions (SQLAlchemy 2): SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# What SQLAlchemy raises when the database cannot be reached or dropped the connection (a
# restart, a failover): the request is answered 503 with Retry-After (api/main.py), not 500.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
DATABASE_RETRY_SECONDS = 5
# a database that does not answer at all fails the request after this long instead of hanging it
CONNECT_TIMEOUT_SECONDS = 5


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # with WAL, NORMAL is safe against corruption and survives a process crash;
            # only an OS crash can lose the last transactions. It saves an fsync per commit.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # every pooled connection is checked before use: after a restart of the database the
    # dead ones are replaced, and the first request afterwards works
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session


def release_connection(session: Session) -> None:
    """End the session's read so that its pooled connection goes back now, not when the
    request ends. A request must not hold a connection while it waits (for a thread, a slot
    at Rasa, Rasa itself): under overload the waiting requests held every connection and the
    ones that could finish could not get one. Loaded objects stay usable (expire_on_commit
    is off)."""
    session.commit()
