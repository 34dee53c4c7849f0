"""Which player and world names may appear in a public digest.

Digests are posted to a public channel, so names that advertise something (links, Telegram
handles, websites) or are obscene never appear, and bot accounts never compete with people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

DEFAULT_BOTS: tuple[str, ...] = ("KrystallBot", "chrono.czo.ooo", "ChepoBot", "botWivar")

_LINK_MARKERS = ("http://", "https://", "t.me/")
_HANDLE = re.compile(r"@[a-z0-9_]{3,}")
_DOTTED = re.compile(r"[\w-]+(?:\.[\w-]+)+")


@cache
def real_tlds() -> frozenset[str]:
    """Return the shipped set of real top-level domains (lower case, IDN ones in Unicode)."""
    text = resources.files(__package__).joinpath("tlds.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def unsafe_reason(name: str) -> str | None:
    """Return why ``name`` must not be published (``link``, ``handle``, ``domain``, ``obscene``)
    or None when it is safe. Every rule works on the lower-cased name."""
    lowered = name.lower()
    if any(marker in lowered for marker in _LINK_MARKERS):
        return "link"
    if _HANDLE.search(lowered):
        return "handle"
    tlds = real_tlds()
    for match in _DOTTED.finditer(lowered):
        if match.group(0).rsplit(".", 1)[1] in tlds:
            return "domain"
    squeezed = "".join(lowered.split())
    if "rp" in squeezed and "sex" in squeezed:
        return "obscene"
    return None


def is_unsafe_name(name: str) -> bool:
    """Return True when ``name`` breaks any of the unsafe-name rules (see :func:`unsafe_reason`)."""
    return unsafe_reason(name) is not None


def normalize_bots(bots: Iterable[str]) -> frozenset[str]:
    """Return the bot list as a case-insensitive lookup set."""
    return frozenset(b.strip().lower() for b in bots if b.strip())
