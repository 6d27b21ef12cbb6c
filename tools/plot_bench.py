"""Plots p50/p95 latency against the number of conversations from results/bench.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main(source: Path = ROOT / "results" / "bench.json",
         target: Path = ROOT / "docs" / "latency.png") -> None:
    rows = json.loads(source.read_text())["human_paced"]
    figure, axis = plt.subplots(figsize=(7, 4))
    for name, style in (("service", "-o"), ("rasa", "--s")):
        points = sorted((r["clients"], r["p50_ms"], r["p95_ms"]) for r in rows
                        if r["target"] == name)
        clients = [p[0] for p in points]
        axis.plot(clients, [p[2] for p in points], style, label=f"{name} p95")
        axis.plot(clients, [p[1] for p in points], style, alpha=0.4, label=f"{name} p50")
    axis.set_xlabel("simultaneous human-paced conversations")
    axis.set_ylabel("message to reply (ms)")
    axis.set_title("Latency against load (2 cores)")
    axis.grid(True, alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    print(f"plot written to {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main(*(Path(a) for a in sys.argv[1:]))
