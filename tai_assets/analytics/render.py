"""Digest text: Russian (default) or English Markdown for the UI, and HTML for Telegram.

Numbers agree with their nouns (1 игрок, 2 игрока, 5 игроков, 11 игроков, 21 игрок) and
durations are rounded to 5 minutes, as a person would say them.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from tai_assets.analytics.periods import Period, to_local

Language = Literal["ru", "en"]

_RU_FORMS: dict[str, tuple[str, str, str]] = {
    "player": ("игрок", "игрока", "игроков"),
    "session": ("сессия", "сессии", "сессий"),
    "hour": ("час", "часа", "часов"),
    "minute": ("минута", "минуты", "минут"),
    "point": ("очко", "очка", "очков"),
}
_EN_FORMS: dict[str, tuple[str, str]] = {
    "player": ("player", "players"),
    "session": ("session", "sessions"),
    "hour": ("hour", "hours"),
    "minute": ("minute", "minutes"),
    "point": ("point", "points"),
}
_RU_MONTHS_GEN = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
_RU_MONTHS_NOM = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip
_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """Return the Russian noun form for ``n``: 1 → one, 2–4 → few, 5–20 → many (21 → one…)."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def count_phrase(n: int, noun: str, lang: Language = "ru") -> str:
    """Return ``n`` with its noun in the right form, e.g. ``21 игрок`` or ``2 players``."""
    if lang == "ru":
        return f"{n} {plural_ru(n, *_RU_FORMS[noun])}"
    one, many = _EN_FORMS[noun]
    return f"{n} {one if n == 1 else many}"


def round_minutes(hours: float, step: int = 5) -> int:
    """Return a duration in hours as whole minutes rounded to the nearest ``step`` (half up)."""
    return math.floor(hours * 60 / step + 0.5) * step


def duration_phrase(hours: float, lang: Language = "ru") -> str:
    """Return a duration rounded to 5 minutes in words: ``2 часа 35 минут``, ``1 hour``."""
    total = round_minutes(hours)
    h, m = divmod(total, 60)
    parts = []
    if h:
        parts.append(count_phrase(h, "hour", lang))
    if m or not h:
        parts.append(count_phrase(m, "minute", lang))
    return " ".join(parts)


def _day_month(d, lang: Language) -> str:
    if lang == "ru":
        return f"{d.day} {_RU_MONTHS_GEN[d.month - 1]}"
    return f"{_EN_MONTHS[d.month - 1]} {d.day}"


def period_title(period: Period, lang: Language = "ru") -> str:
    """Return the human title of a period: ``Итоги недели: 5–11 января 2026`` and the like."""
    s, last = period.start, period.last_day
    if period.kind == "day":
        label = (
            f"{_day_month(s, lang)} {s.year}"
            if lang == "ru"
            else f"{_day_month(s, lang)}, {s.year}"
        )
        return ("Итоги дня: " if lang == "ru" else "Daily digest: ") + label
    if period.kind == "week":
        if lang == "ru":
            first = str(s.day) if s.month == last.month else _day_month(s, lang)
            first = first if s.year == last.year else f"{_day_month(s, lang)} {s.year}"
            return f"Итоги недели: {first}–{_day_month(last, lang)} {last.year}"
        first = _day_month(s, lang) if s.year == last.year else f"{_day_month(s, lang)}, {s.year}"
        return f"Weekly digest: {first} – {_day_month(last, lang)}, {last.year}"
    if period.kind == "month":
        if lang == "ru":
            return f"Итоги месяца: {_RU_MONTHS_NOM[s.month - 1]} {s.year}"
        return f"Monthly digest: {_EN_MONTHS[s.month - 1]} {s.year}"
    return ("Итоги года: " if lang == "ru" else "Yearly digest: ") + str(s.year)


@dataclass(frozen=True)
class PlayerLine:
    """A player in a digest's top list."""

    player: str
    hours: float
    sessions: int


@dataclass(frozen=True)
class WorldLine:
    """A world session in a digest's top list."""

    name: str
    score: float
    peak_players: int
    length_hours: float
    hot: bool


_RU_WEEKDAYS = ["пн", "вт", "ср", "чт", "пт", "сб", "вс"]
_EN_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@dataclass(frozen=True)
class GenreLine:
    """A genre tag in a digest's top list, with the player-hours spent in its worlds."""

    tag: str
    player_hours: float


@dataclass(frozen=True)
class DigestContent:
    """Everything a digest says, independent of language and format."""

    period: Period
    top_players: list[PlayerLine] = field(default_factory=list)
    top_worlds: list[WorldLine] = field(default_factory=list)
    peak_online: int | None = None
    peak_online_at: datetime | None = None  # naive UTC
    active_players: int = 0
    sessions: int = 0
    top_genres: list[GenreLine] = field(default_factory=list)
    peak_hours: list[tuple[int, int, float]] = field(default_factory=list)  # weekday, hour, avg


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def escape_md(text: str) -> str:
    """Escape Markdown syntax in a name so it shows literally."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _when(at: datetime, period: Period, lang: Language) -> str:
    local = to_local(at, period.tz)
    clock = local.strftime("%H:%M")
    if period.kind == "day":
        return clock
    return f"{_day_month(local.date(), lang)}, {clock}"


def _lines(content: DigestContent, lang: Language, bold, esc, heading) -> list[str]:
    ru = lang == "ru"
    out: list[str] = []
    if content.peak_online is not None and content.peak_online_at is not None:
        label = "Пик онлайна" if ru else "Peak online"
        when = _when(content.peak_online_at, content.period, lang)
        out.append(
            f"{bold(label + ':')} {count_phrase(content.peak_online, 'player', lang)} ({when})"
        )
    else:
        out.append(
            bold("Пик онлайна:" if ru else "Peak online:") + (" нет данных" if ru else " no data")
        )
    if content.active_players:
        out.append("")
        label = "Играли" if ru else "Played"
        out.append(
            f"{bold(label + ':')} {count_phrase(content.active_players, 'player', lang)}, "
            f"{count_phrase(content.sessions, 'session', lang)}"
        )
    out.append("")
    out.append(heading("Самые активные игроки" if ru else "Most active players"))
    if content.top_players:
        for i, p in enumerate(content.top_players, 1):
            out.append(
                f"{i}. {bold(esc(p.player))} — {duration_phrase(p.hours, lang)} "
                f"({count_phrase(p.sessions, 'session', lang)})"
            )
    else:
        out.append("Никто не играл." if ru else "Nobody played.")
    out.append("")
    out.append(heading("Самые популярные миры" if ru else "Most popular worlds"))
    if content.top_worlds:
        for i, w in enumerate(content.top_worlds, 1):
            fire = "🔥 " if w.hot else ""
            peak = ("пик " if ru else "peak ") + count_phrase(w.peak_players, "player", lang)
            score = f"{w.score:.1f}"
            score_label = "очки" if ru else "score"
            length = duration_phrase(w.length_hours, lang)
            out.append(f"{i}. {fire}{bold(esc(w.name))} — {peak}, {length}, {score_label} {score}")
    else:
        out.append("Ни один мир не прошёл отбор." if ru else "No world made the cut.")
    if content.peak_hours:
        out.append("")
        label = "Пиковые часы" if ru else "Peak hours"
        days = _RU_WEEKDAYS if ru else _EN_WEEKDAYS
        hours = ", ".join(
            f"{days[weekday - 1]} {hour:02d}:00 ({avg:.0f})"
            for weekday, hour, avg in content.peak_hours
        )
        out.append(f"{bold(label + ':')} {hours}")
    if content.top_genres:
        out.append("")
        label = "Жанры" if ru else "Top genres"
        genres = ", ".join(
            f"{esc(g.tag)} ({duration_phrase(g.player_hours, lang)})" for g in content.top_genres
        )
        out.append(f"{bold(label + ':')} {genres}")
    return out


def render_markdown(content: DigestContent, lang: Language = "ru") -> str:
    """Return the digest as Markdown for the warehouse and the Dagster UI."""
    body = _lines(content, lang, lambda s: f"**{s}**", escape_md, lambda s: f"## {s}")
    return f"# {period_title(content.period, lang)}\n\n" + "\n".join(body) + "\n"


def render_telegram_html(content: DigestContent, lang: Language = "ru") -> str:
    """Return the digest as Telegram-flavoured HTML (``parse_mode=HTML``), names escaped."""
    bold = lambda s: f"<b>{s}</b>"  # noqa: E731
    body = _lines(content, lang, bold, html.escape, bold)
    return bold(html.escape(period_title(content.period, lang))) + "\n\n" + "\n".join(body)
