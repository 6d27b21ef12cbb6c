"""`make bench-scale`: the scaled mode (tools/scaled.py) measured in one run on this machine.

For each layout (Rasa servers x service processes: 1x1, then 2x2), started fresh on
PostgreSQL and Redis behind HAProxy, through the front:

1. closed-loop saturation: clients doubled until p95 passes 300 ms; the best msg/s within;
2. p95 at 200 human-paced conversations (a message, then an exponential pause of 5 s);
3. on 2x2 only: the cost of message k of one conversation against k (tools/bench_tracker.py),
   and killing one Rasa server, then one service process, under load: messages lost and
   duplicated (tools/scale_load.py), both to be 0.

Writes results/bench_scale.json; tools/plot_bench_scale.py draws docs/scale.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.stack import RATE_LIMITS_OUT_OF_THE_WAY
from tools.bench import ClientPool, ServiceTarget, run_load, saturation, settle
from tools.scale_load import audit, run_customers
from tools.scaled import Layout, ScaledStack, drop_databases, sqlalchemy_url

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"


def layout_for(rasa: int, api: int) -> Layout:
    name = f"nordhem_bench_{secrets.token_hex(3)}"
    return Layout(rasa=rasa, api=api, front_port=8700, first_rasa_port=5705,
                  first_actions_port=5755, first_api_port=8701, service_database=name,
                  tracker_database=f"{name}_trackers", fresh=True, name=name,
                  service_env=RATE_LIMITS_OUT_OF_THE_WAY)


async def throughput(front: str, seconds: float, human_clients: int) -> dict[str, Any]:
    async with ClientPool() as http:
        target = ServiceTarget(http, front)
        await run_load(target, 4, 5, pause=False, seed=0)  # warm up: models, pools, caches
        await settle(target)
        closed = await saturation(target, seconds / 3)
        print(f"    saturation: {closed['sustained_rate']} msg/s", flush=True)
        await settle(target)
        human = await run_load(target, human_clients, seconds, pause=True, seed=human_clients)
        print(f"    human-paced N={human_clients}: {human}", flush=True)
    return {"saturation": closed, "human_paced": human}


def kill_under_load(stack: ScaledStack, victim: str, conversations: int) -> dict[str, Any]:
    async def scenario() -> Any:
        load = asyncio.create_task(run_customers(stack.front_url, conversations, messages=8,
                                                 think_seconds=1.0, give_up_seconds=60))
        await asyncio.sleep(3)
        stack.processes[victim].kill()
        return await load
    load = asyncio.run(scenario())
    result = audit(stack.database_url, load, sqlalchemy_url(stack.layout.tracker_database))
    answered = [s.answer_ms for s in load.answered if s.answer_ms is not None]
    stack.restart(victim)
    return {"victim": victim, "conversations": conversations, "sent": result.sent,
            "lost": result.lost, "duplicated": result.duplicated,
            "tracker_duplicates": result.tracker_duplicates, "bot_silent": result.bot_silent,
            "retried": sum(s.attempts > 1 for s in load.sent),
            "slowest_answer_ms": round(max(answered, default=0), 1)}


def length_curve(stack: ScaledStack, conversations: int, length: int) -> dict[str, Any]:
    """Per-message cost against the message's place in its conversation, at Rasa."""
    from tools.bench_tracker import length_curve as curve
    points = curve(stack.rasa_urls[0], conversations=conversations, length=length)
    return {str(index): round(ms, 1) for index, ms in sorted(points.items())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=45, help="per load phase")
    parser.add_argument("--layouts", default="1x1,2x2", help="RASAxAPI, in order")
    parser.add_argument("--human", type=int, default=200, help="human-paced conversations")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"layouts": {}}
    for layout_name in args.layouts.split(","):
        rasa, api = (int(n) for n in layout_name.split("x"))
        layout = layout_for(rasa, api)
        stack = ScaledStack(layout, Path(tempfile.mkdtemp(prefix=f"bench-scale-{layout_name}-")))
        print(f"==> {rasa} Rasa x {api} service processes", flush=True)
        started = time.perf_counter()
        stack.start()
        try:
            row = {"start_to_ready_s": round(time.perf_counter() - started, 1),
                   **asyncio.run(throughput(stack.front_url, args.seconds, args.human))}
            if rasa >= 2 and api >= 2:
                row["length_curve_ms"] = length_curve(stack, conversations=5, length=60)
                print(f"    message-length curve: {row['length_curve_ms']}", flush=True)
                row["kills"] = [kill_under_load(stack, victim, conversations=40)
                                for victim in ("rasa-0", "api-0")]
                print(f"    kills: {row['kills']}", flush=True)
            results["layouts"][layout_name] = row
        finally:
            stack.stop()
            drop_databases(layout)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_scale.json").write_text(json.dumps(results, indent=2))
    print_table(results)
    return 0


def print_table(results: dict[str, Any]) -> None:
    print("\n| Rasa x service | closed loop msg/s (p95 <= 300 ms) | p95 ms at 200 "
          "human-paced | msg/s there | errors |")
    print("|---|---|---|---|---|")
    layouts = results["layouts"]
    for name, row in layouts.items():
        human = row["human_paced"]
        print(f"| {name} | {row['saturation']['sustained_rate']} | {human['p95_ms']} | "
              f"{human['rate']} | {human['errors']} |")
    if "1x1" in layouts and "2x2" in layouts:
        one, two = (layouts[n]["saturation"]["sustained_rate"] for n in ("1x1", "2x2"))
        print(f"\n2x2 / 1x1 closed loop: {two / max(one, 1e-9):.2f}")
    for name, row in layouts.items():
        for kill in row.get("kills", []):
            print(f"Killed {kill['victim']} under load ({name}): {kill}")
        if "length_curve_ms" in row:
            curve = row["length_curve_ms"]
            print(f"Message-length curve ({name}): {curve}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
