"""The demo order store from the command line.

    python -m actions.orders seed [--db PATH] [--today YYYY-MM-DD] [--force]
    python -m actions.orders list [--db PATH] [--status STATUS] [--country NO|DK|SE]
    python -m actions.orders info

`seed` creates the store (about 200 orders dated relative to --today, by default today) and
keeps an existing one unless --force. `list` prints every order as one JSON object per line,
with the fields of `actions.orders.port.Order` (dates ISO). `info` says which order system the
action server would use. PATH defaults to NORDHEM_ORDERS_DB, else var/orders.db.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import List, Optional

from actions.orders.demo_store import DemoOrderStore, default_path, seed
from actions.orders.factory import describe_order_system
from actions.orders.port import COUNTRIES, OrderStatus, order_to_json


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m actions.orders",
                                     description="The demo order store.")
    commands = parser.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed", help="create the demo store (kept if it exists)")
    seeding.add_argument("--db", type=Path, help="the store's file (default: NORDHEM_ORDERS_DB "
                                                 "or var/orders.db)")
    seeding.add_argument("--today", type=_day, default=None,
                         help="the day the orders' dates are relative to (default: today)")
    seeding.add_argument("--force", action="store_true", help="replace an existing store")
    listing = commands.add_parser("list", help="print the demo orders as JSON lines")
    listing.add_argument("--db", type=Path, help="the store's file")
    listing.add_argument("--status", choices=[status.value for status in OrderStatus])
    listing.add_argument("--country", choices=COUNTRIES)
    commands.add_parser("info", help="which order system the action server would use")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    arguments = _parser().parse_args(argv)
    if arguments.command == "info":
        print(describe_order_system())
        return 0
    path: Path = arguments.db or default_path()
    if arguments.command == "seed":
        if path.exists() and not arguments.force:
            print(f"kept the order store {path} (dates from {DemoOrderStore(path).seeded_for()}; "
                  "--force replaces it)")
            return 0
        today = arguments.today or dt.date.today()
        count = seed(path, today)
        print(f"seeded {count} demo orders into {path} (dates relative to {today.isoformat()})")
        return 0
    if not path.exists():
        print(f"no order store at {path}: python -m actions.orders seed", file=sys.stderr)
        return 1
    try:
        for order in DemoOrderStore(path).all_orders():
            if arguments.status in (None, order.status.value) and arguments.country in (None, order.country):
                print(json.dumps(order_to_json(order), ensure_ascii=False))
        sys.stdout.flush()
    except BrokenPipeError:  # `... list | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
