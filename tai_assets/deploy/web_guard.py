"""A guard in front of the Dagster webserver's app: only requests meant for it get through.

Dagster OSS has no authentication, and its GraphQL endpoint runs a mutation sent by a plain
GET, from any page and for any Host header. Any web page the operator opens could launch runs,
and DNS rebinding would reach it from outside. The guard (ASGI middleware) refuses:

- a request whose Host is not one of the configured host:port values (TAI_WEB_ALLOWED_HOSTS;
  defeats DNS rebinding);
- a request carrying an Origin other than the UI's own (another page's fetch, form or
  websocket); clients that send no Origin (curl, scripts, the reverse proxy's health check)
  pass;
- a GraphQL operation sent by GET (the UI sends them by POST, its subscriptions over a
  websocket), so no link or image tag can carry a mutation.
"""

from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import parse_qs

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def refusal(
    kind: str,
    method: str,
    path: str,
    query_string: bytes,
    headers: dict[str, str],
    allowed_hosts: frozenset[str],
    origins: frozenset[str] | None = None,
) -> str | None:
    """Return why a request must be refused, or None to let it through.

    `headers` are lower-cased names; `allowed_hosts` lower-cased `host:port` values; `origins`
    the UI's own origins (derived from the hosts when not given)."""
    host = headers.get("host", "").lower()
    if host not in allowed_hosts:
        return f"Host {host or '(none)'} is not this server's"
    origin = headers.get("origin")
    if origins is None:
        origins = allowed_origins(allowed_hosts)
    if origin is not None and origin.lower() not in origins:
        return f"requests from {origin} are not accepted"
    graphql_get = kind == "http" and method == "GET" and path.rstrip("/").endswith("/graphql")
    if graphql_get and "query" in parse_qs(query_string.decode("latin-1")):
        return "GraphQL operations are accepted only by POST"
    return None


def allowed_origins(allowed_hosts: Iterable[str]) -> frozenset[str]:
    """Return the origins of the UI itself: each allowed host:port over http or https."""
    return frozenset(f"{scheme}://{host}" for host in allowed_hosts for scheme in ("http", "https"))


class WebGuard:
    """ASGI middleware applying `refusal` to every HTTP request and websocket."""

    def __init__(self, app, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.allowed_hosts = frozenset(host.strip().lower() for host in allowed_hosts)
        self.origins = allowed_origins(self.allowed_hosts)  # once, not per request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 403 (close a websocket) saying why."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])
        }
        why = refusal(
            scope["type"],
            scope.get("method", "GET"),
            scope.get("path", ""),
            scope.get("query_string", b""),
            headers,
            self.allowed_hosts,
            self.origins,
        )
        if why is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await receive()  # the websocket.connect event
            await send({"type": "websocket.close", "code": 1008, "reason": why})
        else:
            body = f"refused by tai: {why}\n".encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
