"""Ground truth: who was really online and which worlds really existed, when."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from tai_assets.simulator.population import Population
from tai_assets.simulator.rng import from_epoch, to_epoch
from tai_assets.simulator.worlds import Worlds

Interval = tuple[str, datetime, datetime]


def _merge(spans: Iterable[tuple[str, int, int]], lo: int, hi: int) -> list[Interval]:
    """Clip spans to [lo, hi], merge overlapping/touching spans per key, return sorted."""
    by_key: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for key, s, e in spans:
        s, e = max(s, lo), min(e, hi)
        if s < e:
            by_key[key].append((s, e))
    out: list[tuple[int, str, int]] = []
    for key, items in by_key.items():
        items.sort()
        cur_s, cur_e = items[0]
        for s, e in items[1:]:
            if s <= cur_e:
                cur_e = max(cur_e, e)
            else:
                out.append((cur_s, key, cur_e))
                cur_s, cur_e = s, e
        out.append((cur_s, key, cur_e))
    out.sort()
    return [(key, from_epoch(s), from_epoch(e)) for s, key, e in out]


class Truth:
    """Read-only view of the simulation's real state, for scoring what tai derived."""

    def __init__(self, population: Population, worlds: Worlds, seed: int) -> None:
        self.population = population
        self.worlds = worlds
        self.seed = seed

    def player_intervals(
        self, start: datetime, end: datetime, *, include_crowd: bool = True
    ) -> list[Interval]:
        """Return ``(name, start, end)`` for every raw span a name was online in [start, end].

        Spans are clipped to the window; a reconnect after a drop is a new span (apply your
        own gap rule). ``include_crowd=False`` leaves out the extra players that exist only
        during crowd spells (their names are never visible: the server ignores ``c`` then).
        """
        lo, hi = to_epoch(start), to_epoch(end)
        sessions = self.population.sessions(lo, hi, include_crowd=include_crowd)
        return _merge(((x.name, s, e) for x in sessions for s, e in x.pieces), lo, hi)

    def crowd_players(self, start: datetime, end: datetime) -> list[str]:
        """Return the names of the crowd-spell extras online in [start, end] (never listed)."""
        sessions = self.population.sessions(to_epoch(start), to_epoch(end))
        return sorted({x.name for x in sessions if x.crowd})

    def world_intervals(self, start: datetime, end: datetime) -> list[Interval]:
        """Return ``(clean_name, start, end)`` for every span a world of that clean name existed.

        Twins with the same clean name merge into one span; static worlds span the window.
        """
        lo, hi = to_epoch(start), to_epoch(end)
        worlds = self.worlds.existing(lo, hi)
        return _merge(((w.clean_name, w.open, w.close) for w in worlds), lo, hi)

    def online_names(self, at: datetime) -> list[str]:
        """Return the names online at ``at`` (what a perfect ``c`` answer would list)."""
        return [name for name, _ in self.population.online_at(at.timestamp())]

    def online_count(self, at: datetime) -> int:
        """Return how many players are online at ``at`` (crowd extras included)."""
        return len(self.population.online_at(at.timestamp()))

    def worlds_at(self, at: datetime) -> list[dict[str, Any]]:
        """Return the worlds listed by ``GET /api/worlds`` at ``at``."""
        return self.worlds.api_payload(at.timestamp())["worlds"]

    def to_dict(self, start: datetime, end: datetime) -> dict[str, Any]:
        """Return the truth for [start, end] as JSON-ready data."""

        def rows(intervals: list[Interval]) -> list[dict[str, str]]:
            return [
                {"name": n, "start": s.isoformat(), "end": e.isoformat()} for n, s, e in intervals
            ]

        return {
            "seed": self.seed,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "players": rows(self.player_intervals(start, end)),
            "crowd_players": self.crowd_players(start, end),
            "worlds": rows(self.world_intervals(start, end)),
        }

    def write(self, path: str | Path, start: datetime, end: datetime) -> Path:
        """Write :meth:`to_dict` for [start, end] as JSON to ``path``; return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(start, end), ensure_ascii=False, indent=1))
        tmp.replace(path)
        return path
