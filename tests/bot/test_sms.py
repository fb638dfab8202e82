from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sms import (
    GSM7_BASIC,
    GSM7_EXTENDED,
    Button,
    SegmentInfo,
    is_gsm7,
    menu_choice,
    normalize_gsm,
    render_menu,
    segment_count,
    segment_info,
    truncate_sms,
)

EMOJI = "\U0001F600"

# -- alphabet ------------------------------------------------------------------------------


def test_tables_are_the_gsm_03_38_tables() -> None:
    assert len(GSM7_BASIC) == 127  # 128 positions less the escape
    for ch in "éèùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉÄÖÑÜ§¿äöñüà¡£¥¤@$\n\r":
        assert ch in GSM7_BASIC, ch
    assert set("^{}\\[]~|€") <= GSM7_EXTENDED
    assert not GSM7_BASIC & GSM7_EXTENDED
    for ch in "áíóúÁÍÓÚêçãõ`\t’“…–":
        assert ch not in GSM7_BASIC and ch not in GSM7_EXTENDED, ch


def test_is_gsm7() -> None:
    assert is_gsm7("Hola, ¿cómo?".replace("ó", "o"))
    assert is_gsm7("price: 5€ [approx]")
    assert is_gsm7("")
    assert not is_gsm7("¿Cómo?")
    assert not is_gsm7("ok " + EMOJI)


# -- segments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_segment_boundaries(length: int, segments: int) -> None:
    assert segment_count("a" * length) == segments
    assert segment_info("a" * length) == SegmentInfo("GSM-7", length, segments)


@pytest.mark.parametrize(
    ("length", "segments"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_ucs2_segment_boundaries(length: int, segments: int) -> None:
    assert segment_count("á" * length) == segments
    assert segment_info("á" * length) == SegmentInfo("UCS-2", length, segments)


def test_empty_text_has_no_segments() -> None:
    assert segment_count("") == 0
    assert segment_info("") == SegmentInfo("GSM-7", 0, 0)


def test_extension_characters_count_two() -> None:
    assert segment_info("€") == SegmentInfo("GSM-7", 2, 1)
    assert segment_count("a" * 158 + "{") == 1
    assert segment_count("a" * 159 + "{") == 2
    assert segment_info("^{}\\[]~|€").units == 18
    assert segment_count("[" * 80) == 1
    assert segment_count("[" * 81) == 2


def test_escape_pair_is_not_split_across_parts() -> None:
    # 152 septets then a two-septet character: it cannot start in part one.
    assert segment_count("a" * 152 + "€" + "a" * 152) == 3
    assert segment_count("a" * 151 + "€" + "a" * 153) == 2


def test_emoji_counts_two_units() -> None:
    assert segment_info(EMOJI) == SegmentInfo("UCS-2", 2, 1)
    assert segment_count("a" * 68 + EMOJI) == 1
    assert segment_count("a" * 69 + EMOJI) == 2
    assert segment_count(EMOJI * 35) == 1
    assert segment_count(EMOJI * 36) == 2
    # a surrogate pair cannot straddle two parts
    assert segment_count("a" * 66 + EMOJI + "a" * 66) == 3


def test_one_non_gsm_character_switches_the_whole_message() -> None:
    assert segment_count("a" * 100) == 1
    assert segment_count("a" * 99 + "á") == 2


# -- normalization -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u201cHello\u201d", '"Hello"'),
        ("it\u2019s the neighbor\u2018s", "it's the neighbor's"),
        ("\u201eQuote\u201f \u00abguillemets\u00bb", '"Quote" "guillemets"'),
        ("9am\u20135pm \u2014 Mon\u2013Fri", "9am-5pm - Mon-Fri"),
        ("\u22125 degrees", "-5 degrees"),
        ("wait\u2026", "wait..."),
        ("a\u00a0b\u2009c\u202fd\u3000e\tf", "a b c d e f"),
        ("zero\u200bwidth\ufeff\u2060\u00ad", "zerowidth"),
        ("\u2022 first\n\u2022 second", "- first\n- second"),
        ("\u00bfC\u00f3mo est\u00e1? S\u00ed, ma\u00f1ana", "\u00bfComo esta? Si, ma\u00f1ana"),
        ("\u00c1REA \u00cdNDICE \u00d3RDEN \u00daLTIMO", "AREA INDICE ORDEN ULTIMO"),
        ("se\u00f1or ni\u00f1o ping\u00fcino \u00a1ya!", "se\u00f1or ni\u00f1o ping\u00fcino \u00a1ya!"),
        ("caf\u00e9 cr\u00eape fran\u00e7ais \u00c7a", "caf\u00e9 crepe francais \u00c7a"),
        ("e\u0301 = \u00e9", "\u00e9 = \u00e9"),  # decomposed accents are composed first
        ("\u00e8 \u00f9 \u00ec \u00f2 \u00e0 \u00c9 \u00c4 \u00d6 \u00dc \u00df", "\u00e8 \u00f9 \u00ec \u00f2 \u00e0 \u00c9 \u00c4 \u00d6 \u00dc \u00df"),
        ("Reuni\u00f3n: 7\u00bd h, \u00bc", "Reunion: 7 1/2 h, 1/4"),
    ],
)
def test_normalize_examples(text: str, expected: str) -> None:
    assert normalize_gsm(text) == expected
    assert is_gsm7(normalize_gsm(text))


def test_spanish_sentence_becomes_one_gsm_segment() -> None:
    text = "\u00bfC\u00f3mo est\u00e1? S\u00ed, ma\u00f1ana"
    assert segment_info(text).encoding == "UCS-2"
    assert segment_info(normalize_gsm(text)).encoding == "GSM-7"


def test_characters_without_equivalent_are_kept() -> None:
    assert normalize_gsm("Thanks " + EMOJI) == "Thanks " + EMOJI
    assert normalize_gsm("\u8b66\u5bdf") == "\u8b66\u5bdf"
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"
    assert normalize_gsm(family) == family  # the joiner carries the emoji's meaning


def test_accents_stay_when_the_message_is_ucs2_anyway() -> None:
    # Dropping them would save nothing once the emoji forces UCS-2.
    assert normalize_gsm("\u00a1Gracias! Reuni\u00f3n ma\u00f1ana " + EMOJI) == "\u00a1Gracias! Reuni\u00f3n ma\u00f1ana " + EMOJI
    # Free typography fixes still apply.
    assert normalize_gsm("\u201cok\u201d " + EMOJI) == '"ok" ' + EMOJI


def test_ordinal_indicator_is_not_turned_into_a_word() -> None:
    assert "n\u00ba" in normalize_gsm("Caso n\u00ba 5")


def test_gsm_text_is_unchanged() -> None:
    text = "Call 911 for emergencies. Office: 555-0100 {Mon-Fri} \u20ac5 \u00e9\u00f1"
    assert normalize_gsm(text) == text


def test_many_ellipses_do_not_cost_more_segments() -> None:
    text = "\u2026" * 70 + "\u00e1"
    assert segment_count(normalize_gsm(text)) <= segment_count(text)


_LATIN = st.characters(min_codepoint=0x20, max_codepoint=0x24F, categories=("Lu", "Ll", "Zs", "Po", "Pd", "Pi", "Pf", "Ps", "Pe"))
_SPECIAL = st.sampled_from(list("\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u2022\u00a0\u200b\u2009\u00bf\u00a1 .,;:!?-'\"\n"))
_TEXT = st.text(st.one_of(_LATIN, _SPECIAL), max_size=400)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_normalize_is_idempotent_and_never_costs_more(text: str) -> None:
    once = normalize_gsm(text)
    assert normalize_gsm(once) == once
    assert segment_count(once) <= segment_count(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_normalize_is_idempotent_for_any_text(text: str) -> None:
    once = normalize_gsm(text)
    assert normalize_gsm(once) == once


# -- truncation ----------------------------------------------------------------------------


def test_short_text_is_not_truncated() -> None:
    assert truncate_sms("hello") == "hello"
    assert truncate_sms("a" * 1600) == "a" * 1600


def test_truncation_cuts_on_a_word_boundary() -> None:
    text = ("word " * 400).strip()
    cut = truncate_sms(text)
    assert len(cut) <= 1600
    assert cut.endswith("word...")
    assert cut[:-3].split(" ")[-1] == "word"


def test_truncation_with_small_limit() -> None:
    assert truncate_sms("the quick brown fox jumps", 15) == "the quick..."
    assert truncate_sms("hello world, again and again", 16) == "hello world..."


def test_truncation_of_one_long_word_cuts_inside_it() -> None:
    assert truncate_sms("x" * 30, 10) == "xxxxxxx..."


def test_truncation_counts_emoji_as_two() -> None:
    cut = truncate_sms(EMOJI * 10, 10)
    assert cut == EMOJI * 3 + "..."


def test_truncation_rejects_tiny_limit() -> None:
    with pytest.raises(ValueError):
        truncate_sms("hello world", 3)


# -- menus ---------------------------------------------------------------------------------

BUTTONS = [
    Button("Community meetings", "/list_meetings"),
    Button("Report a problem", "/report_incident"),
    Button("Report status", "/check_report_status"),
]
ES_BUTTONS = [
    Button("Reuniones comunitarias", "/list_meetings"),
    Button("Reportar un problema", "/report_incident"),
    Button("Estado de reporte", "/check_report_status"),
    Button("Sí", "/affirm"),
]


def test_render_menu_in_english() -> None:
    assert render_menu("How can I help?", BUTTONS, "en") == (
        "How can I help?\n\nReply with a number:\n1 - Community meetings\n2 - Report a problem\n3 - Report status"
    )


def test_render_menu_in_spanish_normalizes_to_gsm() -> None:
    rendered = render_menu("¿En qué le ayudo?", ES_BUTTONS, "es")
    assert "Responda con un número:" in rendered
    sent = normalize_gsm(rendered)
    assert is_gsm7(sent)
    assert "Responda con un numero:\n1 - Reuniones comunitarias\n2 - Reportar un problema" in sent
    assert "4 - Si" in sent


def test_render_menu_never_shows_payloads() -> None:
    rendered = render_menu("Hi", BUTTONS, "en")
    assert "/" not in rendered


def test_render_menu_without_buttons_is_the_text() -> None:
    assert render_menu("Just text", [], "en") == "Just text"


def test_render_menu_unknown_language_falls_back_to_english() -> None:
    assert "Reply with a number:" in render_menu("Hi", BUTTONS, "fr")
    assert "Responda con un número:" in render_menu("Hola", BUTTONS, "es-MX")


def test_render_menu_keeps_each_title_on_one_line() -> None:
    rendered = render_menu("", [Button("Two\nlines", "/x")], "en")
    assert rendered == "Reply with a number:\n1 - Two lines"


@pytest.mark.parametrize(
    ("reply", "index"),
    [
        ("1", 0), (" 2 ", 1), ("2.", 1), ("#2", 1), ("# 3", 2), ("2)", 1), ("3!", 2),
        ("option 2", 1), ("Option 3", 2), ("opcion 2", 1), ("opción 2", 1), ("OPCIÓN 1", 0),
        ("one", 0), ("Two", 1), ("three", 2), ("uno", 0), ("dos", 1), ("Tres", 2),
        ("option two", 1), ("opción dos", 1), ("number 3", 2), ("\uff12", 1),
        ("community meetings", 0), ("REPORT A PROBLEM", 1), ("  Report status. ", 2),
    ],
)
def test_menu_choice_forms(reply: str, index: int) -> None:
    assert menu_choice(reply, BUTTONS) == BUTTONS[index]


@pytest.mark.parametrize(
    ("reply", "index"),
    [("cuatro", 3), ("si", 3), ("Sí", 3), ("SI!", 3), ("reportar un problema", 1), ("estado de reporte", 2)],
)
def test_menu_choice_titles_are_accent_insensitive(reply: str, index: int) -> None:
    assert menu_choice(reply, ES_BUTTONS) == ES_BUTTONS[index]


@pytest.mark.parametrize(
    "reply",
    ["0", "4", "10", "ten", "diez", "option 4", "-1", "1 2", "2 please", "hello", "report", "",
     "   ", "option", "#", "12345", "1st", "call me at 5", "I want option 2 and 3"],
)
def test_menu_choice_rejects_out_of_range_and_garbage(reply: str) -> None:
    assert menu_choice(reply, BUTTONS) is None


def test_menu_choice_up_to_ten_words() -> None:
    buttons = [Button(f"Item {i}", f"/item{i}") for i in range(1, 11)]
    words_en = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    words_es = ["uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez"]
    for i, (en, es) in enumerate(zip(words_en, words_es)):
        assert menu_choice(en, buttons) == buttons[i]
        assert menu_choice(es, buttons) == buttons[i]
        assert menu_choice(str(i + 1), buttons) == buttons[i]
    assert menu_choice("11", buttons) is None


def test_menu_choice_without_menu() -> None:
    assert menu_choice("1", []) is None
