"""Keeps one server running: restarts it when it exits unasked, with exponential back-off,
and stops it (and only then) on Ctrl-C, TERM or HUP.

`make run` (scripts/run.sh) runs the action server, Rasa and the escalation service each
under one of these, so a part that crashes is brought back while the others keep running.
Standard library only, so it runs in either virtual environment:

    python tools/supervise.py --name rasa --log .rasa/logs/rasa.log \\
        --events .rasa/logs/supervise.log -- .venv/bin/rasa run ...

The server runs in its own session: Ctrl-C in the terminal reaches the supervisor, which
stops the server with TERM (KILL after `--stop-timeout`), instead of the server dying on
its own and being restarted. What the supervisor does is written to stderr and `--events`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, List, Optional, Sequence

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # Linux prctl(2): a signal for the child when its parent dies


@dataclass(frozen=True)
class Backoff:
    """The wait before a restart: `first`, doubled after each failure in a row, at most `cap`
    seconds. A run that stayed up `stable_after` seconds was healthy: the next crash starts
    the sequence again."""

    first: float = 1.0
    cap: float = 30.0
    stable_after: float = 30.0

    def delay(self, failures: int) -> float:
        return float(min(self.cap, self.first * 2 ** max(0, failures - 1)))

    def failures_after(self, failures: int, uptime: float) -> int:
        """Crashes in a row, counting the one after a run of `uptime` seconds."""
        return 1 if uptime >= self.stable_after else failures + 1


def describe_exit(returncode: Optional[int]) -> str:
    if returncode is None:
        return "could not start"
    if returncode < 0:
        try:
            return f"exited on {signal.Signals(-returncode).name}"
        except ValueError:
            return f"exited on signal {-returncode}"
    return f"exited with code {returncode}"


def _parent_death_signal() -> Optional[Callable[[], None]]:
    """On Linux, a function the child runs before exec so that it gets TERM if the supervisor
    itself is killed with KILL (which it cannot catch); elsewhere None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork, not after
    except (OSError, AttributeError):
        return None
    return lambda: prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    """The child leads its own session: its process group is the server and what it started."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signum)


class Supervisor:
    """Runs `command` until asked to stop, restarting it whenever it exits."""

    def __init__(self, name: str, command: Sequence[str], log: IO[str], events: List[IO[str]],
                 backoff: Optional[Backoff] = None, give_up_after: int = 0, stop_timeout: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.command = list(command)
        self.log = log
        self.events = events
        self.backoff = backoff or Backoff()
        self.give_up_after = give_up_after  # crashes in a row before giving up; 0: never
        self.stop_timeout = stop_timeout
        self.clock = clock
        self.stopping = False
        # one pipe wakes the main loop: signals (set_wakeup_fd) and a child's exit both write it
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._before_exec = _parent_death_signal()

    def say(self, text: str) -> None:
        line = f"{dt.datetime.now().isoformat(timespec='seconds')} supervise {self.name}: {text}\n"
        for stream in self.events:
            stream.write(line)
            stream.flush()

    def _stop_requested(self, signum: int, _frame: object) -> None:
        self.stopping = True  # the byte set_wakeup_fd writes wakes the loop

    def _wait(self, seconds: Optional[float]) -> None:
        """Until something happened (a signal, the child's exit) or `seconds` passed."""
        try:
            readable, _, _ = select.select([self._wake_read], [], [], seconds)
        except InterruptedError:
            return
        if readable:
            os.read(self._wake_read, 512)

    def _sleep(self, seconds: float) -> None:
        deadline = self.clock() + seconds
        while not self.stopping and self.clock() < deadline:
            self._wait(deadline - self.clock())

    def _spawn(self) -> Optional[subprocess.Popen]:
        try:
            child = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=self._before_exec)
        except OSError as error:
            self.say(f"cannot start {self.command[0]}: {error}")
            return None

        def watch() -> None:
            child.wait()
            with contextlib.suppress(OSError):  # a full pipe is awake anyway
                os.write(self._wake_write, b"x")

        threading.Thread(target=watch, daemon=True).start()
        return child

    def _stop(self, child: subprocess.Popen) -> None:
        self.say(f"stopping pid {child.pid}")
        _signal_group(child, signal.SIGTERM)
        try:
            child.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.say(f"pid {child.pid} did not stop in {self.stop_timeout:g} s; killing it")
            _signal_group(child, signal.SIGKILL)
            child.wait()

    def run(self) -> int:
        """0 when stopped by a signal; 1 after giving up on a server that keeps crashing."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._stop_requested)
        signal.set_wakeup_fd(self._wake_write)
        failures = 0
        while not self.stopping:
            started = self.clock()
            child = self._spawn()
            returncode: Optional[int] = None
            if child is not None:
                self.say(f"{'restarted' if failures else 'started'} pid {child.pid}")
                while child.poll() is None and not self.stopping:
                    self._wait(None)
                if self.stopping:
                    self._stop(child)
                    break
                _signal_group(child, signal.SIGKILL)  # anything the crashed server left behind
                returncode = child.returncode
            uptime = self.clock() - started
            failures = self.backoff.failures_after(failures, uptime)
            if self.give_up_after and failures >= self.give_up_after:
                self.say(f"{describe_exit(returncode)} after {uptime:.0f} s; it failed "
                         f"{failures} times in a row, so it is not restarted any more")
                return 1
            delay = self.backoff.delay(failures)
            self.say(f"{describe_exit(returncode)} after {uptime:.0f} s; "
                     f"restarting in {delay:g} s (failure {failures} in a row)")
            self.log.write(f"--- supervise: {describe_exit(returncode)}; restarting in {delay:g} s ---\n")
            self.log.flush()
            self._sleep(delay)
        self.say("stopped")
        return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/supervise.py", description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True, help="what the log lines call the server")
    parser.add_argument("--log", type=Path, help="the server's output (emptied at start); "
                        "default: the supervisor's stdout")
    parser.add_argument("--events", type=Path, help="also append restarts and stops to this file")
    parser.add_argument("--first-delay", type=float, default=1.0, help="seconds before the "
                        "first restart; doubled after each crash in a row")
    parser.add_argument("--max-delay", type=float, default=30.0, help="the longest wait")
    parser.add_argument("--stable-after", type=float, default=30.0, help="a run this long "
                        "resets the back-off")
    parser.add_argument("--give-up-after", type=int, default=0, help="stop restarting after "
                        "this many crashes in a row, none of them a stable run (0: never)")
    parser.add_argument("--stop-timeout", type=float, default=10.0, help="seconds between "
                        "TERM and KILL when stopping")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    if args.log is not None:
        args.log.parent.mkdir(parents=True, exist_ok=True)
        args.log.write_text("")
    log = args.log.open("a", encoding="utf-8") if args.log is not None else sys.stdout
    events: List[IO[str]] = [sys.stderr]
    if args.events is not None:
        events.append(args.events.open("a", encoding="utf-8"))
    backoff = Backoff(args.first_delay, args.max_delay, args.stable_after)
    return Supervisor(args.name, command, log, events, backoff, args.give_up_after,
                      args.stop_timeout).run()


if __name__ == "__main__":
    sys.exit(main())
