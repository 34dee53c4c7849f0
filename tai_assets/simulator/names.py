"""Deterministic name generators: SA-MP nicknames (some Cyrillic), world names, logins."""

from __future__ import annotations

import random
import re

MAX_NAME_LEN = 24

LATIN_FIRST = (
    "Alex", "Max", "Ivan", "Dmitry", "Sergey", "Nikita", "Artem", "Kirill", "Egor", "Denis",
    "Oleg", "Pavel", "Roman", "Anton", "Vlad", "Misha", "Sasha", "Tony", "Carl", "Mike",
    "John", "Lena", "Olga", "Anna", "Kate", "Yuri", "Boris", "Gleb", "Ilya", "Timur",
)  # fmt: skip
LATIN_LAST = (
    "Ivanov", "Petrov", "Smirnov", "Kuznetsov", "Popov", "Volkov", "Sokolov", "Lebedev",
    "Kozlov", "Novikov", "Morozov", "Johnson", "Brown", "Vercetti", "Montana", "Rossi",
    "Black", "Stone", "Walker", "Grove", "Frost", "Storm", "Wolf", "Hunter",
)  # fmt: skip
TAGS = ("Sniper", "Drift", "Killer", "Shadow", "Ghost", "Racer", "Boss", "Pro", "Noob", "King")
CYR_FIRST = (
    "Вася", "Петя", "Игрок", "Кирилл", "Дима", "Саша", "Женя", "Серёжа", "Миша", "Олег",
    "Аня", "Катя", "Лёха", "Тёма", "Глеб", "Юра",
)  # fmt: skip
CYR_LAST = ("Пупкин", "Иванов", "Петров", "Сидоров", "Волков", "Снайпер", "Тень", "Король")

WORLD_NAMES = (
    "Freeroam", "DM Arena", "Stunt Park", "Drift Club", "Race Track", "RP City", "Zombie Mod",
    "Parkour", "Sniper Zone", "Derby", "Гонки", "Дрифт", "Стройка", "Полиция против бандитов",
    "Прятки", "Выживание", "Паркур", "Ферма", "Тюрьма", "Аэропорт", "Деревня", "Космос",
    "Лабиринт", "Мост", "Школа", "Пейнтбол", "Battle Royale", "Capture the Flag", "Sumo",
    "TDM", "Copchase", "Автошкола",
)  # fmt: skip
STATIC_WORLD_NAMES = ("Главный мир", "Freeroam", "Стройка")
WORLD_MODES = ("freeroam", "dm", "race", "build", "rp", "minigame")

COLOUR_RE = re.compile(r"\{[0-9A-Fa-f]{6}\}")


def clean_world_name(raw: str) -> str:
    """Return ``raw`` without ``{RRGGBB}`` colour codes."""
    return COLOUR_RE.sub("", raw)


def _one_nick(rng: random.Random, cyrillic: bool) -> str:
    if cyrillic:
        style = rng.randrange(3)
        first, last = rng.choice(CYR_FIRST), rng.choice(CYR_LAST)
        if style == 0:
            return f"{first}_{last}"
        if style == 1:
            return f"{first}_{rng.randrange(1, 999)}"
        return f"{last}{rng.randrange(10, 99)}"
    style = rng.randrange(6)
    first, last = rng.choice(LATIN_FIRST), rng.choice(LATIN_LAST)
    if style in (0, 1):
        return f"{first}_{last}"
    if style == 2:
        return f"{first.lower()}_{last.lower()}{rng.randrange(1, 99)}"
    if style == 3:
        return f"xX_{rng.choice(TAGS)}_Xx"
    if style == 4:
        return f"[{rng.choice(TAGS)[:3].upper()}]{first}"
    return f"{first}.{rng.randrange(1990, 2012)}"


def player_pool(rng: random.Random, size: int, cyrillic_fraction: float) -> list[str]:
    """Return ``size`` distinct nicknames (<= 24 chars), about ``cyrillic_fraction`` Cyrillic."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < size:
        name = _one_nick(rng, rng.random() < cyrillic_fraction)[:MAX_NAME_LEN]
        if name in seen:
            name = f"{name[: MAX_NAME_LEN - 4]}{rng.randrange(1000, 9999)}"
        if name in seen:
            continue
        seen.add(name)
        names.append(name)
    return names


def random_colour(rng: random.Random) -> str:
    """Return a ``{RRGGBB}`` colour code."""
    return f"{{{rng.randrange(0x1000000):06X}}}"


def colourize(rng: random.Random, clean: str) -> str:
    """Return ``clean`` with colour codes inserted before words; stripping them gives ``clean``."""
    words = clean.split(" ")
    out = []
    for index, word in enumerate(words):
        if index == 0 or rng.random() < 0.4:
            out.append(random_colour(rng) + word)
        else:
            out.append(word)
    return " ".join(out)


def login_for(rng: random.Random, account_id: int) -> str:
    """Return a plausible, unique account login for ``account_id``."""
    if rng.random() < 0.15:
        base = f"{rng.choice(CYR_FIRST)}_{rng.choice(CYR_LAST)}"
    else:
        base = f"{rng.choice(LATIN_FIRST)}_{rng.choice(LATIN_LAST)}"
    return f"{base}{account_id}"[:MAX_NAME_LEN]
