"""`make bench`: the whole path under load, through the service and straight to Rasa.

Starts the real Rasa server, action server and escalation service (tests/stack.py) and
measures, side by side in one run so that machine noise cancels out:

1. latency of a customer message to the bot's reply under human-paced load: N
   conversations, each sending a message and pausing (exponential, 5 s on average), for
   N = 1, 50, 200, 500, through the service and directly against Rasa's REST channel;
2. saturation: closed-loop clients, doubled until p95 passes 300 ms: messages per second;
3. hand-off: "I want a person" to the escalation on the agent WebSocket, and an agent's
   reply to the customer's WebSocket;
3b. order status: "where is my order?", the order number, then the e-mail, one conversation
   at a time, on real demo orders of the stack's SQLite order store. The e-mail's message
   verifies and looks the order up; the number's message runs the same action without a
   lookup, so the difference of their p50s is what the lookup adds;
4. resident memory of each process idle and under load;
5. start time of the three servers with a trained model, full and NLU-only training time.

One asyncio process with pooled connections generates the load; its own CPU time is
reported. Results go to results/bench.json (and a plot, made with the bot's matplotlib).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
FAQ_MESSAGES = [
    ("nb", "hva koster frakten?"), ("nb", "hvor lang tid tar leveringen"),
    ("nb", "kan jeg betale med vipps"), ("nb", "hvordan returnerer jeg en jakke"),
    ("da", "hvornår har i åbent?"), ("da", "kan jeg betale med mobilepay"),
    ("da", "hvad koster fragten"), ("da", "hvordan bytter jeg en vare"),
    ("sv", "vad kostar frakten?"), ("sv", "kan jag betala med swish"),
    ("sv", "hur lång tid tar leveransen"), ("sv", "hur returnerar jag skorna"),
]
MEAN_PAUSE_SECONDS = 5.0
# a closed-loop client starts a new conversation after this many messages, as customers
# do; one endless conversation would measure Rasa replaying an ever longer tracker
MESSAGES_PER_CONVERSATION = 8
P95_LIMIT = 0.300


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)  # answered messages
    errors: int = 0
    # a message refused at once (503 busy, 429): how long the refusal took; also an error
    refusals: list[float] = field(default_factory=list)
    # what the errors were: an HTTP status, or the exception's name
    error_kinds: Counter[str] = field(default_factory=Counter)

    def failed(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] += 1

    def summary(self, seconds: float) -> dict[str, Any]:
        answered_or_refused = self.latencies + self.refusals
        return {"messages": len(self.latencies), "errors": self.errors,
                "refused": len(self.refusals), "error_kinds": dict(self.error_kinds),
                "max_answer_or_refusal_ms": round(max(answered_or_refused, default=0) * 1000, 1),
                "rate": round(len(self.latencies) / seconds, 1),
                "p50_ms": round(percentile(self.latencies, 0.50) * 1000, 1),
                "p95_ms": round(percentile(self.latencies, 0.95) * 1000, 1),
                "p99_ms": round(percentile(self.latencies, 0.99) * 1000, 1)}


class ClientPool:
    """One small HTTP client per customer (per asyncio task), closed when the customer is
    done. httpcore looks at every connection of its pool on each request: one client holding
    500 connections, or 20 holding 25 each, cost the load generator a whole core at 500
    conversations, so that the latencies measured were its own queue (py-spy,
    docs/benchmarks.md)."""

    def __init__(self, timeout: float = 30) -> None:
        self.timeout = timeout
        self._limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
        self._by_task: dict[asyncio.Task[Any], httpx.AsyncClient] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def _client(self) -> httpx.AsyncClient:
        task = asyncio.current_task()
        assert task is not None
        client = self._by_task.get(task)
        if client is None:
            client = self._by_task[task] = httpx.AsyncClient(timeout=self.timeout,
                                                             limits=self._limits)
            task.add_done_callback(self._customer_done)
        return client

    def _customer_done(self, task: asyncio.Task[Any]) -> None:
        client = self._by_task.pop(task, None)
        if client is not None:
            closing = asyncio.ensure_future(client.aclose())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    async def post(self, url: str, **request: Any) -> httpx.Response:
        return await self._client().post(url, **request)

    async def get(self, url: str, **request: Any) -> httpx.Response:
        return await self._client().get(url, **request)

    async def __aenter__(self) -> "ClientPool":
        return self

    async def __aexit__(self, *_: object) -> None:
        for client in list(self._by_task.values()):
            await client.aclose()
        self._by_task.clear()
        if self._closing:
            await asyncio.gather(*self._closing)


class ServiceTarget:
    """A customer talking through the escalation service."""

    name = "service"

    def __init__(self, http: Any, base: str) -> None:
        self.http, self.base = http, base

    async def start(self, language: str) -> tuple[str, dict[str, str]]:
        response = await self.http.post(f"{self.base}/api/conversations",
                                        json={"language": language})
        body = response.json()
        return body["conversation_id"], {"Authorization": f"Bearer {body['customer_token']}"}

    async def send(self, conversation: tuple[str, dict[str, str]], text: str) -> str:
        """The bot's reply, its messages joined."""
        conversation_id, headers = conversation
        response = await self.http.post(f"{self.base}/api/conversations/{conversation_id}/messages",
                                        json={"text": text}, headers=headers)
        response.raise_for_status()
        messages = [m for m in response.json()["messages"] if m["sender"] == "bot"]
        if not messages:  # nothing, or the service's "the bot is not answering" notice
            raise RuntimeError("no reply from the bot")
        return " ".join(message["text"] for message in messages)


class RasaTarget:
    """A customer talking straight to Rasa's REST channel."""

    name = "rasa"

    def __init__(self, http: Any, base: str) -> None:
        self.http, self.base = http, base

    async def start(self, language: str) -> tuple[str, str]:
        return f"bench-{uuid.uuid4().hex[:12]}", language

    async def send(self, conversation: tuple[str, str], text: str) -> None:
        sender, language = conversation
        response = await self.http.post(f"{self.base}/webhooks/rest/webhook", json={
            "sender": sender, "message": text, "metadata": {"language": language}})
        response.raise_for_status()
        if not response.json():
            raise RuntimeError("no reply")


async def human(target: Any, stop_at: float, sample: Sample, rng: random.Random,
                pause: bool = True) -> None:
    """One customer: a message, a pause of exponentially distributed length, again."""
    language, _ = rng.choice(FAQ_MESSAGES)
    if pause:
        await asyncio.sleep(rng.uniform(0, MEAN_PAUSE_SECONDS))
    try:
        conversation = await target.start(language)
    except (httpx.HTTPError, KeyError, ValueError) as error:
        sample.failed(f"start: {type(error).__name__}")
        return
    sent = 0
    while time.monotonic() < stop_at:
        if not pause and sent and sent % MESSAGES_PER_CONVERSATION == 0:
            try:
                conversation = await target.start(language)
            except (httpx.HTTPError, KeyError, ValueError) as error:
                sample.failed(f"start: {type(error).__name__}")
                await asyncio.sleep(0.1)
                continue
        sent += 1
        text = rng.choice([t for lang, t in FAQ_MESSAGES if lang == language])
        started = time.perf_counter()
        try:
            await target.send(conversation, text)
            sample.latencies.append(time.perf_counter() - started)
        except httpx.HTTPStatusError as refused:
            sample.failed(str(refused.response.status_code))
            if refused.response.status_code in (429, 503):
                sample.refusals.append(time.perf_counter() - started)
        except (httpx.HTTPError, RuntimeError, KeyError, ValueError) as error:
            sample.failed(type(error).__name__)
        if pause:  # but never past the end of the phase
            remaining = stop_at - time.monotonic()
            await asyncio.sleep(max(0.0, min(rng.expovariate(1 / MEAN_PAUSE_SECONDS), remaining)))


async def run_load(target: Any, clients: int, seconds: float, pause: bool,
                   seed: int) -> dict[str, Any]:
    sample = Sample()
    rng = random.Random(seed)
    started = time.monotonic()
    stop_at = started + seconds
    await asyncio.gather(*(human(target, stop_at, sample, random.Random(rng.random()), pause)
                           for _ in range(clients)))
    return {"clients": clients, **sample.summary(time.monotonic() - started)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def memory(stack: Any) -> dict[str, float]:
    pids = {"rasa": stack.bot.pids["rasa"], "actions": stack.bot.pids["actions"],
            "service": stack.api_pid}
    return {name: rss_mb(pid) for name, pid in pids.items()}


async def authenticate(socket: Any, token: str) -> None:
    """The token in the first frame; events flow once the service says "ready"."""
    await socket.send(json.dumps({"type": "auth", "token": token}))
    reply = json.loads(await socket.recv())
    if reply != {"type": "ready"}:
        raise RuntimeError(f"expected the service's ready, got {reply}")


async def handoff_timings(api: str, agent_token: str, runs: int) -> dict[str, Any]:
    """Bot reply to agent WebSocket, and agent reply to customer WebSocket, in ms."""
    to_agent, to_customer = [], []
    ws = api.replace("http", "ws")
    async with httpx.AsyncClient(timeout=30) as http, \
            connect(f"{ws}/ws/agents") as agents:
        await authenticate(agents, agent_token)
        for _ in range(runs):
            started = (await http.post(f"{api}/api/conversations", json={"language": "nb"})).json()
            conversation = started["conversation_id"]
            customer = {"Authorization": f"Bearer {started['customer_token']}"}
            async with connect(f"{ws}/ws/conversations/{conversation}") as customer_socket:
                await authenticate(customer_socket, started["customer_token"])
                await http.post(f"{api}/api/conversations/{conversation}/messages",
                                json={"text": "jeg vil snakke med et menneske"}, headers=customer)
                replied = time.perf_counter()
                escalation_id = None
                while escalation_id is None:  # the event may have come before the reply
                    event = json.loads(await agents.recv())
                    if event["type"] == "escalation.created" and \
                            event["escalation"]["conversation_id"] == conversation:
                        escalation_id = event["escalation"]["id"]
                        to_agent.append(max(0.0, time.perf_counter() - replied))
                agent = {"Authorization": f"Bearer {agent_token}"}
                await http.post(f"{api}/api/escalations/{escalation_id}/claim", headers=agent)
                sent = time.perf_counter()
                await http.post(f"{api}/api/escalations/{escalation_id}/messages",
                                json={"text": "Hei!"}, headers=agent)
                while True:
                    event = json.loads(await customer_socket.recv())
                    if event["type"] == "message" and event["message"]["sender"] == "agent":
                        to_customer.append(time.perf_counter() - sent)
                        break
                await http.post(f"{api}/api/escalations/{escalation_id}/resolve",
                                json={"return_to_bot": False}, headers=agent)
    return {"runs": runs,
            "escalation_visible_after_reply_p50_ms": round(statistics.median(to_agent) * 1000, 1),
            "escalation_visible_after_reply_max_ms": round(max(to_agent) * 1000, 1),
            "agent_reply_to_customer_p50_ms": round(statistics.median(to_customer) * 1000, 1),
            "agent_reply_to_customer_max_ms": round(max(to_customer) * 1000, 1)}


WHERE_IS_MY_ORDER = {"nb": "hei, hvor er pakken min?", "da": "hej, hvor er min pakke?",
                     "sv": "hej, var är mitt paket?"}


async def order_status_timings(api: str, orders: list[dict[str, Any]], runs: int) -> dict[str, Any]:
    """Per-message latency of the order-status conversation (N=1), in ms; `orders` are demo
    orders with their `language`. A reply without the tracking number counts as an error."""
    timings: dict[str, list[float]] = {"question": [], "order_number": [], "verified_lookup": []}
    errors = 0
    async with httpx.AsyncClient(timeout=30) as http:
        for run in range(runs):
            order = orders[run % len(orders)]
            target = ServiceTarget(http, api)
            conversation = await target.start(order["language"])
            texts = {"question": WHERE_IS_MY_ORDER[order["language"]],
                     "order_number": order["number"], "verified_lookup": order["email"]}
            for step, text in texts.items():
                started = time.perf_counter()
                reply = await target.send(conversation, text)
                timings[step].append(time.perf_counter() - started)
            errors += order["tracking_number"] not in reply
    p50 = {step: round(statistics.median(values) * 1000, 1) for step, values in timings.items()}
    return {"runs": runs, "errors": errors, "p50_ms": p50,
            "p95_ms": {step: round(percentile(values, 0.95) * 1000, 1)
                       for step, values in timings.items()},
            "lookup_adds_p50_ms": round(p50["verified_lookup"] - p50["order_number"], 1)}


def bench_orders(workdir: Path) -> list[dict[str, Any]]:
    """Shipped demo orders of each country from the stack's store, with the language to ask in."""
    from tests.support.orders import demo_orders
    countries = {"nb": "NO", "da": "DK", "sv": "SE"}
    return [{**order, "language": language} for language, country in countries.items()
            for order in demo_orders(workdir, country, "shipped")[:5]]


async def saturation(target: Any, seconds: float) -> dict[str, Any]:
    """Closed-loop clients doubled until p95 passes 300 ms; the best rate within the limit
    (at any level, not only the last one under it)."""
    levels, best = [], None
    clients = 1
    while clients <= 256:
        result = await run_load(target, clients, seconds, pause=False, seed=clients)
        levels.append(result)
        if result["p95_ms"] > P95_LIMIT * 1000:
            break
        if best is None or result["rate"] > best["rate"]:
            best = result
        clients *= 2
    return {"levels": levels, "sustained_rate": best["rate"] if best else 0.0,
            "clients_at_best": best["clients"] if best else 0}


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return round(time.perf_counter() - started, 1)


def training_times() -> dict[str, float]:
    out = tempfile.mkdtemp(prefix="bench-train-")
    rasa = str(ROOT / ".venv" / "bin" / "rasa")
    base = ["--config", "bot/config.yml", "--domain", "build/domain", "--out", out]
    return {"full_train_s": timed([rasa, "train", *base, "--data", "data", "--force"]),
            "nlu_train_s": timed([rasa, "train", "nlu", "--config", "bot/config.yml",
                                  "--nlu", "data/nlu", "--out", out])}


async def settle(target: Any, limit_seconds: float = 90) -> None:
    """Wait until an overload's backlog has drained: a message answered within 100 ms."""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            conversation = await target.start("nb")
            await target.send(conversation, "hva koster frakten?")
            if time.perf_counter() - started < 0.1:
                return
        except (httpx.HTTPError, RuntimeError, KeyError, ValueError):
            pass
        await asyncio.sleep(1)


async def measure(stack: Any, agent_token: str, seconds: float, levels: list[int]) -> dict:
    results: dict[str, Any] = {"memory_idle_mb": memory(stack)}
    async with ClientPool() as http:
        targets = [ServiceTarget(http, stack.api), RasaTarget(http, stack.bot.rasa_url)]
        for target in targets:  # warm up: first requests load models, pools and caches
            await run_load(target, 4, 5, pause=False, seed=0)
        # saturation first: the overloaded human-paced levels leave a backlog behind
        results["saturation"] = {}
        for target in targets:
            await settle(target)
            results["saturation"][target.name] = await saturation(target, seconds / 3)
            print(f"  saturation {target.name}: "
                  f"{results['saturation'][target.name]['sustained_rate']} msg/s", flush=True)
        human_paced = []
        for clients in levels:
            for target in targets:  # same N, one after the other, in the same run
                await settle(target)
                row = await run_load(target, clients, seconds, pause=True, seed=clients)
                row["target"] = target.name
                if clients == max(levels) and target.name == "service":
                    results["memory_under_load_mb"] = memory(stack)
                human_paced.append(row)
                print(f"  human-paced {target.name:7s} N={clients:3d}: {row}", flush=True)
        results["human_paced"] = human_paced
        await settle(targets[0])
    results["handoff"] = await handoff_timings(stack.api, agent_token, runs=10)
    results["order_status"] = await order_status_timings(stack.api, bench_orders(stack.workdir),
                                                         runs=30)
    return results


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    from tests.support.api import add_agent, make_settings
    from tests.support.stack import running_stack

    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30, help="per load level and target")
    parser.add_argument("--levels", default="1,50,200,500")
    parser.add_argument("--only", choices=["orders"],
                        help="only the order-status conversation (about a minute)")
    args = parser.parse_args(argv)
    if args.only == "orders":
        return orders_only()
    levels = [int(n) for n in args.levels.split(",")]
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    wall_start = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    started = time.perf_counter()
    with running_stack(workdir) as stack:
        ready_s = round(time.perf_counter() - started, 1)
        token = add_agent(make_settings(stack.database_url), "Bench")
        results = asyncio.run(measure(stack, token, args.seconds, levels))
    results["start_to_ready_s"] = ready_s
    results.update(training_times())
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    results["load_generator_cpu_share"] = round(cpu / (time.monotonic() - wall_start), 3)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench.json").write_text(json.dumps(results, indent=2))
    print_table(results)
    return 0


def orders_only() -> int:
    """`--only orders`: the stack, warmed up, and the order-status timings alone."""
    from tests.support.stack import running_stack

    with running_stack(Path(tempfile.mkdtemp(prefix="bench-orders-"))) as stack:
        async def run() -> dict[str, Any]:
            async with httpx.AsyncClient(timeout=30) as http:
                await run_load(ServiceTarget(http, stack.api), 2, 5, pause=False, seed=0)
            return await order_status_timings(stack.api, bench_orders(stack.workdir), runs=30)
        timings = asyncio.run(run())
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_orders.json").write_text(json.dumps(timings, indent=2))
    print(f"Order status (N=1): {timings}")
    return 0


def print_table(results: dict[str, Any]) -> None:
    rows = results["human_paced"]
    print("\n| N conversations | target | msg/s | p50 ms | p95 ms | p99 ms | errors | refused "
          "| slowest answer or refusal ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['clients']} | {row['target']} | {row['rate']} | {row['p50_ms']} | "
              f"{row['p95_ms']} | {row['p99_ms']} | {row['errors']} | {row['refused']} | "
              f"{row['max_answer_or_refusal_ms']} |")
    print("\n| N | service / Rasa at p95 |")
    print("|---|---|")
    by = {(r["clients"], r["target"]): r for r in rows}
    for clients in sorted({r["clients"] for r in rows}):
        ratio = by[(clients, "service")]["p95_ms"] / by[(clients, "rasa")]["p95_ms"]
        print(f"| {clients} | {ratio:.2f} |")
    sat = results["saturation"]
    print(f"\nSaturation (closed loop, p95 <= 300 ms): service {sat['service']['sustained_rate']} "
          f"msg/s, Rasa {sat['rasa']['sustained_rate']} msg/s "
          f"({sat['service']['sustained_rate'] / max(sat['rasa']['sustained_rate'], 1e-9):.0%})")
    print(f"Hand-off: {results['handoff']}")
    print(f"Order status (N=1): {results['order_status']}")
    print(f"Memory idle (MB): {results['memory_idle_mb']}; under load: "
          f"{results.get('memory_under_load_mb')}")
    print(f"Start to ready: {results['start_to_ready_s']} s; full training "
          f"{results['full_train_s']} s; NLU-only {results['nlu_train_s']} s")
    print(f"Load generator CPU: {results['load_generator_cpu_share']:.0%} of one core")


if __name__ == "__main__":
    sys.exit(main())
