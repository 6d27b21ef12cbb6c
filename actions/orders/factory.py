"""Which order system the action server talks to, from the environment.

NORDHEM_ORDERS_URL and NORDHEM_ORDERS_TOKEN: the shop's own REST API (`HttpOrderSystem`).
Neither: the embedded demo store at NORDHEM_ORDERS_DB or var/orders.db, seeded with today's
date when it is missing. A URL without a token is refused rather than quietly answered from
the demo store: customers of a real shop must never be told about made-up orders.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Mapping, Optional

from actions.orders.demo_store import DemoOrderStore, default_path, ensure_seeded
from actions.orders.http_adapter import HttpOrderSystem
from actions.orders.port import OrderSystem

URL_VARIABLE = "NORDHEM_ORDERS_URL"
TOKEN_VARIABLE = "NORDHEM_ORDERS_TOKEN"


def order_system_from_env(environ: Mapping[str, str] = os.environ,
                          today: Optional[dt.date] = None) -> OrderSystem:
    """The shop's API when NORDHEM_ORDERS_URL is set, else the demo store (seeded if missing)."""
    url = (environ.get(URL_VARIABLE) or "").strip()
    if url:
        token = (environ.get(TOKEN_VARIABLE) or "").strip()
        if not token:
            raise ValueError(f"{URL_VARIABLE} is set but {TOKEN_VARIABLE} is not: "
                             "the shop's order API needs its bearer token")
        return HttpOrderSystem(url, token)
    path = default_path(environ)
    ensure_seeded(path, today)
    return DemoOrderStore(path)


def describe_order_system(environ: Mapping[str, str] = os.environ) -> str:
    """One line for the start-up output: which order system, and where (never the token)."""
    url = (environ.get(URL_VARIABLE) or "").strip()
    if url:
        token = "set" if (environ.get(TOKEN_VARIABLE) or "").strip() else f"MISSING ({TOKEN_VARIABLE})"
        return f"order system: the shop's API at {url.rstrip('/')} (token {token})"
    path = default_path(environ)
    if not path.exists():
        return f"order system: demo store {path} (not seeded yet: python -m actions.orders seed)"
    store = DemoOrderStore(path)
    return (f"order system: demo store {path}, {len(store.all_orders())} orders dated from "
            f"{store.seeded_for()} (python -m actions.orders list)")
