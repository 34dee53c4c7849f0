"""The Simulator: one seeded world behind a UDP game server and two HTTP APIs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from tai_assets.simulator.accounts import Accounts
from tai_assets.simulator.clocks import AcceleratedClock
from tai_assets.simulator.config import SimulatorConfig
from tai_assets.simulator.faults import Faults, Stats
from tai_assets.simulator.http_api import HttpServer
from tai_assets.simulator.population import Population
from tai_assets.simulator.truth import Truth
from tai_assets.simulator.udp import UdpServer
from tai_assets.simulator.worlds import Worlds
from tai_assets.sources.samp.protocol import PlayerEntry, ServerInfo


class Clock(Protocol):
    """Anything with ``now() -> aware datetime`` (ManualClock, AcceleratedClock, ...)."""

    def now(self) -> datetime:
        """Return the current simulated instant."""
        ...


@dataclass
class RunningSimulator:
    """Where a serving simulator listens."""

    host: str
    udp_port: int
    http_port: int
    _udp: UdpServer
    _http: HttpServer

    @property
    def http_base_url(self) -> str:
        """Base URL of both APIs, e.g. ``http://127.0.0.1:PORT/api``."""
        return f"http://{self.host}:{self.http_port}/api"

    @property
    def chrono_base_url(self) -> str:
        """Base URL of the chrono API (the same server as the training API)."""
        return self.http_base_url

    @property
    def training_base_url(self) -> str:
        """Base URL of the training API."""
        return self.http_base_url

    def env(self) -> dict[str, str]:
        """Return the tai environment variables that point tai at this simulator."""
        return {
            "TRAINING_HOST": self.host,
            "TRAINING_PORT": str(self.udp_port),
            "TRAINING_API_BASE_URL": self.http_base_url,
            "CHRONO_API_BASE_URL": self.http_base_url,
        }

    def stop(self) -> None:
        """Stop both servers."""
        self._udp.stop()
        self._http.stop()


class Simulator:
    """A deterministic stand-in for the game server, the chrono API and the training API.

    Same ``config`` (seed included) = same players, worlds and accounts at every simulated
    instant. ``clock`` defines simulated time (default: real time from now).
    """

    def __init__(self, config: SimulatorConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.clock: Clock = clock or AcceleratedClock(datetime.now(UTC), 1.0)
        self.started_at = self.clock.now()
        self.faults = Faults()
        self.stats = Stats()
        self.population = Population(self.config)
        self.worlds = Worlds(self.config, self.population.names)
        self.accounts = Accounts(self.config, self.started_at, self.faults)
        self.truth = Truth(self.population, self.worlds, self.config.seed)

    # ------------------------------------------------------------------ state

    def now(self) -> datetime:
        """Return the current simulated instant."""
        return self.clock.now()

    def players_online(self, at: datetime | None = None) -> list[PlayerEntry]:
        """Return the players online at ``at`` (default now) with their scores."""
        at = at or self.clock.now()
        return [PlayerEntry(n, s) for n, s in self.population.online_at(at.timestamp())]

    def server_info(self, at: datetime | None = None) -> ServerInfo:
        """Return what the game server's ``i`` answer says at ``at`` (default now)."""
        c = self.config
        players = len(self.players_online(at))
        return ServerInfo(c.password, players, c.max_players, c.hostname, c.gamemode, c.language)

    def worlds_payload(self, at: datetime | None = None) -> dict[str, Any]:
        """Return the ``GET /api/worlds`` body at ``at`` (default now)."""
        at = at or self.clock.now()
        return self.worlds.api_payload(at.timestamp())

    def register_accounts(self, count: int) -> int:
        """Register ``count`` accounts now (they become the newest ids); return the total."""
        return self.accounts.register(count, self.clock.now())

    # ------------------------------------------------------------------ serving

    def start(
        self, host: str = "127.0.0.1", udp_port: int = 0, http_port: int = 0
    ) -> RunningSimulator:
        """Start the UDP and HTTP servers on background threads; ports 0 = pick free ones.

        The current simulated day is generated first, so the first answers are not slow.
        """
        self.players_online()
        self.worlds_payload()
        udp = UdpServer(self.config, self.population, self.faults, self.stats, self.clock.now)
        http = HttpServer(self)
        bound_udp = udp.start(host, udp_port)
        try:
            bound_http = http.start(host, http_port)
        except OSError:
            udp.stop()
            raise
        return RunningSimulator(host, bound_udp, bound_http, udp, http)

    @contextmanager
    def serve(
        self, host: str = "127.0.0.1", udp_port: int = 0, http_port: int = 0
    ) -> Iterator[RunningSimulator]:
        """Serve inside a ``with`` block and stop the servers when it ends."""
        running = self.start(host, udp_port, http_port)
        try:
            yield running
        finally:
            running.stop()
