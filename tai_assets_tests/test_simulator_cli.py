"""``python -m tai_assets.simulator`` in its own process, and tai's clock hook."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx

from tai_assets.common.clock import use_clock, utc_now
from tai_assets.simulator import ManualClock
from tai_assets.sources.samp.client import query_server


def test_cli_serves_prints_ports_and_writes_truth(tmp_path):
    truth = tmp_path / "truth.json"
    args = [
        sys.executable, "-m", "tai_assets.simulator", "--seed", "3", "--udp-port", "0",
        "--http-port", "0", "--speed", "600", "--start", "2026-01-05T16:00:00Z",
        "--truth-out", str(truth), "--accounts", "300",
    ]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        assert info["http_base_url"] == f"http://127.0.0.1:{info['http_port']}/api"
        result = query_server("127.0.0.1", info["udp_port"], timeout_s=0.5)
        assert result.status == "ok" and result.online > 0
        body = httpx.get(f"{info['http_base_url']}/user", params={"page": 3}).json()
        assert body["meta"]["last_page"] == 3
        assert httpx.get(f"{info['http_base_url']}/worlds").status_code == 401
        root = info["http_base_url"].removesuffix("/api")
        httpx.post(f"{root}/_sim/faults", json={"udp_down": True})
        assert query_server("127.0.0.1", info["udp_port"], timeout_s=0.2).status == "unreachable"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    data = json.loads(truth.read_text())
    assert data["seed"] == 3 and data["players"]


def test_use_clock_connects_tai_to_simulated_time():
    real = utc_now()
    assert real.tzinfo is UTC and abs((datetime.now(UTC) - real).total_seconds()) < 5
    clock = ManualClock(datetime(2026, 1, 5, tzinfo=UTC))
    with use_clock(clock.now):
        assert utc_now() == datetime(2026, 1, 5, tzinfo=UTC)
        clock.advance(60)
        assert utc_now() == datetime(2026, 1, 5, 0, 1, tzinfo=UTC)
        with use_clock(lambda: datetime(2030, 1, 1)):  # naive means UTC
            assert utc_now() == datetime(2030, 1, 1, tzinfo=UTC)
        assert utc_now() - clock.now() == timedelta(0)
    assert abs((utc_now() - datetime.now(UTC)).total_seconds()) < 5
