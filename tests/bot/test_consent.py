from __future__ import annotations

import pytest

from bot.consent import ConsentKeyword, classify


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop \n", "STOPALL", "unsubscribe", "CANCEL", "end", "Quit",
                                  "REVOKE", "optout"])
def test_opt_out_words_opt_out_whatever_the_case(text: str) -> None:
    assert classify(text, opted_out=False) is ConsentKeyword.OPT_OUT
    assert classify(text, opted_out=True) is ConsentKeyword.OPT_OUT


@pytest.mark.parametrize("text", ["START", "start", "UNSTOP", " unstop "])
def test_opt_in_words(text: str) -> None:
    assert classify(text, opted_out=True) is ConsentKeyword.OPT_IN
    assert classify(text, opted_out=False) is ConsentKeyword.OPT_IN


def test_yes_opts_in_only_when_opted_out() -> None:
    assert classify("YES", opted_out=True) is ConsentKeyword.OPT_IN
    assert classify("yes", opted_out=False) is None


@pytest.mark.parametrize("text", ["HELP", "help", "Info", " INFO "])
def test_help_words(text: str) -> None:
    assert classify(text, opted_out=False) is ConsentKeyword.HELP


@pytest.mark.parametrize("text", ["stop this", "please stop", "cancel my signup", "help me", "I need info",
                                  "the end", "", None, "STOP!", "st op"])
def test_only_the_whole_trimmed_message_is_a_keyword(text: str | None) -> None:
    assert classify(text, opted_out=False) is None
