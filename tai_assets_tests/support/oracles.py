"""Plain restatements of tai's rules, written apart from its code, for tests to compare with."""

from collections.abc import Iterable

from tai_assets.analytics.names import DEFAULT_BOTS, is_unsafe_name


def is_bot(name: str, bots: Iterable[str] = DEFAULT_BOTS) -> bool:
    """Return True when `name` is on the bot list (exact name, case-insensitive)."""
    return name.strip().lower() in {b.strip().lower() for b in bots if b.strip()}


def is_publishable_player(name: str, bots: Iterable[str] = DEFAULT_BOTS) -> bool:
    """Return True when a player may appear in a digest: not a bot and a safe name."""
    return not is_bot(name, bots) and not is_unsafe_name(name)
