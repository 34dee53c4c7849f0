"""The guarded web UI, against a real dagster-webserver started the way `./tai run` starts it
(through `tai_assets.dagster_internals.cli`, read-only here), with real HTTP requests."""

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from tai_assets.deploy.serve import stop_processes
from tai_assets.deploy.web_guard import refusal
from tai_assets.settings import PROJECT_DIR
from tai_assets_tests.support.ports import free_port

LOCAL = "localhost:3000"
HOSTS = frozenset({"127.0.0.1:3000", LOCAL})
MUTATION = 'mutation { launchRun(executionParams: {selector: {jobName: "x"}}) { __typename } }'


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "refused_for"),
    [
        ("GET", "/", b"", {"host": "127.0.0.1:3000"}, None),
        ("GET", "/", b"", {"host": "evil.example:3000"}, "Host"),
        ("GET", "/", b"", {}, "Host"),
        ("POST", "/graphql", b"", {"host": "localhost:3000"}, None),
        ("POST", "/graphql", b"", {"host": LOCAL, "origin": f"http://{LOCAL}"}, None),
        ("POST", "/graphql", b"", {"host": LOCAL, "origin": "https://evil.example"}, "from"),
        ("POST", "/graphql", b"", {"host": "localhost:3000", "origin": "null"}, "from"),
        ("GET", "/graphql", b"query=mutation%7B%7D", {"host": "localhost:3000"}, "only by POST"),
        ("GET", "/graphql", b"", {"host": "localhost:3000"}, None),
    ],
)  # fmt: skip
def test_refusal_rules(method, path, query, headers, refused_for):
    why = refusal("http", method, path, query, headers, HOSTS)
    if refused_for is None:
        assert why is None
    else:
        assert why is not None and refused_for in why


def test_a_foreign_origin_cannot_open_the_websocket():
    headers = {"host": "localhost:3000", "origin": "http://evil.example"}
    assert refusal("websocket", "GET", "/graphql", b"", headers, HOSTS) is not None
    assert refusal("websocket", "GET", "/graphql", b"", {"host": "localhost:3000"}, HOSTS) is None


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    """A read-only, guarded dagster-webserver on a free port, loading the real code location."""
    port = free_port()
    home = tmp_path_factory.mktemp("dagster_home")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "TAI_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "TAI_WEB_PORT": str(port),
    }
    command = [
        sys.executable, "-m", "tai_assets.dagster_internals.cli", "dagster-webserver",
        "-m", "tai_assets.definitions", "-h", "127.0.0.1", "-p", str(port), "--read-only",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, cwd=PROJECT_DIR, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/server_info", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "webserver did not start"
        time.sleep(0.5)
    yield base, port
    stop_processes([process])


def graphql(base: str, query: str, **headers) -> httpx.Response:
    return httpx.post(f"{base}/graphql", json={"query": query}, headers=headers, timeout=30)


def test_the_running_webserver_refuses_what_is_not_meant_for_it(webserver):
    base, port = webserver
    assert httpx.get(f"{base}/server_info", timeout=5).status_code == 200
    rebound = httpx.get(f"{base}/server_info", headers={"Host": f"evil.example:{port}"})
    assert rebound.status_code == 403 and "Host" in rebound.text
    foreign = graphql(base, "{ version }", Origin="https://evil.example")
    assert foreign.status_code == 403
    by_get = httpx.get(f"{base}/graphql", params={"query": MUTATION})
    assert by_get.status_code == 403 and "only by POST" in by_get.text
    own = graphql(base, "{ version }", Origin=f"http://127.0.0.1:{port}")
    assert own.status_code == 200 and own.json()["data"]["version"]
    assert graphql(base, "{ version }").status_code == 200  # a client without Origin


def test_read_only_mode_takes_away_launching(webserver):
    base, _ = webserver
    answer = graphql(base, "{ permissions { permission value } }").json()
    permissions = {p["permission"]: p["value"] for p in answer["data"]["permissions"]}
    assert permissions["launch_pipeline_execution"] is False, json.dumps(permissions)
    assert permissions["edit_sensor"] is False
