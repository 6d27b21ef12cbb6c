"""make audit: a finding is accepted only for the exact package version the list names."""

from __future__ import annotations

from tools.audit import ROOT, accepted, verdicts


def test_the_accepted_list_names_versions_pinned_in_the_locks() -> None:
    pins = {lock: (ROOT / "requirements" / lock).read_text().lower().splitlines()
            for lock in ("bot.lock", "api.lock")}
    for lock, package, version in accepted():
        assert f"{package}=={version}" in pins[lock], package


def test_a_finding_is_accepted_only_at_the_listed_version() -> None:
    allowed = {("bot.lock", "aiohttp", "3.9.5")}
    found = [("aiohttp", "3.9.5", "GHSA-1"), ("aiohttp", "3.9.6", "GHSA-2"),
             ("protobuf", "4.23.3", "GHSA-3")]
    assert [ok for ok, _ in verdicts("bot.lock", found, allowed)] == [True, False, False]
    assert [ok for ok, _ in verdicts("api.lock", found, allowed)] == [False, False, False]
