"""Registered accounts of the training API, generated per id from the seed.

A record is a pure function of ``(seed, id)`` (plus, for accounts registered during the run,
their registration instant), so a million accounts cost no memory. Pages list the newest
accounts first (id descending), so every registration shifts all pages by one record.
"""

from __future__ import annotations

import math
import random
import threading
import time
from datetime import datetime
from typing import Any

from tai_assets.simulator.config import SimulatorConfig
from tai_assets.simulator.faults import Faults
from tai_assets.simulator.names import CYR_FIRST, LATIN_FIRST, login_for
from tai_assets.simulator.rng import mix, rng_for, to_epoch, unit

MSK_OFFSET_S = 3 * 3600
NEVER_STRING = "1970-01-01 03:00:00"
WARN_REASONS = ("DM", "Оскорбление", "Читы", "Флуд", "Багоюз", "Реклама", "Неадекват")
VERIFY_TEXTS = ("Проверенный игрок", "YouTube", "Администрация", "Разработчик")
MALFORMED_KINDS = ("missing id", "id not a number", "regdate not a timestamp", "warn not a list")


def format_msk(epoch: int) -> str:
    """Return epoch seconds as ``YYYY-MM-DD HH:MM:SS`` in Moscow time (UTC+3)."""
    t = time.gmtime(epoch + MSK_OFFSET_S)
    return f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d} {t[3]:02d}:{t[4]:02d}:{t[5]:02d}"


def _pick(rng: random.Random, values: tuple[int, ...], cum: tuple[float, ...]) -> int:
    """Return ``values[i]`` with cumulative probabilities ``cum`` (cheaper than choices)."""
    r = rng.random()
    for value, edge in zip(values, cum, strict=True):
        if r < edge:
            return value
    return values[-1]


def _stamp(rng: random.Random, epoch: int | None) -> str | int:
    """Encode an instant like the API does: a Moscow-time string or an epoch int."""
    as_string = rng.random() < 0.6
    if epoch is None:
        return NEVER_STRING if as_string else 0
    return format_msk(epoch) if as_string else int(epoch)


WEEK_SECONDS = 7 * 86_400
RENAME_PERIOD_WEEKS = 8


class Accounts:
    """The account base behind ``GET /api/user?page=N``."""

    def __init__(self, config: SimulatorConfig, started_at: datetime, faults: Faults) -> None:
        self.config = config
        self.started = to_epoch(started_at)
        self.history_start = to_epoch(config.history_start)
        self._lock = threading.Lock()
        self._registered: list[int] = []  # epoch of each account registered during the run
        self._time_registered = 0
        self._user_requests = 0
        self.faults = faults

    # ------------------------------------------------------------------ registrations

    def _catch_up(self, now: int) -> None:
        rate = self.config.registrations_per_hour
        if rate <= 0 or now <= self.started:
            return
        due = int((now - self.started) / 3600.0 * rate)
        while self._time_registered < due:
            self._time_registered += 1
            at = self.started + int(self._time_registered * 3600.0 / rate)
            last = self._registered[-1] if self._registered else self.started
            self._registered.append(max(at, last))

    def register(self, count: int, now: datetime) -> int:
        """Register ``count`` new accounts at ``now``; return the new total."""
        at = to_epoch(now)
        with self._lock:
            self._catch_up(at)
            last = self._registered[-1] if self._registered else self.started
            self._registered.extend([max(at, last)] * count)
            return self.config.accounts + len(self._registered)

    def total(self, now: datetime) -> int:
        """Return how many accounts exist at ``now`` (ids are 1..total)."""
        with self._lock:
            self._catch_up(to_epoch(now))
            return self.config.accounts + len(self._registered)

    def note_user_request(self, now: datetime) -> None:
        """Count a ``/api/user`` request; every N-th one registers a batch (if configured)."""
        every = self.config.register_every_requests
        with self._lock:
            self._user_requests += 1
            fire = every > 0 and self._user_requests % every == 0
        if fire:
            self.register(self.config.register_batch, now)

    def registered_at(self, account_id: int) -> int:
        """Return the registration instant (epoch) of ``account_id``."""
        base = self.config.accounts
        if account_id > base:
            with self._lock:
                return self._registered[account_id - base - 1]
        span = max(1, self.started - self.history_start)
        step = span / max(1, base)
        jitter = unit(self.config.seed, "reg-jitter", account_id) * step * 0.9
        return self.history_start + int((account_id - 1) * step + jitter)

    # ------------------------------------------------------------------ records

    def is_malformed(self, account_id: int) -> bool:
        """Return whether ``account_id`` is served broken under the current malformed rate."""
        rate = self.faults.malformed_record_rate
        return rate > 0 and unit(self.config.seed, "bad-record", account_id) < rate

    def last_rename_week(self, account_id: int, registered: int, now: int) -> int | None:
        """Return the latest simulated week (epoch week number) between ``registered`` (the
        account's registration) and ``now`` in which ``account_id`` took a new login, or None.
        A share of the accounts rename every ``RENAME_PERIOD_WEEKS`` weeks, each at a phase of
        its own, so that ``renames_per_week`` of all accounts rename in any week, whenever the
        simulator runs."""
        share = self.config.renames_per_week * RENAME_PERIOD_WEEKS
        seed = self.config.seed
        if account_id > self.config.accounts or unit(seed, "renamer", account_id) >= share:
            return None
        phase = mix(seed, "rename-phase", account_id) % RENAME_PERIOD_WEEKS
        current = now // WEEK_SECONDS
        week = current - (current - phase) % RENAME_PERIOD_WEEKS
        return week if week * WEEK_SECONDS >= registered else None

    def record(self, account_id: int, now: datetime | None = None) -> dict[str, Any]:
        """Return the API record of ``account_id`` at ``now`` (deterministic for a given seed;
        the login is the one after the account's renames up to ``now``)."""
        seed = self.config.seed
        rng = random.Random(mix(seed, "account", account_id))
        regdate = self.registered_at(account_id)
        fresh = account_id > self.config.accounts
        online = (not fresh) and rng.random() < 0.02
        if fresh:
            lastlogin: int | None = regdate
        elif rng.random() < 0.04:
            lastlogin = None
        else:
            ref = max(regdate, self.started)
            lastlogin = regdate + int((ref - regdate) * (1 - rng.random() ** 3))
        premium = rng.random() < 0.08
        if premium:
            premium_exp: int | None = self.started + rng.randrange(86_400, 365 * 86_400)
        elif rng.random() < 0.1:
            premium_exp = regdate + rng.randrange(0, 30 * 86_400)
        else:
            premium_exp = None
        warns = []
        for _ in range(_pick(rng, (0, 1, 2, 3), (0.80, 0.92, 0.97, 1.0))):
            admin_first = rng.choice(CYR_FIRST if rng.random() < 0.3 else LATIN_FIRST)
            warns.append(
                {
                    "admin": f"{admin_first}_{rng.randrange(1, 99)}",
                    "bantime": _stamp(rng, regdate + rng.randrange(0, 400 * 86_400)),
                    "reason": rng.choice(WARN_REASONS),
                }
            )
        verify = 1 if rng.random() < 0.05 else 0
        record: dict[str, Any] = {
            "id": account_id,
            "login": login_for(rng, account_id),
            "lastlogin": _stamp(rng, lastlogin),
            "regdate": _stamp(rng, regdate),
            "moder": _pick(rng, (0, 1, 2, 3, 4, 5), (0.95, 0.97, 0.98, 0.99, 0.995, 1.0)),
            "mute": 0 if rng.random() < 0.93 else rng.randrange(60, 86_400),
            "verify": verify,
            "verifyText": rng.choice(VERIFY_TEXTS) if verify else "",
            "warn": warns,
            "online": 1 if online else 0,
            "playerid": rng.randrange(0, 1000) if online or rng.random() < 0.5 else -1,
            "access": _pick(rng, (0, 1, 2), (0.97, 0.99, 1.0)),
            "bonuspoints": int(rng.expovariate(1 / 300)),
            "premium": 1 if premium else 0,
            "premium_expdate": "" if rng.random() < 0.01 else _stamp(rng, premium_exp),
            "chase_rating": rng.randrange(0, 3000),
        }
        renamed = self.last_rename_week(account_id, regdate, to_epoch(now)) if now else None
        if renamed is not None:
            record["login"] = login_for(rng_for(seed, "renamed", account_id, renamed), account_id)
        if self.is_malformed(account_id):
            kind = mix(seed, "bad-kind", account_id) % len(MALFORMED_KINDS)
            if kind == 0:
                del record["id"]
            elif kind == 1:
                record["id"] = f"id-{account_id}"
            elif kind == 2:
                record["regdate"] = {"date": record["regdate"]}
            else:
                record["warn"] = "none"
        return record

    def page(self, page: int, now: datetime) -> dict[str, Any]:
        """Return the ``GET /api/user?page=N`` JSON body (Laravel-style pagination)."""
        total = self.total(now)
        per_page = max(1, self.config.per_page)
        last_page = max(1, math.ceil(total / per_page))
        top = total - (page - 1) * per_page
        bottom = max(1, top - per_page + 1)
        ids = range(top, bottom - 1, -1) if page >= 1 and top >= 1 else range(0)
        data = [self.record(i, now) for i in ids]
        first = (page - 1) * per_page + 1
        return {
            "data": data,
            "meta": {
                "current_page": page,
                "last_page": last_page,
                "per_page": per_page,
                "total": total,
                "from": first if data else None,
                "to": first + len(data) - 1 if data else None,
            },
        }
