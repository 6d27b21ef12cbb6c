"""Which order system the environment chooses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from actions.orders.demo_store import DEFAULT_PATH, REPO_ROOT, DemoOrderStore, default_path
from actions.orders.factory import describe_order_system, order_system_from_env
from actions.orders.http_adapter import HttpOrderSystem

TOKEN = "s3cret-shop-token"


def test_without_a_shop_api_the_demo_store_is_seeded_where_configured(tmp_path: Path) -> None:
    path = tmp_path / "var" / "orders.db"
    system = order_system_from_env({"NORDHEM_ORDERS_DB": str(path)}, today=dt.date(2026, 12, 4))
    assert isinstance(system, DemoOrderStore) and system.path == path
    assert len(system.all_orders()) == 200 and system.seeded_for() == "2026-12-04"
    # a second start keeps the store (and what customers changed in it)
    again = order_system_from_env({"NORDHEM_ORDERS_DB": str(path)}, today=dt.date(2027, 1, 1))
    assert isinstance(again, DemoOrderStore) and again.seeded_for() == "2026-12-04"


def test_the_default_store_is_var_orders_db_in_the_repository() -> None:
    assert default_path({}) == DEFAULT_PATH == REPO_ROOT / "var" / "orders.db"
    assert (REPO_ROOT / "actions" / "orders" / "port.py").exists()


def test_a_shop_url_and_token_choose_the_http_adapter() -> None:
    system = order_system_from_env({"NORDHEM_ORDERS_URL": "https://shop.example/api/ ",
                                    "NORDHEM_ORDERS_TOKEN": TOKEN})
    assert isinstance(system, HttpOrderSystem) and system.base_url == "https://shop.example/api"
    assert TOKEN not in repr(system)
    line = describe_order_system({"NORDHEM_ORDERS_URL": "https://shop.example/api",
                                  "NORDHEM_ORDERS_TOKEN": TOKEN})
    assert "https://shop.example/api" in line and TOKEN not in line


def test_a_shop_url_without_a_token_is_refused_not_answered_from_the_demo_store(tmp_path: Path) -> None:
    env = {"NORDHEM_ORDERS_URL": "https://shop.example/api", "NORDHEM_ORDERS_DB": str(tmp_path / "o.db")}
    with pytest.raises(ValueError, match="NORDHEM_ORDERS_TOKEN"):
        order_system_from_env(env)
    assert not (tmp_path / "o.db").exists()
    assert "MISSING" in describe_order_system(env)
