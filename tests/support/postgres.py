"""A throwaway PostgreSQL cluster for a test that stops and restarts the database under the
service, so that the shared server on 5432 (which other tests use) is never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support.servers import free_port

PG_BIN = Path(os.environ.get("NORDHEM_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "nordhem"


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class Cluster:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _pg_ctl(self, action: str) -> None:
        subprocess.run(_as_owner([
            str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-w", "-t", "60",
            "-l", str(self.directory / "server.log"),
            "-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1",
            action]), check=True, capture_output=True)

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        """Fast shutdown: open connections are cut, as in a real restart or failover."""
        subprocess.run(_as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"),
                                  "-m", "fast", "-w", "stop"]), check=True, capture_output=True)

    def accepts(self) -> bool:
        try:
            with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                                 dbname=DATABASE, connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """initdb into a fresh directory, start on a free port with a database `nordhem`
    (trust auth on loopback), and remove it all when the block ends."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(f"no PostgreSQL binaries in {PG_BIN} (NORDHEM_TEST_PG_BIN)")
    # not under pytest's tmp_path: its parents are closed to the postgres user
    directory = Path(tempfile.mkdtemp(prefix="nordhem-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = Cluster(directory, free_port())
    try:
        subprocess.run(_as_owner([str(PG_BIN / "initdb"), "-D", str(directory / "data"),
                                  "-U", "postgres", "--auth=trust", "-E", "UTF8",
                                  "--no-sync"]), check=True, capture_output=True)
        cluster.start()
        with psycopg.connect(host="127.0.0.1", port=cluster.port, user="postgres",
                             dbname="postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {DATABASE}")
        yield cluster
    finally:
        subprocess.run(_as_owner([str(PG_BIN / "pg_ctl"), "-D", str(directory / "data"),
                                  "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)
