"""`python -m api serve --workers N`: only with the state the processes can share."""

from __future__ import annotations

from api.__main__ import workers_refused
from api.settings import Settings


def test_several_service_processes_need_postgresql_and_redis() -> None:
    alone = Settings(database_url="sqlite:///x.db")
    assert workers_refused(1, alone) == ""
    refusal = workers_refused(2, alone)
    assert "NORDHEM_DATABASE_URL" in refusal and "NORDHEM_BUS_URL" in refusal
    shared = Settings(database_url="postgresql+psycopg://u@h/db", bus_url="redis://h:6379/2",
                      rate_limit_storage="redis://h:6379/3")
    assert workers_refused(4, shared) == ""
