"""Configuration of the simulator: one frozen-by-convention dataclass of knobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

DEFAULT_RULES: tuple[tuple[str, str], ...] = (
    ("lagcomp", "On"),
    ("mapname", "San Andreas"),
    ("version", "omp 1.3.1.2748"),
    ("weather", "10"),
    ("weburl", "training-server.com"),
    ("worldtime", "12:00"),
)


@dataclass
class SimulatorConfig:
    """Everything that shapes the simulated sources; same config + seed = same world.

    Game server: ``peak_online`` is the evening target of players online at once;
    ``max_normal_online`` caps it (<= 100 keeps names visible); ``crowd_spells`` are
    ``(start, end)`` windows (aware datetimes) during which extra players push the count to
    ``crowd_online`` (> 100: the server then ignores ``c``).
    Worlds: ``static_worlds`` always-open worlds plus about ``peak_worlds`` dynamic ones at the
    evening peak; ``duplicate_world_fraction`` of worlds get a twin with the same clean name.
    Accounts: ``accounts`` existing at start, ``per_page`` per API page; new accounts register
    at ``registrations_per_hour`` of simulated time and/or ``register_batch`` every
    ``register_every_requests`` requests to ``/api/user``.
    """

    seed: int = 1
    # --- game server (UDP)
    hostname: str = "TRAINING SANDBOX | Песочница"
    gamemode: str = "TRAINING 3.0"
    language: str = "Русский"
    max_players: int = 300
    password: bool = False
    rules: tuple[tuple[str, str], ...] = DEFAULT_RULES
    player_pool: int = 600
    cyrillic_fraction: float = 0.15
    peak_online: int = 90
    min_online_fraction: float = 0.12
    max_normal_online: int = 100
    drop_rate_per_hour: float = 0.35
    max_session_hours: float = 8.0
    break_share: float = 0.0  # share of each player's 120-day cycle spent away (churn)
    crowd_spells: list[tuple[datetime, datetime]] = field(default_factory=list)
    crowd_online: int = 115
    # --- worlds (chrono API)
    chrono_login: str = "tai"
    chrono_token: str = "secret-token"
    static_worlds: int = 3
    peak_worlds: int = 15
    duplicate_world_fraction: float = 0.12
    # --- accounts (training API)
    accounts: int = 5000
    per_page: int = 100
    registrations_per_hour: float = 0.0
    register_every_requests: int = 0
    register_batch: int = 1
    renames_per_week: float = 0.004  # share of accounts taking a new login each simulated week
    history_start: datetime = datetime(2015, 1, 1, tzinfo=UTC)
