"""Plots results/bench_scale.json: throughput per layout and the message-length curve."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main(source: Path = ROOT / "results" / "bench_scale.json",
         target: Path = ROOT / "docs" / "scale.png") -> None:
    layouts = json.loads(source.read_text())["layouts"]
    figure, (rates, curve) = plt.subplots(1, 2, figsize=(10, 4))
    names = list(layouts)
    rates.bar(names, [layouts[n]["saturation"]["sustained_rate"] for n in names])
    rates.set_xlabel("Rasa servers x service processes")
    rates.set_ylabel("closed-loop msg/s at p95 <= 300 ms")
    rates.set_title("Throughput through the front (2 cores)")
    for name in names:
        points = layouts[name].get("length_curve_ms")
        if points:
            indexes = sorted(int(i) for i in points)
            curve.plot(indexes, [points[str(i)] for i in indexes], "-", label=name)
    curve.set_xlabel("message number in the conversation")
    curve.set_ylabel("median ms at Rasa")
    curve.set_title("Cost of a message against conversation length")
    curve.grid(True, alpha=0.3)
    curve.legend()
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    print(f"plot written to {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main(*(Path(a) for a in sys.argv[1:]))
