"""The simulated HTTP APIs: training ``/api/user``, chrono ``/api/worlds``, and ``/_sim``.

``/_sim/faults`` (GET/POST JSON), ``/_sim/stats`` (GET) and ``/_sim/truth?start=&end=`` (GET)
let a test or the demo drive a simulator running in another process.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tai_assets.simulator.faults import WORLDS_PATH

if TYPE_CHECKING:
    from tai_assets.simulator.core import Simulator


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: Simulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tai-simulator/1.0"
    timeout = 60
    disable_nagle_algorithm = True  # keep-alive + small writes would wait on delayed ACKs
    wbufsize = 1 << 16  # headers and body leave in one write, flushed after each request
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and the demo would drown in access logs."""

    # ------------------------------------------------------------------ plumbing

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        self.server.sim.stats.bump("http_status", status)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw or b"{}")

    # ------------------------------------------------------------------ routes

    def do_GET(self) -> None:
        """Route a GET: the two APIs and the ``/_sim`` control endpoints."""
        sim = self.server.sim
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        path = url.path.rstrip("/")
        sim.stats.record_http_request(path)
        if path == "/_sim/faults":
            self._send_json(200, sim.faults.to_dict())
        elif path == "/_sim/stats":
            self._send_json(200, sim.stats.to_dict())
        elif path == "/_sim/truth":
            start = datetime.fromisoformat(query["start"][0])
            end = datetime.fromisoformat(query["end"][0])
            self._send_json(200, sim.truth.to_dict(start, end))
        elif path == "/api/user":
            self._user(query)
        elif path == WORLDS_PATH:
            self._worlds()
        else:
            self._send_json(404, {"message": "Not Found"})

    def do_POST(self) -> None:
        """Route a POST: only ``/_sim/faults`` (set knobs, ``register``, ``reset_stats``)."""
        sim = self.server.sim
        path = urlsplit(self.path).path.rstrip("/")
        sim.stats.record_http_request(path)
        try:
            body = self._read_json()
        except (ValueError, json.JSONDecodeError) as exc:
            self._send_json(400, {"message": f"bad JSON: {exc}"})
            return
        if path == "/_sim/faults":
            try:
                sim.faults.update(body)
                if "register" in body:
                    sim.accounts.register(int(body["register"]), sim.clock.now())
                if body.get("reset_stats"):
                    sim.stats.reset()
            except (TypeError, ValueError, KeyError) as exc:
                self._send_json(400, {"message": f"bad fault spec: {exc}"})
                return
            self._send_json(200, sim.faults.to_dict())
        else:
            self._send_json(404, {"message": "Not Found"})

    def _api_fault(self, endpoint: str, page: int | None) -> bool:
        sim = self.server.sim
        if sim.faults.slow_seconds > 0:
            time.sleep(sim.faults.slow_seconds)
        fault = sim.faults.take_http_fault(endpoint, page)
        if fault is None:
            return False
        status, retry_after = fault
        headers = {"Retry-After": retry_after} if retry_after else {}
        message = "Too Many Attempts." if status == 429 else "Server Error"
        self._send_json(status, {"message": message}, headers)
        return True

    def _user(self, query: dict[str, list[str]]) -> None:
        sim = self.server.sim
        try:
            page = int(query.get("page", ["1"])[0])
        except ValueError:
            page = 1
        page = max(page, 1)
        sim.stats.bump("page_requests", page)
        now = sim.clock.now()
        sim.accounts.note_user_request(now)
        if self._api_fault("user", page):
            return
        body = sim.accounts.page(page, now)
        sim.stats.bump("page_served", page)
        self._send_json(200, body)

    def _worlds(self) -> None:
        sim = self.server.sim
        if self._api_fault("worlds", None):
            return
        login = self.headers.get("X-Login")
        token = self.headers.get("X-Token")
        if login != sim.config.chrono_login or token != sim.config.chrono_token:
            self._send_json(401, {"message": "Unauthenticated."})
            return
        self._send_json(200, sim.worlds.api_payload(sim.clock.now().timestamp()))


class HttpServer:
    """The simulator's HTTP side on a background thread."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def start(self, host: str, port: int = 0) -> int:
        """Bind ``host:port`` (0 = a free port), start serving, return the port."""
        self._server = _Server((host, port), _Handler)
        self._server.sim = self.sim
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self.port

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join(timeout=2)
