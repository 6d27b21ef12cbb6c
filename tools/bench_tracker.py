"""What a message costs against the length of its conversation, per tracker store.

Starts (or is given, `--rasa-url`) the real Rasa server and action server with one tracker
store at a time (SQLite, PostgreSQL, Redis), drives K conversations of L customer messages
each through Rasa's REST channel one message at a time (low load), and records how long
each message index took. The messages are taken from the training data (data/nlu/): FAQ
questions, small talk and order questions with an order number, in nb, da and sv.

    PYTHONPATH=. .venv/bin/python -m tools.bench_tracker [--stores sqlite,postgres,redis]
        [--conversations 5] [--length 60] [--rasa-url http://127.0.0.1:5105]

Writes results/bench_tracker.json: per store the median ms at message 1, 10, ..., 60 and
the ratio of the last five messages to the first five (medians over all conversations).
`length_curve` is the part the scale benchmark calls against a running Rasa.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
LANGUAGES = ("nb", "da", "sv")
# intents a customer asks while the bot keeps the conversation (no hand-off, no goodbye)
FAQ_INTENTS = (
    "delivery_time", "shipping_cost", "opening_hours", "contact_info", "payment_methods",
    "return_policy", "refund_status", "exchange_item", "gift_card", "discount_code",
    "invoice_question", "pickup_point", "product_availability", "account_help",
)
SMALL_TALK_INTENTS = ("greet", "thank", "affirm", "bot_challenge", "out_of_scope")
ORDER_INTENT, ORDER_NUMBER_INTENT = "track_order", "inform_order_number"
REPORTED_INDICES = (1, 10, 20, 30, 40, 50, 60)
WINDOW = 5
POSTGRES_DB = "nordhem_bench_tracker"
SQL_STORE = "bot.tracker_store.TunedSQLTrackerStore"
ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")

Examples = Dict[str, Dict[str, List[str]]]  # language -> intent -> texts


def load_examples(data: Path = ROOT / "data" / "nlu") -> Examples:
    """Training examples per language and intent, entity annotations removed."""
    examples: Examples = {}
    for language in LANGUAGES:
        by_intent: Dict[str, List[str]] = {}
        for path in sorted((data / language).glob("*.yml")):
            for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
                if "intent" not in item:
                    continue
                texts = [ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", line[2:]).strip()
                         for line in str(item.get("examples", "")).splitlines()
                         if line.startswith("- ")]
                by_intent.setdefault(item["intent"], []).extend(t for t in texts if t)
        examples[language] = by_intent
    return examples


def conversation_script(examples: Examples, seed: int, length: int) -> List[str]:
    """`length` customer messages of one conversation in one language, seeded.

    About 60% FAQ questions, 20% small talk and 20% order questions (a tracking question,
    then an order number), so the first and last messages of a conversation are alike."""
    rng = random.Random(seed)
    language = LANGUAGES[seed % len(LANGUAGES)]
    by_intent = examples[language]
    messages = [rng.choice(by_intent["greet"])]
    while len(messages) < length:
        draw = rng.random()
        if draw < 0.6:
            messages.append(rng.choice(by_intent[rng.choice(FAQ_INTENTS)]))
        elif draw < 0.8:
            messages.append(rng.choice(by_intent[rng.choice(SMALL_TALK_INTENTS)]))
        else:
            messages.append(rng.choice(by_intent[ORDER_INTENT]))
            messages.append(str(rng.randint(10_000_000, 99_999_999)))
    return messages[:length]


class RestClient:
    """One keep-alive HTTP connection to Rasa's REST channel."""

    def __init__(self, rasa_url: str, timeout: float = 60) -> None:
        parsed = urllib.parse.urlsplit(rasa_url)
        self._connection = http.client.HTTPConnection(parsed.hostname or "127.0.0.1",
                                                      parsed.port or 80, timeout=timeout)

    def say(self, sender: str, text: str) -> Tuple[float, list]:
        """The reply and how long it took, in ms."""
        body = json.dumps({"sender": sender, "message": text})
        started = time.perf_counter()
        self._connection.request("POST", "/webhooks/rest/webhook", body,
                                 {"Content-Type": "application/json"})
        response = self._connection.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"Rasa answered {response.status}: {payload[:300]!r}")
        return elapsed, json.loads(payload)

    def close(self) -> None:
        self._connection.close()


def run_conversations(rasa_url: str, conversations: int, length: int,
                      seed: int = 0) -> Dict[int, List[float]]:
    """Latencies (ms) of every message index (1-based) over `conversations` sequential
    conversations of `length` messages."""
    examples = load_examples()
    latencies: Dict[int, List[float]] = {index: [] for index in range(1, length + 1)}
    client = RestClient(rasa_url)
    try:
        for number in range(conversations):
            sender = f"bench-tracker-{uuid.uuid4().hex[:12]}"
            for index, text in enumerate(conversation_script(examples, seed + number, length), 1):
                elapsed, _ = client.say(sender, text)
                latencies[index].append(elapsed)
    finally:
        client.close()
    return latencies


def length_curve(rasa_url: str, conversations: int, length: int) -> Dict[int, float]:
    """Median ms per message index (1-based) of sequential conversations against a
    running Rasa server."""
    raw = run_conversations(rasa_url, conversations, length)
    return {index: statistics.median(values) for index, values in raw.items()}


def summarise(raw: Dict[int, List[float]]) -> Dict[str, object]:
    """Medians at the reported indices, and the last five messages against the first five."""
    length = max(raw)
    first = [ms for index in range(1, min(WINDOW, length) + 1) for ms in raw[index]]
    last = [ms for index in range(max(1, length - WINDOW + 1), length + 1) for ms in raw[index]]
    first_ms, last_ms = statistics.median(first), statistics.median(last)
    return {
        "median_ms": {str(index): round(statistics.median(raw[index]), 1)
                      for index in REPORTED_INDICES if index in raw},
        f"first_{WINDOW}_median_ms": round(first_ms, 1),
        f"last_{WINDOW}_median_ms": round(last_ms, 1),
        "ratio_last_to_first": round(last_ms / first_ms, 2),
        "curve_ms": {str(index): round(statistics.median(values), 1)
                     for index, values in raw.items()},
    }


# --- the servers ---

def tracker_store_section(store: str, workdir: Path, prefix: str,
                          sql_type: str = SQL_STORE) -> str:
    """The tracker_store section of the endpoints for `store`."""
    if store == "sqlite":
        return (f"tracker_store:\n  type: {sql_type}\n"
                f"  dialect: sqlite\n  db: \"{workdir / 'trackers.db'}\"\n")
    if store == "postgres":
        return (f"tracker_store:\n  type: {sql_type}\n"
                "  dialect: postgresql\n  url: 127.0.0.1\n  port: 5432\n"
                f"  db: {POSTGRES_DB}\n  login_db: test\n  username: postgres\n")
    if store == "redis":
        return ("tracker_store:\n  type: redis\n  url: 127.0.0.1\n  port: 6379\n  db: 0\n"
                f"  key_prefix: {prefix}\n")
    raise ValueError(f"unknown tracker store {store!r}")


def reset_postgres() -> None:
    """A fresh benchmark database, so every run starts from empty tables."""
    import psycopg2  # the bot environment's driver (Rasa's)

    connection = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DB}")
    connection.close()


def forget_redis(prefix: str) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=0)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)


@contextlib.contextmanager
def serving(store: str, workdir: Path, rasa_port: int, actions_port: int,
            sql_type: str = SQL_STORE) -> Iterator[str]:
    """Rasa (with `store`) and the action server on the given ports; Rasa's URL.
    `sql_type` is the SQL store's class (another one, e.g. an older version to compare,
    can come from a directory in the caller's PYTHONPATH)."""
    from tests.support.servers import (
        _wait_until_up,
        actions_command,
        bot_env,
        rasa_command,
    )

    prefix = f"benchtracker{uuid.uuid4().hex[:8]}"  # Rasa takes alphanumeric prefixes only
    if store == "postgres":
        reset_postgres()
    endpoints = workdir / f"endpoints-{store}.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
                         + tracker_store_section(store, workdir, prefix, sql_type))
    env = bot_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    actions_log, rasa_log = workdir / f"actions-{store}.log", workdir / f"rasa-{store}.log"
    actions = subprocess.Popen(
        actions_command(actions_port), cwd=ROOT,
        env={**env, "ESCALATION_URL": "http://127.0.0.1:9",
             "NORDHEM_ORDERS_DB": str(workdir / "orders.db")},
        stdout=actions_log.open("w"), stderr=subprocess.STDOUT)
    rasa = subprocess.Popen(rasa_command(rasa_port, uuid.uuid4().hex, endpoints), cwd=ROOT,
                            env=env, stdout=rasa_log.open("w"), stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{rasa_port}"
        _wait_until_up(f"http://127.0.0.1:{actions_port}/health", actions, actions_log)
        _wait_until_up(f"{url}/", rasa, rasa_log)
        yield url
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        if store == "redis":
            forget_redis(prefix)


def measure(rasa_url: str, conversations: int, length: int, warmup: int) -> Dict[str, object]:
    if warmup:
        run_conversations(rasa_url, 1, warmup, seed=10_000)  # first requests load lazily
    return summarise(run_conversations(rasa_url, conversations, length))


def report_line(store: str, result: Dict[str, object]) -> str:
    medians = result["median_ms"]
    assert isinstance(medians, dict)
    points = " ".join(f"{index}:{ms}" for index, ms in medians.items())
    return (f"{store:9} {points}  first {WINDOW} {result[f'first_{WINDOW}_median_ms']} ms, "
            f"last {WINDOW} {result[f'last_{WINDOW}_median_ms']} ms, "
            f"ratio {result['ratio_last_to_first']}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres,redis")
    parser.add_argument("--conversations", type=int, default=5)
    parser.add_argument("--length", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5, help="messages before measuring")
    parser.add_argument("--rasa-url", help="measure this running Rasa instead of starting one")
    parser.add_argument("--rasa-port", type=int, default=5105)
    parser.add_argument("--actions-port", type=int, default=5155)
    parser.add_argument("--sql-store", default=SQL_STORE, help="the SQL tracker store's class")
    parser.add_argument("--label", default="", help="kept in the results, e.g. before/after")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_tracker.json")
    args = parser.parse_args(argv)

    results: Dict[str, object] = {}
    if args.rasa_url:
        results["given"] = measure(args.rasa_url, args.conversations, args.length, args.warmup)
        print(report_line("given", results["given"]), flush=True)  # type: ignore[arg-type]
    else:
        with tempfile.TemporaryDirectory(prefix="bench-tracker-") as directory:
            for store in args.stores.split(","):
                with serving(store, Path(directory), args.rasa_port, args.actions_port,
                             args.sql_store) as url:
                    result = measure(url, args.conversations, args.length, args.warmup)
                results[store] = result
                print(report_line(store, result), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d %H:%M"), "label": args.label,
        "conversations": args.conversations, "length": args.length, "stores": results,
    }, indent=2) + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
