"""The embedded demo order store: Nordhem's made-up orders in a SQLite file.

The default order system when no shop API is configured (`var/orders.db`, or the path in
NORDHEM_ORDERS_DB). `make run` seeds it once with about 200 orders dated relative to that day
(`python -m actions.orders seed`); `python -m actions.orders list` prints them as JSON lines.
Each call opens its own connection in a worker thread, so the action server's event loop never
waits on the disk and concurrent calls never share a connection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
from dataclasses import fields
from pathlib import Path
from typing import Any, Callable, Iterable, List, Mapping, Optional, Tuple, TypeVar

from actions.orders.demo_orders import DEFAULT_SEED, generate_orders
from actions.orders.port import (
    CHANGEABLE,
    NotChangeable,
    Order,
    OrderSystemUnavailable,
    UnknownOrder,
    contact_matches,
    normalise_order_number,
    order_from_json,
    order_to_json,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATH = REPO_ROOT / "var" / "orders.db"
PATH_VARIABLE = "NORDHEM_ORDERS_DB"
COLUMNS = tuple(field.name for field in fields(Order))
SCHEMA = f"""
CREATE TABLE orders ({", ".join(f"{name} TEXT" for name in COLUMNS)}, PRIMARY KEY (number));
CREATE INDEX orders_by_status ON orders (status);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_CHANGEABLE = tuple(sorted(status.value for status in CHANGEABLE))
_ONLY_CHANGEABLE = f"status IN ({', '.join('?' for _ in _CHANGEABLE)})"

R = TypeVar("R")


def default_path(environ: Mapping[str, str] = os.environ) -> Path:
    """NORDHEM_ORDERS_DB, else var/orders.db under the repository root."""
    return Path(environ[PATH_VARIABLE]) if environ.get(PATH_VARIABLE) else DEFAULT_PATH


def seed(path: Path, today: dt.date, count: int = 200, seed: int = DEFAULT_SEED) -> int:
    """Create the store at `path` with `count` orders dated relative to `today`, replacing any
    store there; the number of orders written.

    Written to a temporary file that then takes the store's name, so that a half-written store
    is never seen and a running action server goes on reading the old one until it is replaced.
    """
    orders = generate_orders(today, count=count, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    connection = sqlite3.connect(partial)
    try:
        with connection:
            connection.executescript(SCHEMA)
            connection.executemany(
                f"INSERT INTO orders ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})",
                (_row(order) for order in orders))
            connection.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                                   [("seeded_for", today.isoformat()), ("seed", str(seed))])
    finally:
        connection.close()
    os.replace(partial, path)
    return len(orders)


def ensure_seeded(path: Path, today: Optional[dt.date] = None) -> bool:
    """Seed the store when there is none at `path` (today's date by default); whether it did."""
    if path.exists():
        return False
    seed(path, today or dt.date.today())
    return True


def _row(order: Order) -> Tuple[Any, ...]:
    data = order_to_json(order)
    return tuple(data[name] for name in COLUMNS)


def _order(row: sqlite3.Row) -> Order:
    return order_from_json(dict(zip(COLUMNS, row, strict=True)))


class DemoOrderStore:
    """`OrderSystem` on the demo SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"DemoOrderStore({str(self.path)!r})"

    def _connect(self) -> sqlite3.Connection:
        # mode=rw: a missing store is an error, never a new empty file
        return sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=rw", uri=True, timeout=5.0)

    async def _run(self, work: Callable[[sqlite3.Connection], R]) -> R:
        def in_thread() -> R:
            try:
                connection = self._connect()
            except sqlite3.Error as error:
                raise OrderSystemUnavailable(f"demo order store {self.path}: {error}") from error
            try:
                return work(connection)
            except sqlite3.Error as error:
                raise OrderSystemUnavailable(f"demo order store {self.path}: {error}") from error
            finally:
                connection.close()

        return await asyncio.to_thread(in_thread)

    @staticmethod
    def _select(connection: sqlite3.Connection, number: str) -> Optional[Order]:
        row = connection.execute(f"SELECT {', '.join(COLUMNS)} FROM orders WHERE number = ?",
                                 (number,)).fetchone()
        return _order(row) if row else None

    async def find(self, number: str) -> Optional[Order]:
        normalised = normalise_order_number(number)
        if normalised is None:
            return None
        return await self._run(lambda connection: self._select(connection, normalised))

    async def verify(self, number: str, email_or_postcode: str) -> Optional[Order]:
        order = await self.find(number)
        return order if order is not None and contact_matches(order, email_or_postcode) else None

    async def cancel(self, number: str) -> Order:
        return await self._change(number, "status = ?", ("cancelled",))

    async def change_delivery(self, number: str, *, address: Optional[str] = None,
                              pickup_point: Optional[str] = None) -> Order:
        delivery, place = _new_delivery(address, pickup_point)
        return await self._change(number, "delivery = ?, address = ?", (delivery, place))

    async def _change(self, number: str, assignments: str, values: Iterable[str]) -> Order:
        """One conditional UPDATE: of two concurrent changes only one finds the order changeable."""
        normalised = normalise_order_number(number)
        if normalised is None:
            raise UnknownOrder(number)

        def work(connection: sqlite3.Connection) -> Tuple[bool, Optional[Order]]:
            with connection:
                changed = connection.execute(
                    f"UPDATE orders SET {assignments} WHERE number = ? AND {_ONLY_CHANGEABLE}",
                    (*values, normalised, *_CHANGEABLE)).rowcount == 1
            return changed, self._select(connection, normalised)

        changed, order = await self._run(work)
        if order is None:
            raise UnknownOrder(normalised)
        if not changed:
            raise NotChangeable(order)
        return order

    def all_orders(self) -> List[Order]:
        """Every order, by number (for the listing command; blocking)."""
        connection = self._connect()
        try:
            rows = connection.execute(f"SELECT {', '.join(COLUMNS)} FROM orders ORDER BY number").fetchall()
        finally:
            connection.close()
        return [_order(row) for row in rows]

    def seeded_for(self) -> Optional[str]:
        """The day the store's dates are relative to (blocking)."""
        connection = self._connect()
        try:
            row = connection.execute("SELECT value FROM meta WHERE key = 'seeded_for'").fetchone()
        finally:
            connection.close()
        return row[0] if row else None

    async def close(self) -> None:
        """Nothing to release: every call opens and closes its own connection."""


def _new_delivery(address: Optional[str], pickup_point: Optional[str]) -> Tuple[str, str]:
    """("home", address) or ("pickup_point", pickup point); exactly one of them must be given."""
    address, pickup_point = (address or "").strip(), (pickup_point or "").strip()
    if bool(address) == bool(pickup_point):
        raise ValueError("give either a new address or a new pickup point")
    return ("home", address) if address else ("pickup_point", pickup_point)
