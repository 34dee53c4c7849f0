"""A throwaway PostgreSQL server for the tests about the PostgreSQL instance.

Started once per test session from the Debian `postgresql` package's binaries (`.ci/run`
installs it): `initdb` and `pg_ctl` run as the `postgres` user in a fresh folder, the server
listens on 127.0.0.1 on a free port with trust authentication, and is stopped at the end. Each
test gets a database of its own. Without the binaries (or without root to run them as
`postgres`) the tests skip and say why, unless TAI_REQUIRE_SERVICES=1 (CI), where that fails.
"""

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2

from tai_assets.common.ports import free_port
from tai_assets_tests.support.services import unavailable


def postgres_bin() -> Path | None:
    """Return the folder of `initdb` and `pg_ctl`, or None when PostgreSQL is not installed."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if (Path(folder) / "initdb").exists():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@contextmanager
def throwaway_server() -> Iterator[str]:
    """Yield the URL of a fresh PostgreSQL server's `postgres` database; stop it afterwards."""
    folder = postgres_bin()
    if folder is None:
        unavailable("no PostgreSQL binaries (apt-get install postgresql)")
    if os.geteuid() != 0:
        unavailable("starting a throwaway PostgreSQL needs root (to run it as `postgres`)")
    root = Path(tempfile.mkdtemp(prefix="tai-pg-"))
    shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()

    def as_postgres(*command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True,
                       capture_output=True, timeout=120)  # fmt: skip

    as_postgres(str(folder / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    as_postgres(str(folder / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                str(root / "log"), "-w", "start")  # fmt: skip
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(str(folder / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """Create an empty database on the server; return its URL."""
    name = f"tai_{uuid.uuid4().hex[:12]}"
    dsn = server_url.replace("postgresql+psycopg2://", "postgresql://")
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return server_url.rsplit("/", 1)[0] + "/" + name
