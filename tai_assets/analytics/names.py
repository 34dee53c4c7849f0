"""Which player and world names may appear in a public digest.

Digests are posted to a public channel, so names that advertise something (links, Telegram
handles, websites) or are obscene never appear, and bot accounts never compete with people.
"""

from __future__ import annotations

import re
import unicodedata
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


def squeeze(name: str) -> str:
    """Return ``name`` lower-cased with every whitespace and invisible formatting character
    (zero-width spaces, joiners, direction marks) removed, so that "t. me/x", "shop . ru" or
    "h t t p s : / /" read as what they spell. The original service did the same."""
    return "".join(
        ch for ch in name.lower() if not ch.isspace() and unicodedata.category(ch) != "Cf"
    )


def unsafe_reason(name: str) -> str | None:
    """Return why ``name`` must not be published (``link``, ``handle``, ``domain``, ``obscene``)
    or None when it is safe. The rules read the squeezed name (see :func:`squeeze`), so spacing
    a link out or hiding it behind zero-width characters does not get it published."""
    squeezed = squeeze(name)
    if any(marker in squeezed for marker in _LINK_MARKERS):
        return "link"
    if _HANDLE.search(squeezed):
        return "handle"
    tlds = real_tlds()
    # A domain followed by a word ("play.server.com now") is found in the name as written;
    # a spaced-out one ("shop . ru") in the squeezed name.
    for text in (name.lower(), squeezed):
        for match in _DOTTED.finditer(text):
            if match.group(0).rsplit(".", 1)[1] in tlds:
                return "domain"
    if "rp" in squeezed and "sex" in squeezed:
        return "obscene"
    return None


def is_unsafe_name(name: str) -> bool:
    """Return True when ``name`` breaks any of the unsafe-name rules (see :func:`unsafe_reason`)."""
    return unsafe_reason(name) is not None


def normalize_bots(bots: Iterable[str]) -> frozenset[str]:
    """Return the bot list as a case-insensitive lookup set."""
    return frozenset(b.strip().lower() for b in bots if b.strip())
