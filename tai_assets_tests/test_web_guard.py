"""The guarded web UI, against a real dagster-webserver started the way `./tai run` starts it
(through `tai_assets.dagster_internals.cli`, read-only here), with real HTTP requests."""

import glob
import json
import os
import shutil
import subprocess
import sys
import time

import httpx
import pytest

from tai_assets.common.ports import free_port
from tai_assets.deploy.serve import stop_processes
from tai_assets.deploy.web_guard import refusal
from tai_assets.settings import PROJECT_DIR
from tai_assets_tests.support.services import unavailable

LOCAL = "localhost:3000"
PROXY_PORT = free_port()
HOSTS = frozenset({"127.0.0.1:3000", LOCAL})
PASSWORD = "proxy-password-for-the-test"
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
    """A read-only, guarded dagster-webserver on a free port, loading the real code location;
    it also answers the Host of the proxy in front of it (`PROXY_PORT`)."""
    port = free_port()
    home = tmp_path_factory.mktemp("dagster_home")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "TAI_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "TAI_WEB_PORT": str(port),
        "TAI_WEB_ALLOWED_HOSTS": f"127.0.0.1:{port},localhost:{port},127.0.0.1:{PROXY_PORT}",
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


@pytest.fixture(scope="module")
def proxy(webserver, tmp_path_factory):
    """Debian's nginx running deploy/nginx/tai.conf (ports and paths adapted) in front of the
    webserver, with one user: admin / the password below."""
    nginx = shutil.which("nginx") or next(iter(glob.glob("/usr/sbin/nginx")), None)
    if nginx is None:
        unavailable("no nginx (apt-get install nginx)")
    _, web_port = webserver
    folder = tmp_path_factory.mktemp("nginx")
    hashed = subprocess.run(
        ["openssl", "passwd", "-apr1", PASSWORD], capture_output=True, text=True, check=True
    ).stdout.strip()
    (folder / "tai.htpasswd").write_text(f"admin:{hashed}\n")
    site = (PROJECT_DIR / "deploy" / "nginx" / "tai.conf").read_text()
    site = site.replace("listen 8080;", f"listen 127.0.0.1:{PROXY_PORT};")
    site = site.replace("/etc/nginx/tai.htpasswd", str(folder / "tai.htpasswd"))
    site = site.replace("http://127.0.0.1:3000", f"http://127.0.0.1:{web_port}")
    temp = " ".join(f"{kind}_temp_path {folder};" for kind in
                    ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))  # fmt: skip
    (folder / "nginx.conf").write_text(
        f"user root; daemon off; worker_processes 1; pid {folder}/nginx.pid;\n"
        f"error_log {folder}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; {temp}\n{site}\n}}\n"
    )
    process = subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")])
    base = f"http://127.0.0.1:{PROXY_PORT}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base, timeout=1)
            break
        except httpx.HTTPError:
            assert process.poll() is None, (folder / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_the_proxy_asks_for_credentials_and_then_shows_the_ui(proxy):
    anonymous = httpx.get(f"{proxy}/server_info", timeout=10)
    assert anonymous.status_code == 401
    wrong = httpx.get(f"{proxy}/server_info", auth=("admin", "guess"), timeout=10)
    assert wrong.status_code == 401
    shown = httpx.get(f"{proxy}/server_info", auth=("admin", PASSWORD), timeout=10)
    assert shown.status_code == 200 and "dagster_webserver_version" in shown.text
    page = httpx.get(f"{proxy}/", auth=("admin", PASSWORD), timeout=10)
    assert page.status_code == 200 and "<html" in page.text.lower()
    # Behind the proxy the guard still holds: another page's Origin is refused.
    foreign = httpx.post(
        f"{proxy}/graphql",
        json={"query": "{ version }"},
        auth=("admin", PASSWORD),
        headers={"Origin": "https://evil.example"},
        timeout=10,
    )
    assert foreign.status_code == 403
