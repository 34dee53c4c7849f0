"""Worlds of the chrono API: static worlds that never close, dynamic ones per simulated day.

A dynamic world opens with its creator, fills to a peak, empties, sits empty for a few minutes
and closes. Some worlds get a twin with the same clean name (other colours, sometimes the same
raw name), so one response can list a clean name twice.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from tai_assets.simulator.config import SimulatorConfig
from tai_assets.simulator.names import (
    STATIC_WORLD_NAMES,
    WORLD_MODES,
    WORLD_NAMES,
    clean_world_name,
    colourize,
)
from tai_assets.simulator.population import DAY, daily_shape
from tai_assets.simulator.rng import mix, rng_for, to_epoch

LIFETIMES = ((0.5, 10 * 60, 60 * 60), (0.4, 60 * 60, 3 * 3600), (0.1, 3 * 3600, 6 * 3600))
MEAN_LIFETIME = sum(p * (lo + hi) / 2 for p, lo, hi in LIFETIMES)
FOREVER = 1 << 40


@dataclass(frozen=True)
class World:
    """One world instance; ``open``/``close`` are epoch seconds (close exclusive)."""

    world_id: int
    raw_name: str
    open: int
    close: int
    peak: int
    static: bool
    ssmp: bool
    owner: str
    mode: str
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def clean_name(self) -> str:
        """The name without colour codes (what tai keys world sessions on)."""
        return clean_world_name(self.raw_name)

    def players_at(self, t: float, seed: int) -> int:
        """Return how many players are in the world at epoch ``t``."""
        jitter = mix(seed, "world-jitter", self.world_id, int(t) // 60) % 3 - 1
        if self.static:
            return max(0, round(self.peak * (0.15 + 0.85 * daily_shape(t))) + jitter)
        life = self.close - self.open
        empty_tail = min(max(300, life // 8), 900, life // 3)
        busy_end = self.close - empty_tail
        if t >= busy_end:
            return 0
        fill = max(60, (busy_end - self.open) // 4)
        if t < self.open + fill:
            level = 1 + (self.peak - 1) * (t - self.open) / fill
        else:
            level = self.peak * (busy_end - t) / max(1, busy_end - self.open - fill)
        return max(1 if t < self.open + fill else 0, round(level) + jitter)


class Worlds:
    """All worlds of the simulation; thread-safe, cached per day."""

    def __init__(self, config: SimulatorConfig, owners: list[str]) -> None:
        self.config = config
        self.owners = owners
        rng = rng_for(config.seed, "static-worlds")
        self.static = [
            World(
                world_id=i + 1,
                raw_name=colourize(rng, STATIC_WORLD_NAMES[i % len(STATIC_WORLD_NAMES)]),
                open=-FOREVER,
                close=FOREVER,
                peak=rng.randint(15, 40),
                static=True,
                ssmp=rng.random() < 0.3,
                owner="server",
                mode="freeroam",
                extra={"locked": False},
            )
            for i in range(config.static_worlds)
        ]
        self._static_created = to_epoch(config.history_start)
        self._lock = threading.Lock()
        self._days: OrderedDict[int, list[World]] = OrderedDict()

    def _lifetime(self, rng) -> int:
        r = rng.random()
        for p, lo, hi in LIFETIMES:
            if r < p:
                return int(rng.uniform(lo, hi))
            r -= p
        return LIFETIMES[-1][2]

    def _new_world(self, rng, world_id: int, opened: int, clean: str | None) -> World:
        owner = rng.choice(self.owners)
        if clean is None:
            clean = rng.choice(WORLD_NAMES) if rng.random() < 0.6 else f"Мир {owner}"
        return World(
            world_id=world_id,
            raw_name=colourize(rng, clean),
            open=opened,
            close=opened + self._lifetime(rng),
            peak=rng.randint(2, 30),
            static=False,
            ssmp=rng.random() < 0.3,
            owner=owner,
            mode=rng.choice(WORLD_MODES),
            extra={"locked": rng.random() < 0.2},
        )

    def for_day(self, day: int) -> list[World]:
        """Return the dynamic worlds opened during simulated UTC day ``day``."""
        with self._lock:
            cached = self._days.get(day)
            if cached is not None:
                self._days.move_to_end(day)
                return cached
        cfg = self.config
        rng = rng_for(cfg.seed, "world-day", day)
        peak_rate = cfg.peak_worlds / MEAN_LIFETIME
        t = float(day * DAY)
        worlds: list[World] = []
        next_id = 1000 + (day % 100_000) * 10_000
        while True:
            t += rng.expovariate(peak_rate)
            if t >= (day + 1) * DAY:
                break
            if rng.random() > 0.1 + 0.9 * daily_shape(t):
                continue
            world = self._new_world(rng, next_id, int(t), None)
            worlds.append(world)
            next_id += 1
            if rng.random() < cfg.duplicate_world_fraction:
                twin = self._new_world(
                    rng, next_id, int(t) + rng.randrange(0, 600), world.clean_name
                )
                if rng.random() < 0.5:
                    twin = World(**{**twin.__dict__, "raw_name": world.raw_name})
                worlds.append(twin)
                next_id += 1
        with self._lock:
            self._days[day] = worlds
            while len(self._days) > 32:
                self._days.popitem(last=False)
        return worlds

    def existing(self, start: int, end: int) -> list[World]:
        """Return every world (static included) that exists during [start, end)."""
        out = list(self.static)
        # A world lives at most 6 h, so the day before is enough.
        for day in range(start // DAY - 1, (end - 1) // DAY + 1):
            out.extend(w for w in self.for_day(day) if w.open < end and w.close > start)
        return out

    def api_payload(self, t: float) -> dict[str, Any]:
        """Return the ``GET /api/worlds`` JSON body for epoch ``t``."""
        second = int(t)
        worlds = sorted(self.existing(second, second + 1), key=lambda w: (w.open, w.world_id))
        items = []
        for world in worlds:
            items.append(
                {
                    "id": world.world_id,
                    "name": world.raw_name,
                    "players": world.players_at(t, self.config.seed),
                    "static": world.static,
                    "ssmp": world.ssmp,
                    "owner": world.owner,
                    "mode": world.mode,
                    "created_at": world.open if world.open > 0 else self._static_created,
                    **world.extra,
                }
            )
        return {"worlds": items}
