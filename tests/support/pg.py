"""A real PostgreSQL server for the tests: initdb and pg_ctl into a temporary directory, on loopback.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

from support.servers import free_port


class PostgresServer:
    """One server for the test session; a fresh database, copied from a migrated template, per test."""

    def __init__(self, durable: bool = False):
        """Pick a directory and a port; start() does the work. durable keeps fsync on (benchmarks)."""
        self.durable = durable
        self.folder = tempfile.mkdtemp(prefix="collector-pg-")
        self.data = os.path.join(self.folder, "data")
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres"
            account = pwd.getpwnam(self.user)
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}"

    def _run(self, tool: str, *args: str) -> None:
        """Run a server binary as the server's user."""
        command = (["runuser", "-u", self.user, "--"] if self.user else []) + [binary(tool), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> PostgresServer:
        """initdb, start on loopback, and build the migrated template database."""
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self.resume()
        self.admin("CREATE DATABASE collector_template")
        from collector.storage.postgres import PostgresStorage

        template = PostgresStorage(f"{self.url}/collector_template")
        template.migrate()
        template.close()
        return self

    def resume(self) -> None:
        """Start (or start again) the server process on the same port and data."""
        # fsync off for tests: speed only, the tests prove behaviour, not the disk. Benchmarks keep it on.
        fsync = "on" if self.durable else "off"
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.folder, "log"), "-w", "-o",
                  f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync={fsync} "
                  "-c max_connections=300", "start")

    def pause(self) -> None:
        """Stop the server process, keeping its data."""
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def admin(self, sql: str) -> None:
        """Run one statement on the maintenance database."""
        import psycopg

        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    def fresh_database(self) -> str:
        """Create an empty, migrated database and return its URL."""
        name = "t_" + uuid.uuid4().hex[:16]
        self.admin(f"CREATE DATABASE {name} TEMPLATE collector_template")
        return f"{self.url}/{name}"

    def stop(self) -> None:
        """Stop the server and remove its files."""
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def binary(tool: str) -> str | None:
    """Where a server binary is: on PATH, or where Debian's postgresql package puts it."""
    found = shutil.which(tool) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def available() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    missing = [tool for tool in ("initdb", "pg_ctl") if not binary(tool)]
    if missing:
        return f"no PostgreSQL server binaries ({', '.join(missing)} not found; apt-get install postgresql)"
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
    return None
