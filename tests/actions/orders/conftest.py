"""A seeded demo order store for the order tests, dated relative to a fixed day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import List

import pytest

from actions.orders.demo_store import DemoOrderStore, seed
from actions.orders.port import Order, OrderStatus

TODAY = dt.date(2026, 12, 4)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "orders.db"
    seed(path, TODAY)
    return path


@pytest.fixture
def store(store_path: Path) -> DemoOrderStore:
    return DemoOrderStore(store_path)


@pytest.fixture
def orders(store: DemoOrderStore) -> List[Order]:
    return store.all_orders()


def first(orders: List[Order], status: OrderStatus, country: str = "") -> Order:
    return next(o for o in orders if o.status == status and (not country or o.country == country))
