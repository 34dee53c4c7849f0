"""A loopback stand-in for the Telegram Bot API (real HTTP on 127.0.0.1) used by the tests."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FakeBotApi:
    """Answers ``POST /bot<token>/sendMessage``; ``script`` lists status codes to answer first."""

    token: str
    script: list[int] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    base_url: str = ""

    def answer(self, path: str, body: dict) -> tuple[int, dict]:
        self.requests.append({"path": path, "body": body})
        if path != f"/bot{self.token}/sendMessage":
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        status = self.script.pop(0) if self.script else 200
        if status == 200:
            return 200, {"ok": True, "result": {"message_id": len(self.requests)}}
        if status == 429:
            return 429, {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 0",
                "parameters": {"retry_after": 0},
            }
        return status, {"ok": False, "error_code": status, "description": f"status {status}"}


@contextmanager
def fake_bot_api(token: str, script: list[int] | None = None) -> Iterator[FakeBotApi]:
    """Serve a :class:`FakeBotApi` on a free loopback port for the ``with`` block."""
    api = FakeBotApi(token, list(script or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            status, payload = api.answer(self.path, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
