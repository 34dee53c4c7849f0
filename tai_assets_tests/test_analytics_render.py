"""Russian plurals, 5-minute durations and the rendered digest."""

from datetime import date, datetime

import pytest

from tai_assets.analytics.periods import Period
from tai_assets.analytics.render import (
    DigestContent,
    PlayerLine,
    WorldLine,
    count_phrase,
    duration_phrase,
    period_title,
    plural_ru,
    render_markdown,
    render_telegram_html,
    round_minutes,
)

MSK = "Europe/Moscow"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 игроков"),
        (1, "1 игрок"),
        (2, "2 игрока"),
        (4, "4 игрока"),
        (5, "5 игроков"),
        (11, "11 игроков"),
        (12, "12 игроков"),
        (14, "14 игроков"),
        (21, "21 игрок"),
        (22, "22 игрока"),
        (25, "25 игроков"),
        (101, "101 игрок"),
        (111, "111 игроков"),
        (1000, "1000 игроков"),
    ],
)
def test_russian_plurals(n, text):
    assert count_phrase(n, "player", "ru") == text


def test_english_plurals_and_forms():
    assert count_phrase(1, "player", "en") == "1 player"
    assert count_phrase(2, "session", "en") == "2 sessions"
    assert plural_ru(3, "a", "b", "c") == "b"


@pytest.mark.parametrize(
    ("hours", "minutes"),
    [(0, 0), (2 / 60, 0), (2.5 / 60, 5), (7 / 60, 5), (7.5 / 60, 10), (1 + 58 / 60, 120)],
)
def test_round_to_five_minutes(hours, minutes):
    assert round_minutes(hours) == minutes


def test_duration_phrases():
    assert duration_phrase(2 + 34 / 60) == "2 часа 35 минут"
    assert duration_phrase(1.0) == "1 час"
    assert duration_phrase(21 + 1 / 60) == "21 час"
    assert duration_phrase(5 / 60) == "5 минут"
    assert duration_phrase(0.0) == "0 минут"
    assert duration_phrase(1 + 1 / 12, "en") == "1 hour 5 minutes"


def test_titles():
    assert period_title(Period("day", date(2026, 1, 5), MSK)) == "Итоги дня: 5 января 2026"
    assert period_title(Period("week", date(2026, 1, 5), MSK)) == "Итоги недели: 5–11 января 2026"
    assert (
        period_title(Period("week", date(2025, 12, 29), MSK))
        == "Итоги недели: 29 декабря 2025–4 января 2026"
    )
    assert period_title(Period("month", date(2026, 2, 1), MSK)) == "Итоги месяца: февраль 2026"
    assert period_title(Period("year", date(2025, 1, 1), MSK), "en") == "Yearly digest: 2025"


def _content() -> DigestContent:
    return DigestContent(
        period=Period("week", date(2026, 1, 5), MSK),
        top_players=[PlayerLine("Ivan_Petrov", 5 + 33 / 60, 3), PlayerLine("A*B", 1.0, 1)],
        top_worlds=[
            WorldLine("Drift <3", 12.34, 9, 2.0, True),
            WorldLine("DM", 1.0, 5, 0.5, False),
        ],
        peak_online=21,
        peak_online_at=datetime(2026, 1, 6, 18, 30),  # 21:30 MSK
        active_players=2,
        sessions=4,
    )


def test_markdown_digest_in_russian():
    text = render_markdown(_content())
    assert text.startswith("# Итоги недели: 5–11 января 2026\n")
    assert "**Пик онлайна:** 21 игрок (6 января, 21:30)" in text
    assert "1. **Ivan\\_Petrov** — 5 часов 35 минут (3 сессии)" in text
    assert "2. **A\\*B** — 1 час (1 сессия)" in text
    assert "1. 🔥 **Drift \\<3** — пик 9 игроков, 2 часа, очки 12.3" in text
    assert "2. **DM** — пик 5 игроков, 30 минут, очки 1.0" in text


def test_english_and_telegram_and_empty():
    en = render_markdown(_content(), "en")
    assert "**Peak online:** 21 players (January 6, 21:30)" in en
    html_text = render_telegram_html(_content())
    assert "<b>Drift &lt;3</b>" in html_text
    empty = render_markdown(DigestContent(period=Period("day", date(2026, 1, 5), MSK)))
    assert "нет данных" in empty and "Никто не играл." in empty
    assert "Ни один мир не прошёл отбор." in empty
