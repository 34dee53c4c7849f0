"""Stable hashing helpers: every random choice of the simulator derives from the seed."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime

_MASK = (1 << 64) - 1


def mix(*parts: object) -> int:
    """Return a stable 64-bit hash of ``parts`` (independent of PYTHONHASHSEED)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def unit(*parts: object) -> float:
    """Return a stable number in [0, 1) derived from ``parts``."""
    return mix(*parts) / float(1 << 64)


def rng_for(*parts: object) -> random.Random:
    """Return a ``random.Random`` seeded from ``parts`` (e.g. seed, purpose, day)."""
    return random.Random(mix(*parts))


def to_epoch(value: datetime) -> int:
    """Return whole epoch seconds of an (aware or naive-UTC) datetime."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() // 1)


def from_epoch(seconds: float) -> datetime:
    """Return the aware UTC datetime of epoch ``seconds``."""
    return datetime.fromtimestamp(seconds, UTC)
