"""Demo orders from a running stack's order store, picked as held-out evaluations pick them:
through the documented listing command (`python -m actions.orders list`)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.support.servers import ROOT, VENV_BIN


def demo_orders(workdir: Path, country: str, status: str = "shipped") -> list[dict]:
    """The demo orders of `country` in `status` from the stack's own order store (the action
    server's NORDHEM_ORDERS_DB), through the documented listing command."""
    store = workdir / "orders.db"
    command = [str(VENV_BIN / "python"), "-m", "actions.orders"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([*command, "seed", "--db", str(store)], check=True, env=env, cwd=ROOT,
                   capture_output=True)  # keeps the store if the action server made it
    listed = subprocess.run([*command, "list", "--db", str(store), "--status", status,
                             "--country", country], check=True, env=env, cwd=ROOT,
                            capture_output=True, text=True).stdout
    return [json.loads(line) for line in listed.splitlines() if line.strip()]


def demo_order(workdir: Path, country: str, status: str = "shipped") -> dict:
    """The first of `demo_orders`."""
    return demo_orders(workdir, country, status)[0]
