"""tools/supervise.py and `make run` (scripts/run.sh): a crashed server comes back with
back-off while the others keep running, and Ctrl-C or TERM stops everything."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from tests.support.servers import ROOT, free_port
from tests.support.stack import RATE_LIMITS_OUT_OF_THE_WAY
from tests.support.waiting import wait_for
from tools.supervise import Backoff

SUPERVISE = ROOT / "tools" / "supervise.py"
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def alive(pid: int) -> bool:
    """Running, not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def started_pids(events: Path, name: str) -> List[int]:
    """Every pid the supervisor of `name` started, in order, from its events file."""
    if not events.exists():
        return []
    return [int(pid) for pid in re.findall(rf"supervise {name}: (?:re)?started pid (\d+)",
                                           events.read_text())]


@contextmanager
def supervised(tmp_path: Path, name: str, command: List[str],
               *options: str) -> Iterator[subprocess.Popen]:
    events = tmp_path / "supervise.log"
    supervisor = subprocess.Popen(
        [sys.executable, str(SUPERVISE), "--name", name, "--log", str(tmp_path / f"{name}.log"),
         "--events", str(events), *options, "--", *command],
        stderr=subprocess.DEVNULL)
    try:
        yield supervisor
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()


def test_backoff_doubles_from_the_first_delay_up_to_the_cap() -> None:
    backoff = Backoff(first=1, cap=30, stable_after=30)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_run_that_stayed_up_starts_the_backoff_again() -> None:
    backoff = Backoff(first=1, cap=30, stable_after=30)
    assert backoff.failures_after(4, uptime=29.9) == 5
    assert backoff.failures_after(4, uptime=30) == 1
    assert backoff.delay(backoff.failures_after(4, uptime=120)) == 1


def test_a_killed_server_is_started_again_and_term_stops_it(tmp_path: Path) -> None:
    events = tmp_path / "supervise.log"
    with supervised(tmp_path, "sleeper", SLEEPER, "--first-delay", "0.1") as supervisor:
        [first] = wait_for(lambda: started_pids(events, "sleeper"), what="started")
        os.kill(first, signal.SIGKILL)
        second = wait_for(lambda: started_pids(events, "sleeper")[1:], what="restarted")[0]
        assert second != first and alive(second) and not alive(first)
        assert "exited on SIGKILL" in events.read_text()
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=20) == 0
    assert not alive(second)
    assert started_pids(events, "sleeper") == [first, second]  # not restarted after the stop


def test_ctrl_c_stops_the_server_instead_of_restarting_it(tmp_path: Path) -> None:
    events = tmp_path / "supervise.log"
    with supervised(tmp_path, "sleeper", SLEEPER) as supervisor:
        [pid] = wait_for(lambda: started_pids(events, "sleeper"), what="started")
        supervisor.send_signal(signal.SIGINT)
        assert supervisor.wait(timeout=20) == 0
    assert not alive(pid)
    assert events.read_text().rstrip().endswith("stopped")


def test_a_crash_loop_waits_longer_each_time_and_gives_up(tmp_path: Path) -> None:
    events = tmp_path / "supervise.log"
    crash = [sys.executable, "-c", "print('boom'); raise SystemExit(3)"]
    with supervised(tmp_path, "crashy", crash, "--first-delay", "0.05", "--max-delay", "0.2",
                    "--give-up-after", "5") as supervisor:
        assert supervisor.wait(timeout=30) == 1
    text = events.read_text()
    delays = [float(d) for d in re.findall(r"restarting in ([\d.]+) s", text)]
    assert delays == [0.05, 0.1, 0.2, 0.2]
    assert len(started_pids(events, "crashy")) == 5
    assert "exited with code 3" in text and "not restarted any more" in text
    # the server's own output is kept across restarts, each restart marked
    log = (tmp_path / "crashy.log").read_text()
    assert log.count("boom") == 5 and log.count("--- supervise:") == 4


def test_term_during_the_backoff_stops_at_once(tmp_path: Path) -> None:
    events = tmp_path / "supervise.log"
    crash = [sys.executable, "-c", "raise SystemExit(1)"]
    with supervised(tmp_path, "crashy", crash, "--first-delay", "120",
                    "--max-delay", "120") as supervisor:
        wait_for(lambda: "restarting in 120 s" in events.read_text() if events.exists() else False,
                 what="waiting to restart")
        started = time.monotonic()
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=20) == 0
    assert time.monotonic() - started < 10
    assert len(started_pids(events, "crashy")) == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
def test_a_killed_supervisor_takes_its_server_with_it(tmp_path: Path) -> None:
    events = tmp_path / "supervise.log"
    with supervised(tmp_path, "sleeper", SLEEPER) as supervisor:
        [pid] = wait_for(lambda: started_pids(events, "sleeper"), what="started")
        supervisor.kill()
        supervisor.wait()
        wait_for(lambda: not alive(pid), what="the server stops with its supervisor")


# --- make run, for real -------------------------------------------------------------------

STAGE_LINKS = (".venv", ".venv-api", "models", "bot", "actions", "api", "core", "content",
               "tools")


def health(api: str) -> Optional[Dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"{api}/health", timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


@pytest.mark.server
def test_make_run_restarts_a_killed_server_and_keeps_the_others(tmp_path: Path) -> None:
    """scripts/run.sh in a scratch directory (its own .env, logs and databases): Rasa killed
    with SIGKILL comes back and the service and action server keep their processes; the
    service killed comes back too; TERM stops every process."""
    stage = tmp_path / "stage"
    stage.mkdir()
    for name in STAGE_LINKS:
        (stage / name).symlink_to(ROOT / name)
    rasa_port, actions_port, api_port = free_port(), free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    env = {**os.environ, "NORDHEM_DATABASE_URL": f"sqlite:///{stage / 'var' / 'escalations.db'}",
           "TF_CPP_MIN_LOG_LEVEL": "2", **RATE_LIMITS_OUT_OF_THE_WAY}  # /health is polled
    output = (tmp_path / "run.out").open("w")
    run = subprocess.Popen(["bash", str(ROOT / "scripts" / "run.sh"), str(rasa_port),
                            str(actions_port), str(api_port)], cwd=stage, env=env,
                           stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    events = stage / ".rasa" / "logs" / "supervise.log"
    everything: List[int] = []
    try:
        wait_for(lambda: "Press Ctrl-C to stop." in (tmp_path / "run.out").read_text()
                 or run.poll() is not None, seconds=300, what="make run is ready")
        assert run.poll() is None, (tmp_path / "run.out").read_text()
        assert "Agent console:" in (tmp_path / "run.out").read_text()
        assert health(api) == {"status": "ok", "database": True, "rasa": True,
                               "action_server": True}
        [actions] = started_pids(events, "actions")
        [rasa] = started_pids(events, "rasa")
        [service] = started_pids(events, "api")
        everything += [actions, rasa, service]

        os.kill(rasa, signal.SIGKILL)
        wait_for(lambda: (health(api) or {}).get("rasa") is False, what="health sees Rasa down")
        rasa_again = wait_for(lambda: started_pids(events, "rasa")[1:], what="Rasa restarted")[0]
        everything.append(rasa_again)
        wait_for(lambda: (health(api) or {}).get("status") == "ok", seconds=300,
                 what="Rasa answers again")
        assert started_pids(events, "actions") == [actions] and alive(actions)
        assert started_pids(events, "api") == [service] and alive(service)
        assert run.poll() is None

        os.kill(service, signal.SIGKILL)
        service_again = wait_for(lambda: started_pids(events, "api")[1:], what="service restarted")[0]
        everything.append(service_again)
        wait_for(lambda: (health(api) or {}).get("status") == "ok", seconds=120,
                 what="the service answers again")
        assert started_pids(events, "rasa") == [rasa, rasa_again] and alive(rasa_again)
        assert started_pids(events, "actions") == [actions] and alive(actions)

        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 143
        for pid in everything:
            assert not alive(pid), pid
        assert health(api) is None
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
        for pid in everything:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
