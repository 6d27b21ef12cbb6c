"""`python -m actions.orders seed|list|info`, run as the README says, in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

from actions.orders.demo_store import DemoOrderStore
from actions.orders.port import OrderStatus, order_to_json

REPO = Path(__file__).resolve().parents[3]
LISTED = {"number", "email", "postcode", "country", "status", "carrier", "tracking_number",
          "expected_delivery", "pickup_deadline", "payment_method", "placed_at", "delivery",
          "address", "total", "delivered_on"}


def orders_command(*arguments: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    environment.pop("NORDHEM_ORDERS_URL", None)
    return subprocess.run([sys.executable, "-m", "actions.orders", *arguments], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=60)


def listed(path: Path, *filters: str) -> List[dict]:
    result = orders_command("list", "--db", str(path), *filters)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_seed_then_list_prints_every_order_as_a_json_line(tmp_path: Path) -> None:
    path = tmp_path / "var" / "orders.db"
    result = orders_command("seed", "--db", str(path), "--today", "2026-12-04")
    assert result.returncode == 0, result.stderr
    assert "200" in result.stdout and "2026-12-04" in result.stdout
    lines = listed(path)
    assert [line["number"] for line in lines] == [o.number for o in DemoOrderStore(path).all_orders()]
    assert lines == [order_to_json(o) for o in DemoOrderStore(path).all_orders()]
    assert all(set(line) == LISTED for line in lines)
    shipped = next(line for line in lines if line["status"] == "shipped")
    assert shipped["carrier"] and shipped["tracking_number"] and shipped["expected_delivery"] > "2026-12-04"


def test_list_filters_by_status_and_country(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    orders_command("seed", "--db", str(path), "--today", "2026-12-04")
    received_in_sweden = listed(path, "--status", "received", "--country", "SE")
    assert received_in_sweden
    assert {(line["status"], line["country"]) for line in received_in_sweden} == {("received", "SE")}
    everything = listed(path)
    assert len(received_in_sweden) == sum(1 for line in everything
                                          if (line["status"], line["country"]) == ("received", "SE"))


def test_seed_keeps_an_existing_store_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    orders_command("seed", "--db", str(path), "--today", "2026-12-04")
    number = listed(path, "--status", "received")[0]["number"]
    asyncio.run(DemoOrderStore(path).cancel(number))

    kept = orders_command("seed", "--db", str(path), "--today", "2027-02-01")
    assert kept.returncode == 0 and "kept" in kept.stdout
    assert next(line for line in listed(path) if line["number"] == number)["status"] == "cancelled"

    forced = orders_command("seed", "--db", str(path), "--today", "2027-02-01", "--force")
    assert forced.returncode == 0, forced.stderr
    again = next(line for line in listed(path) if line["number"] == number)
    assert again["status"] == OrderStatus.RECEIVED.value and again["placed_at"] >= "2027-01-31"


def test_the_environment_names_the_default_store(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.db"
    env = {"NORDHEM_ORDERS_DB": str(path)}
    assert orders_command("seed", "--today", "2026-12-04", env=env).returncode == 0
    assert path.exists()
    info = orders_command("info", env=env)
    assert str(path) in info.stdout and "200 orders" in info.stdout
    assert len(orders_command("list", env=env).stdout.splitlines()) == 200


def test_listing_a_missing_store_or_a_bad_date_fails_clearly(tmp_path: Path) -> None:
    missing = orders_command("list", "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 1 and "python -m actions.orders seed" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    bad = orders_command("seed", "--db", str(tmp_path / "o.db"), "--today", "4.12.2026")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
