"""The supervisor's stand-in poller against the simulator on loopback, a real spool, and a
DAGSTER_HOME and data folder on small tmpfs disks that are really filled or made read-only."""

import subprocess
import time
from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from tai_assets.core.spool import PollSpool
from tai_assets.defs.polling.resources import PollSpoolResource
from tai_assets.deploy.stand_in import StandInPoller
from tai_assets.settings import Settings
from tai_assets.warehouse.storage_errors import folder_refuses_writes
from tai_assets_tests.support.deployment import remount, small_ext4, small_tmpfs, trigger_disk_error
from tai_assets_tests.support.polling import WORLD_SENSOR, polling_resources, tick
from tai_assets_tests.support.services import unavailable

INTERVAL = 60


@pytest.fixture
def home(tmp_path):
    """DAGSTER_HOME on a tmpfs of its own."""
    with small_tmpfs(tmp_path / "dagster_home", unavailable) as mount:
        yield mount


def settings_for(running, home, data, *, worlds: bool = True, **more) -> Settings:
    """Return settings pointing tai at the simulator, `home` and `data` (`more` overrides)."""
    values = {
        "training_host": "127.0.0.1",
        "training_port": running.udp_port,
        "chrono_api_base_url": running.http_base_url,
        "chrono_login": "tai" if worlds else None,
        "chrono_token": "secret-token" if worlds else None,
        "dagster_home": home,
        "data_dir": data,
        "poll_interval_seconds": INTERVAL,
    }
    return Settings(**(values | more))


def spooled(data) -> dict[str, list[str]]:
    """Return the polled_at of every spooled poll, by source."""
    spool = PollSpool(data / "spool.sqlite3")
    return {s: [r["polled_at"] for r in spool.recent(s, 1000)][::-1] for s in ("server", "worlds")}


def checks(stand_in: StandInPoller, clock, seconds: int, step: int = 10) -> None:
    """Call the stand-in's check every `step` simulated seconds for `seconds`."""
    for _ in range(seconds // step):
        stand_in.check(clock.now())
        clock.advance(step)


def test_stands_in_only_while_the_daemon_or_code_server_is_down(
    simulator, sim_clock, home, data_mount
):
    _, running = simulator
    children_running = True
    stand_in = StandInPoller(settings_for(running, home, data_mount), lambda: children_running)

    checks(stand_in, sim_clock, 5 * INTERVAL)
    assert spooled(data_mount) == {"server": [], "worlds": []}  # Dagster polls: nothing to do

    children_running = False
    checks(stand_in, sim_clock, INTERVAL - 10)
    assert spooled(data_mount) == {"server": [], "worlds": []}  # a restart shorter than an interval

    checks(stand_in, sim_clock, 3 * INTERVAL)
    taken = spooled(data_mount)
    assert len(taken["server"]) == len(taken["worlds"]) == 3, taken  # one per interval
    server = PollSpool(data_mount / "spool.sqlite3").recent("server", 1)[0]
    assert server["status"] == "ok" and server["online"] == len(server["player_names"]) > 0
    worlds = PollSpool(data_mount / "spool.sqlite3").recent("worlds", 1)[0]
    assert worlds["status"] == "ok" and worlds["worlds"]

    children_running = True
    checks(stand_in, sim_clock, 3 * INTERVAL)
    assert spooled(data_mount) == taken


def test_stands_in_while_dagster_home_is_full_and_holds_polls_the_spool_refuses(
    simulator, sim_clock, home, data_mount, capfd
):
    _, running = simulator
    stand_in = StandInPoller(settings_for(running, home, data_mount, worlds=False), lambda: True)
    subprocess.run(["dd", "if=/dev/zero", f"of={home / 'filler'}", "bs=1M"], capture_output=True)

    checks(stand_in, sim_clock, 3 * INTERVAL)
    assert len(spooled(data_mount)["server"]) == 2 and spooled(data_mount)["worlds"] == []
    assert f"DAGSTER_HOME disk full: {home}" in capfd.readouterr().err

    # The data folder turns read-only too: the polls stay in memory until it takes them.
    remount(data_mount, "ro")
    try:
        checks(stand_in, sim_clock, 2 * INTERVAL)
        assert len(stand_in.held["server"]) == 2
        assert f"read-only: {data_mount / 'spool.sqlite3'}" in capfd.readouterr().err
    finally:
        remount(data_mount, "rw")
    (home / "filler").unlink()
    sim_clock.advance(INTERVAL)  # DAGSTER_HOME is tried once per interval
    stand_in.check(sim_clock.now())
    assert stand_in.held["server"] == []
    polled = spooled(data_mount)["server"]
    assert len(polled) == len(set(polled)) == 4
    instants = [datetime.fromisoformat(p) for p in polled]
    assert all(b - a >= timedelta(seconds=INTERVAL) for a, b in pairwise(instants))
    assert "Dagster takes polls again; the supervisor took 4 meanwhile" in capfd.readouterr().err


def test_a_stop_spools_what_is_held_and_counts_what_the_spool_still_refuses(
    simulator, sim_clock, home, data_mount, capfd
):
    _, running = simulator
    stand_in = StandInPoller(settings_for(running, home, data_mount, worlds=False), lambda: False)
    checks(stand_in, sim_clock, 2 * INTERVAL)
    assert len(spooled(data_mount)["server"]) == 1
    remount(data_mount, "ro")
    try:
        checks(stand_in, sim_clock, 2 * INTERVAL)
        assert len(stand_in.held["server"]) == 2
        stand_in.stop()
    finally:
        remount(data_mount, "rw")
    err = capfd.readouterr().err
    assert "2 polls taken during the outage could not be spooled (read-only: " in err
    assert len(spooled(data_mount)["server"]) == 1

    again = StandInPoller(settings_for(running, home, data_mount, worlds=False), lambda: False)
    checks(again, sim_clock, 2 * INTERVAL)
    again.stop()  # the spool takes them: nothing to report
    assert len(spooled(data_mount)["server"]) == 2
    assert "could not be spooled" not in capfd.readouterr().err


def test_with_a_postgresql_instance_a_full_dagster_home_does_not_stop_the_sensors(
    simulator, sim_clock, home, data_mount
):
    _, running = simulator
    url = "postgresql+psycopg2://tai:pw@127.0.0.1:1/tai"
    settings = settings_for(running, home, data_mount, instance="postgres", postgres_url=url)
    children_running = True
    stand_in = StandInPoller(settings, lambda: children_running)
    subprocess.run(["dd", "if=/dev/zero", f"of={home / 'filler'}", "bs=1M"], capture_output=True)
    checks(stand_in, sim_clock, 3 * INTERVAL)
    assert spooled(data_mount) == {"server": [], "worlds": []}  # the sensors poll: it does not
    children_running = False
    checks(stand_in, sim_clock, 3 * INTERVAL)
    assert len(spooled(data_mount)["server"]) == 2


def test_a_token_no_header_can_carry_is_refused_without_being_quoted(
    simulator, sim_clock, home, data_mount, capfd
):
    _, running = simulator
    token = "tökén-ünïcode"
    settings = settings_for(running, home, data_mount, chrono_token=token)
    stand_in = StandInPoller(settings, lambda: False)
    checks(stand_in, sim_clock, 3 * INTERVAL)
    stand_in.stop()
    worlds = PollSpool(data_mount / "spool.sqlite3").recent("worlds", 10)
    assert [w["status"] for w in worlds] == ["auth_failed"] * 2
    assert "non-ASCII" in worlds[0]["error"]
    seen = capfd.readouterr().err + "".join(str(w) for w in worlds)
    assert not any(character in seen for character in "öéüï")


def test_a_folder_that_refuses_writes_says_why(tmp_path, home):
    assert folder_refuses_writes(home) is None
    subprocess.run(["dd", "if=/dev/zero", f"of={home / 'filler'}", "bs=1M"], capture_output=True)
    assert folder_refuses_writes(home) == "disk full"
    (home / "filler").unlink()
    # A failing ext4 disk turns read-only under open files with its mount flags unchanged
    # ("emergency_ro"): only a write tells.
    with small_ext4(tmp_path / "disk", unavailable) as disk:
        (disk / "open").write_text("x")
        with (disk / "open").open("a"):
            trigger_disk_error(disk)
            assert folder_refuses_writes(disk) == "read-only"
    assert list(home.iterdir()) == []  # the probe leaves nothing behind


def test_an_unexpected_error_is_reported_once_by_type_and_place_never_by_message(
    simulator, home, data_mount, capfd
):
    _, running = simulator

    def children_running() -> bool:
        raise RuntimeError("secret-token")  # a message that could quote a setting

    stand_in = StandInPoller(settings_for(running, home, data_mount), children_running)
    stand_in.start()
    time.sleep(3.5)  # three checks, a second apart
    stand_in.stop()
    assert not stand_in.thread.is_alive()
    reports = [line for line in capfd.readouterr().err.splitlines() if "stand-in poller" in line]
    assert len(reports) == 1 and "RuntimeError at test_stand_in.py:" in reports[0], reports
    assert "secret-token" not in reports[0]


def test_a_retry_after_one_poller_was_given_holds_the_other(simulator, sim_clock, home, tmp_path):
    sim, running = simulator
    data = tmp_path / "data"
    resources = polling_resources(running, str(data / "tai.duckdb"))
    resources["spool"] = PollSpoolResource(path=str(data / "spool.sqlite3"))  # the stand-in's

    def worlds_requests() -> int:
        return sim.stats.http_requests["/api/worlds"]

    # The sensor is asked to wait 300 s; then Dagster goes down and the stand-in takes over.
    sim.faults.http_429_next(1, retry_after=300, endpoint="worlds")
    tick(WORLD_SENSOR, resources, None)
    asked = worlds_requests()
    stand_in = StandInPoller(settings_for(running, home, data), lambda: False)
    checks(stand_in, sim_clock, 240)
    assert worlds_requests() == asked  # it stood in from 60 s on, but left the API alone
    assert len(spooled(data)["server"]) >= 2  # while polling the game server
    checks(stand_in, sim_clock, 120)
    assert worlds_requests() == asked + 1  # past the 300 s

    # The stand-in is asked to wait 600 s; Dagster is back: a sensor with a fresh cursor waits.
    sim.faults.http_429_next(1, retry_after=600, endpoint="worlds")
    checks(stand_in, sim_clock, 2 * INTERVAL)
    assert worlds_requests() == asked + 2
    skipped = tick(WORLD_SENSOR, resources, None).skip_reason.skip_message
    assert "Retry-After" in skipped and "poll skipped" in skipped, skipped
    assert worlds_requests() == asked + 2
