"""`./tai demo` beside a real configuration: a `.env` that points tai at a real warehouse, spool,
data folder and ports (and a shell that exports a warehouse path too) must not move the demo.

The script runs from a copy of the project tree (links to this checkout's files and .venv) so
that the test's `.env` is that tree's, never this checkout's. The history seeding is marked done
beforehand: what is tested is where the demo's deployment writes and listens.
"""

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tai_assets.settings import PROJECT_DIR
from tai_assets_tests.support.deployment import deployment_processes
from tai_assets_tests.support.ports import free_port

LINKED = ["tai_assets", "deploy", "sql", "pyproject.toml", "requirements.lock", "workspace.yaml"]


def project_copy(root: Path) -> Path:
    """Return a project tree at `root` made of links to this checkout (the script copied)."""
    root.mkdir()
    for name in LINKED:
        (root / name).symlink_to(PROJECT_DIR / name)
    (root / ".venv").symlink_to(PROJECT_DIR / ".venv")
    (root / "tai").write_bytes((PROJECT_DIR / "tai").read_bytes())
    (root / "tai").chmod(0o755)
    return root


def spooled_polls(spool: Path) -> int:
    """Return how many polls the spool at `spool` holds (0 while it does not exist)."""
    if not spool.exists():
        return 0
    with sqlite3.connect(spool) as conn:
        try:
            return conn.execute("SELECT count(*) FROM polls").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def answers(url: str) -> bool:
    """Return whether a webserver answers at `url`."""
    try:
        return httpx.get(f"{url}/server_info", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_the_demo_ignores_the_real_configuration(tmp_path):
    tree = project_copy(tmp_path / "tree")
    real = tmp_path / "real"
    real_web, demo_web, demo_code = free_port(), free_port(), free_port()
    (tree / ".env").write_text(
        f"TAI_DATA_DIR={real}/data\n"
        f"TAI_WAREHOUSE_PATH={real}/warehouse.duckdb\n"
        f"TAI_SPOOL_PATH={real}/spool.sqlite3\n"
        f"TAI_WEB_PORT={real_web}\nTAI_CODE_SERVER_PORT={free_port()}\n"
        "TAI_POLL_INTERVAL_SECONDS=60\nTAI_POLL_BATCH=10\n"
    )
    demo_data = tree / "data" / "demo"
    demo_data.mkdir(parents=True)
    (demo_data / "seeded").touch()
    env = {
        **os.environ,
        "TAI_NO_INSTALL": "1",
        "TAI_WAREHOUSE_PATH": f"{real}/exported.duckdb",  # exported by the operator's shell
        "TAI_DEMO_WEB_PORT": str(demo_web),
        "TAI_DEMO_CODE_SERVER_PORT": str(demo_code),
    }
    env.pop("DAGSTER_HOME", None)
    log = (tmp_path / "demo.log").open("wb")
    demo = subprocess.Popen(
        ["./tai", "demo"], cwd=tree, env=env, stdout=log, stderr=log, start_new_session=True
    )
    home = tree / ".dagster_home" / "demo"
    try:
        deadline = time.monotonic() + 300
        # Three polls at the demo's 10 s (not .env's 60 s) within the first minute.
        while time.monotonic() < deadline and spooled_polls(demo_data / "spool.sqlite3") < 6:
            assert demo.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            time.sleep(1)
        polled = spooled_polls(demo_data / "spool.sqlite3")
        while time.monotonic() < deadline and not answers(f"http://127.0.0.1:{demo_web}"):
            time.sleep(1)
        demo_ui = answers(f"http://127.0.0.1:{demo_web}")
        real_ui = answers(f"http://127.0.0.1:{real_web}")
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        try:
            demo.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
        for pid in deployment_processes(home):
            os.kill(pid, signal.SIGKILL)
        log.close()
    output = (tmp_path / "demo.log").read_text()
    assert polled >= 6, output[-3000:]
    assert demo_ui and not real_ui, output[-3000:]
    assert not real.exists(), list(real.rglob("*"))
    assert (home / "dagster.yaml").exists()
    assert f"http://127.0.0.1:{demo_web}" in output
