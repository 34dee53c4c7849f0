"""Unsafe-name rules and the bot blacklist."""

import pytest

from tai_assets.analytics.names import DEFAULT_BOTS, is_unsafe_name, real_tlds, unsafe_reason
from tai_assets_tests.support.oracles import is_bot, is_publishable_player


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("visit http://example", "link"),
        ("HTTPS://foo", "link"),
        ("join t.me/channel", "link"),
        ("T.ME/Channel", "link"),
        ("@handle", "handle"),
        ("ask @Some_Admin", "handle"),
        ("best-server.ru", "domain"),
        ("PLAY.SERVER.COM now", "domain"),
        ("my.site.online", "domain"),
        ("сервер.рф", "domain"),
        ("chrono.czo.ooo", "domain"),
        ("RP sex", "obscene"),
        ("S e X  r P", "obscene"),
        ("sexy_rp_world", "obscene"),
        # Spaced out, cased or hidden the way spammers do (the original removed all whitespace).
        ("visit t. me/spam", "link"),
        ("t . m e / spam", "link"),
        ("h t t p s : / / x", "link"),
        ("HtTp://x", "link"),
        ("t\u200b.me/spam", "link"),  # a zero-width space inside
        ("t\u00a0.\u2003me/spam", "link"),  # no-break and em spaces
        ("shop . ru", "domain"),
        ("SHOP\t.\nRU", "domain"),
        ("play . server . com", "domain"),
        ("сервер . рф", "domain"),
        ("@ spam_channel", "handle"),
        ("ask @ Some _ Admin", "handle"),
    ],
)
def test_each_unsafe_rule(name, reason):
    assert unsafe_reason(name) == reason
    assert is_unsafe_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "Ivan_Petrov",
        "Mr.Smith",  # "smith" is not a top-level domain
        "v1.5",
        "file.comics",  # the last label must be a TLD, not start with one
        "Roleplay",  # "rp" needs "sex" too
        "sex_world",  # "sex" needs "rp" too
        "a@b",  # too short to be a handle
        "DM Arena [NEW]",
        "Дрифт",
        "",
    ],
)
def test_safe_names(name):
    assert unsafe_reason(name) is None


def test_tld_list_is_real_and_shipped():
    tlds = real_tlds()
    assert {"com", "ru", "org", "net", "рф", "ooo", "online", "uk", "de"} <= tlds
    assert "smith" not in tlds and "comics" not in tlds
    assert len(tlds) > 300


def test_bot_blacklist_default_and_case():
    for bot in DEFAULT_BOTS:
        assert is_bot(bot)
        assert is_bot(bot.upper())
        assert not is_publishable_player(bot)
    assert not is_bot("KrystallBot2")
    assert is_bot("Custom", bots=["custom"])
    assert not is_bot("KrystallBot", bots=["other"])
    assert is_publishable_player("Ivan_Petrov")
