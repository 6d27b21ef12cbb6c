"""The waits customers are told come true: a simulated morning (tools/wait_simulation.py:
seeded Poisson arrivals per language, seeded agents with capacities of 1-3 and exponential
handling times, agents coming and going) runs on the service's own functions, a SQLite
database and an injected clock, and compares every wait told with the wait that came.
The issue's target is a median absolute percentage error of 30% or less."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.wait_simulation import Claiming, simulate


@pytest.mark.parametrize("claiming", ["auto", "manual"])
def test_the_waits_told_come_true_within_the_target(tmp_path: Path, claiming: Claiming) -> None:
    result = simulate(f"sqlite:///{tmp_path / 'simulation.db'}", claiming=claiming)
    measured = result.accuracy()
    queued = [customer for customer in result.customers if customer.place is not None]
    # almost every waiting customer is told a wait: only the first few of the morning,
    # before anyone has been served, hear that there is no basis yet
    assert measured.told >= 0.9 * len(queued)
    assert measured.mape is not None and measured.mape <= 0.30
    # the range is about one standard deviation either side: most real waits fall in it
    assert measured.coverage is not None and measured.coverage >= 0.6
