"""The fault suite's accounting: which answers of the simulator never reached the spool."""

from tai_assets_tests.support.deployment import ANSWER_TO_STAMP_S, KillWindow, never_spooled


def test_each_spooled_poll_accounts_for_the_answer_just_before_its_stamp():
    answers = [100.0, 105.0, 110.0, 115.0]
    # 105's poll died in flight; 115's poll waited out a retry before its answer was stamped.
    stamps = [100.02, 110.01, 115.0 + ANSWER_TO_STAMP_S - 0.5]
    assert never_spooled(answers, stamps) == [105.0]


def test_an_answer_too_long_before_any_stamp_is_never_spooled():
    assert never_spooled([100.0], [100.0 + ANSWER_TO_STAMP_S + 1]) == [100.0]
    assert never_spooled([100.0, 101.0], []) == [100.0, 101.0]
    # A stamp cannot account for an answer that came after it.
    assert never_spooled([100.0], [99.0]) == [100.0]


def test_a_kill_accounts_only_for_polls_in_flight_when_it_came():
    kill = KillWindow("kill -9 code server", start=200.0, end=201.0)
    assert kill.took(199.9) and kill.took(200.5) and kill.took(200.0 - ANSWER_TO_STAMP_S)
    assert not kill.took(201.1)  # answered after the process was gone: someone else's poll
    assert not kill.took(200.0 - ANSWER_TO_STAMP_S - 0.1)
