"""`make audit`: pip-audit over both lock files, against the OSV vulnerability database.

A finding fails the run unless `requirements/audit-accepted.yml` accepts that package at that
exact version, with the reason. When OSV cannot be reached (this build machine has no
internet), the run says so plainly and does not pretend to have audited anything;
AUDIT_STRICT=1 turns that into a failure."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ("bot.lock", "api.lock")
OSV_HOST = "api.osv.dev"


def osv_reachable() -> bool:
    try:
        with socket.create_connection((OSV_HOST, 443), timeout=5):
            return True
    except OSError:
        return False


def accepted() -> set[tuple[str, str, str]]:
    entries = yaml.safe_load((ROOT / "requirements" / "audit-accepted.yml").read_text()) or []
    return {(entry["lock"], entry["package"].lower(), str(entry["version"])) for entry in entries}


def findings(lock: str) -> list[tuple[str, str, str]]:
    """(package, version, vulnerability id) for every known vulnerability in `lock`."""
    result = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--vulnerability-service", "osv", "--no-deps",
         "--disable-pip", "--format", "json", "-r", str(ROOT / "requirements" / lock)],
        capture_output=True, text=True, check=False)
    if not result.stdout.strip():
        raise SystemExit(f"pip-audit failed on {lock}:\n{result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    return [(dependency["name"].lower(), dependency["version"], vulnerability["id"])
            for dependency in report.get("dependencies", [])
            for vulnerability in dependency.get("vulns", [])]


def verdicts(lock: str, found: list[tuple[str, str, str]],
             allowed: set[tuple[str, str, str]]) -> list[tuple[bool, str]]:
    """(accepted?, line to print) per finding: accepted only for the exact version listed."""
    return [((lock, package, version) in allowed,
             f"{package} {version} {vulnerability} ({lock})")
            for package, version, vulnerability in found]


def main() -> int:
    if not osv_reachable():
        print(f"audit: NOT AUDITED - {OSV_HOST} cannot be reached from this machine "
              "(no internet). Run `make audit` where it can be.")
        return 1 if os.environ.get("AUDIT_STRICT") == "1" else 0
    allowed, failed = accepted(), False
    for lock in LOCKS:
        for ok, line in verdicts(lock, findings(lock), allowed):
            print(f"audit: {'accepted' if ok else 'VULNERABLE'} {line}")
            failed = failed or not ok
    print("audit: failed" if failed else "audit: no unaccepted vulnerabilities")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
