"""Who is on the game server when: sessions generated lazily per simulated UTC day.

Day ``D`` draws *candidate* sessions from ``(seed, D)`` alone: arrivals along a daily curve
(Moscow evening peak), a duration from a mixture (short, medium, hours-long), short drops with
reconnects inside a session, and three preferred names. The *final* sessions of ``D`` are the
candidates that fit under the online cap and whose name is free, checked in time order against
the already accepted sessions of ``D`` and against *all* candidates of ``D - 1`` still running.
Candidates are a superset of final sessions, so the cap and the one-session-per-name rule hold
across midnight, while any day still costs only two days of random draws.

Crowd spells add, for each configured window, enough extra players (online exactly during the
window) to keep the count at ``crowd_online`` or more.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from tai_assets.simulator.config import SimulatorConfig
from tai_assets.simulator.names import player_pool
from tai_assets.simulator.rng import mix, rng_for, to_epoch

DAY = 86_400
MSK_OFFSET = 3 * 3600

# Session length mixture: (probability, low seconds, high seconds)
DURATIONS = ((0.55, 5 * 60, 40 * 60), (0.30, 40 * 60, 150 * 60), (0.15, 150 * 60, 8 * 3600))
MEAN_DURATION = sum(p * (lo + hi) / 2 for p, lo, hi in DURATIONS)
NAME_OPTIONS = 3


def daily_shape(t: float) -> float:
    """Return activity in [0, 1] at epoch ``t``: 0 at 07:00 Moscow time, 1 at 19:00."""
    hour = ((t + MSK_OFFSET) % DAY) / 3600.0
    return 0.5 - 0.5 * math.cos(2 * math.pi * (hour - 7.0) / 24.0)


@dataclass(frozen=True)
class Session:
    """One visit of a player: ``pieces`` are the [start, end) epoch spans actually online."""

    name: str
    pieces: tuple[tuple[int, int], ...]
    crowd: bool = False

    @property
    def start(self) -> int:
        """Epoch second the session begins."""
        return self.pieces[0][0]

    @property
    def end(self) -> int:
        """Epoch second the session ends (exclusive)."""
        return self.pieces[-1][1]

    def online_at(self, t: float) -> bool:
        """Return whether the player is connected at epoch ``t`` (not inside a drop)."""
        return any(s <= t < e for s, e in self.pieces)


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    names: tuple[str, ...]
    pieces: tuple[tuple[int, int], ...]


BREAK_CYCLE_DAYS = 120


class Population:
    """Players of the simulated game server; thread-safe, cached per day."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.names = player_pool(
            rng_for(config.seed, "player-pool"), config.player_pool, config.cyrillic_fraction
        )
        # Zipf-like popularity: a few regulars, a long tail of occasional players.
        self._weights = [1.0 / (rank + 8) ** 0.9 for rank in range(len(self.names))]
        self._cum_weights = []
        total = 0.0
        for w in self._weights:
            total += w
            self._cum_weights.append(total)
        self._max_duration = int(config.max_session_hours * 3600)
        self._spells = sorted((to_epoch(s), to_epoch(e)) for s, e in config.crowd_spells)
        self._lock = threading.RLock()
        self._candidates: OrderedDict[int, list[_Candidate]] = OrderedDict()
        self._final: OrderedDict[int, list[Session]] = OrderedDict()
        self._crowd: dict[tuple[int, int], list[Session]] = {}

    # ------------------------------------------------------------------ generation

    def _target(self, t: float) -> float:
        c = self.config
        return c.peak_online * (
            c.min_online_fraction + (1 - c.min_online_fraction) * daily_shape(t)
        )

    def _duration(self, rng) -> int:
        r = rng.random()
        for p, lo, hi in DURATIONS:
            if r < p:
                return min(int(rng.uniform(lo, hi)), self._max_duration)
            r -= p
        return min(DURATIONS[-1][2], self._max_duration)

    def _pieces(self, rng, start: int, duration: int) -> tuple[tuple[int, int], ...]:
        end = start + duration
        drops = 0
        hours = duration / 3600.0
        while hours > 0:
            if rng.random() < self.config.drop_rate_per_hour * min(1.0, hours):
                drops += 1
            hours -= 1.0
        cuts = []
        for _ in range(drops):
            gap = rng.uniform(20, 360) if rng.random() < 0.93 else rng.uniform(600, 1500)
            at = rng.uniform(start + 120, end - 120 - gap) if end - start > 240 + gap else None
            if at is not None:
                cuts.append((int(at), int(at + gap)))
        cuts.sort()
        pieces = []
        cursor = start
        for cut_start, cut_end in cuts:
            if cut_start - cursor >= 60 and end - cut_end >= 60:
                pieces.append((cursor, cut_start))
                cursor = cut_end
        pieces.append((cursor, end))
        return tuple(pieces)

    def on_break(self, index: int, day: int) -> bool:
        """Return whether the player at `index` of the pool stays away on `day`: each player
        spends `break_share` of every BREAK_CYCLE_DAYS-day cycle away, at a phase of their
        own, so regulars leave for weeks and come back (churn, as on a real server)."""
        away = self.config.break_share * BREAK_CYCLE_DAYS
        phase = mix(self.config.seed, "break", index) % BREAK_CYCLE_DAYS
        return (day - phase) % BREAK_CYCLE_DAYS < away

    def _cum_weights_on(self, day: int) -> list[float]:
        """Return the pool's cumulative popularity on `day`, players on a break weighing 0."""
        if self.config.break_share <= 0:
            return self._cum_weights
        cumulative, total = [], 0.0
        for index, weight in enumerate(self._weights):
            total += 0.0 if self.on_break(index, day) else weight
            cumulative.append(total)
        return cumulative

    def _candidates_for(self, day: int) -> list[_Candidate]:
        with self._lock:
            cached = self._candidates.get(day)
            if cached is not None:
                self._candidates.move_to_end(day)
                return cached
        rng = rng_for(self.config.seed, "player-day", day)
        peak_rate = self.config.peak_online / MEAN_DURATION  # arrivals per second at the peak
        t = float(day * DAY)
        end_of_day = (day + 1) * DAY
        out: list[_Candidate] = []
        cum_weights = self._cum_weights_on(day)
        while True:
            t += rng.expovariate(peak_rate)
            if t >= end_of_day:
                break
            if rng.random() * self.config.peak_online > self._target(t):
                continue  # thinning: non-homogeneous Poisson arrivals
            start = int(t)
            duration = max(60, self._duration(rng))
            names = tuple(rng.choices(self.names, cum_weights=cum_weights, k=NAME_OPTIONS))
            pieces = self._pieces(rng, start, duration)
            out.append(_Candidate(start, pieces[-1][1], names, pieces))
        with self._lock:
            self._candidates[day] = out
            while len(self._candidates) > 32:
                self._candidates.popitem(last=False)
        return out

    def _final_for(self, day: int) -> list[Session]:
        with self._lock:
            cached = self._final.get(day)
            if cached is not None:
                self._final.move_to_end(day)
                return cached
        cap = self.config.max_normal_online
        active: list[tuple[int, int, tuple[str, ...]]] = []  # heap of (end, seq, names)
        busy: dict[str, int] = {}
        seq = 0
        for cand in self._candidates_for(day - 1):
            if cand.end > day * DAY:
                heapq.heappush(active, (cand.end, seq, cand.names))
                seq += 1
                for name in set(cand.names):
                    busy[name] = busy.get(name, 0) + 1
        out: list[Session] = []
        for cand in self._candidates_for(day):
            while active and active[0][0] <= cand.start:
                _, _, names = heapq.heappop(active)
                for name in set(names):
                    busy[name] -= 1
                    if not busy[name]:
                        del busy[name]
            if len(active) >= cap:
                continue
            name = next((n for n in cand.names if n not in busy), None)
            if name is None:
                continue
            out.append(Session(name, cand.pieces))
            heapq.heappush(active, (cand.end, seq, (name,)))
            seq += 1
            busy[name] = busy.get(name, 0) + 1
        with self._lock:
            self._final[day] = out
            while len(self._final) > 32:
                self._final.popitem(last=False)
        return out

    def _normal_sessions(self, start: int, end: int) -> Iterable[Session]:
        """Final sessions overlapping [start, end)."""
        for day in range(start // DAY - 1, (end - 1) // DAY + 1):
            for session in self._final_for(day):
                if session.start < end and session.end > start:
                    yield session

    def _crowd_for(self, spell: tuple[int, int]) -> list[Session]:
        with self._lock:
            if spell in self._crowd:
                return self._crowd[spell]
        s, e = spell
        normal = list(self._normal_sessions(s, e))
        # The normal count only drops at piece ends, so its minimum is at s or at one of them.
        instants = {s} | {pe for x in normal for _, pe in x.pieces if s < pe < e}
        low = min(sum(1 for x in normal if x.online_at(t)) for t in instants)
        needed = max(0, self.config.crowd_online - low)
        taken = {x.name for x in normal}
        free = [n for n in self.names if n not in taken]
        rng = rng_for(self.config.seed, "crowd", s, e)
        rng.shuffle(free)
        chosen = free[:needed]
        chosen += [
            f"Guest_{mix(self.config.seed, s, i) % 100000:05d}" for i in range(needed - len(chosen))
        ]
        sessions = [Session(name, ((s, e),), crowd=True) for name in chosen]
        with self._lock:
            self._crowd[spell] = sessions
        return sessions

    # ------------------------------------------------------------------ queries

    def sessions(self, start: int, end: int, *, include_crowd: bool = True) -> list[Session]:
        """Return every session overlapping the epoch window [start, end)."""
        out = list(self._normal_sessions(start, end))
        if include_crowd:
            for spell in self._spells:
                if spell[0] < end and spell[1] > start:
                    out.extend(self._crowd_for(spell))
        return out

    def online_at(self, t: float) -> list[tuple[str, int]]:
        """Return ``(name, score)`` of everyone online at epoch ``t``, in join order."""
        second = int(t)
        online = [
            (piece_start, session.name)
            for session in self.sessions(second, second + 1)
            for piece_start, piece_end in session.pieces
            if piece_start <= t < piece_end
        ]
        online.sort()
        return [(name, self.score(name, joined, t)) for joined, name in online]

    def score(self, name: str, joined: int, t: float) -> int:
        """Return a plausible in-game score: a per-name base plus minutes played."""
        return mix(self.config.seed, "score", name) % 500 + int(t - joined) // 60
