"""The widget's files and the demo page: served, strict CSP, interface strings in English and
Spanish that never ask for a carrier opt-out word, and no way for text to become markup."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Callable

import pytest
from flask.testing import FlaskClient

from bot.services import Services
from webhook.app import create_app
from webhook.chat import STRINGS_FILE, interface_strings
from webhook.demo import CONTENT_SECURITY_POLICY

OPT_OUT_WORDS = re.compile(r"\b(STOP|STOPALL|UNSUBSCRIBE|CANCEL|END|QUIT|REVOKE|OPTOUT)\b", re.IGNORECASE)
WIDGET_JS = STRINGS_FILE.parent / "widget.js"


@pytest.fixture
def client(make_services: Callable[..., Services]) -> FlaskClient:
    return create_app(services=make_services()).test_client()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        if self.tags and self.tags[-1][0] == "script" and data.strip():
            self.inline_script = True


def test_interface_strings_exist_in_english_and_spanish_with_the_same_keys() -> None:
    strings = interface_strings()
    assert set(strings) == {"en", "es"}
    assert set(strings["en"]) == set(strings["es"])
    assert all(value.strip() for table in strings.values() for value in table.values())
    assert "911" in strings["en"]["emergency"] and "911" in strings["es"]["emergency"]


def test_image_descriptions_and_the_expiry_note_exist_in_both_languages() -> None:
    strings = interface_strings()
    for name in ("image_alt", "expired"):
        assert strings["en"][name] and strings["es"][name] and strings["en"][name] != strings["es"][name]


def test_the_demo_policy_allows_https_images_and_nothing_else_new() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["img-src"].split() == ["'self'", "https:"]  # images in replies; no http:, data: or *
    assert directives["default-src"] == "'none'"
    for name in ("script-src", "style-src", "connect-src"):
        assert directives[name] == "'self'"
    assert directives["frame-ancestors"] == directives["base-uri"] == directives["form-action"] == "'none'"


def test_no_interface_string_mentions_a_carrier_opt_out_word() -> None:
    for language, table in interface_strings().items():
        for name, value in table.items():
            assert not OPT_OUT_WORDS.search(value), f"{language}.{name}: {value!r}"


def test_strings_are_served_to_the_widget(client: FlaskClient) -> None:
    response = client.get("/chat/api/strings")
    assert response.status_code == 200 and response.json == interface_strings()


def test_the_widget_files_are_served(client: FlaskClient) -> None:
    for path, kind in (("/static/widget.js", "javascript"), ("/static/widget.css", "css")):
        response = client.get(path)
        assert response.status_code == 200 and kind in response.mimetype
        response.close()


def test_the_widget_never_turns_text_into_markup() -> None:
    source = WIDGET_JS.read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                 "setAttribute(\"style\"", "setAttribute('style'"):
        assert sink not in source, sink
    assert "textContent" in source and "createTextNode" in source


def test_the_demo_page_carries_the_widget_under_a_strict_policy(client: FlaskClient) -> None:
    response = client.get("/demo")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    parser = _Tags()
    parser.feed(response.get_data(as_text=True))
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert len(scripts) == 1 and scripts[0]["src"] == "/static/widget.js"
    assert scripts[0]["data-language"] == "en" and scripts[0]["data-position"] == "right"
    assert not parser.inline_script
    assert not any("style" in attrs or any(name.startswith("on") for name in attrs) for _, attrs in parser.tags)
    assert ("html", {"lang": "en"}) in parser.tags


def test_the_demo_page_in_spanish(client: FlaskClient) -> None:
    page = client.get("/demo?lang=es").get_data(as_text=True)
    assert '<html lang="es">' in page and 'data-language="es"' in page
    assert '<html lang="en">' in client.get("/demo?lang=xx").get_data(as_text=True)


def test_the_demo_page_is_off_with_real_twilio_but_the_chat_api_stays(make_services: Callable[..., Services]) -> None:
    services = make_services(twilio_account_sid="AC" + "1" * 32, twilio_auth_token="t",
                             twilio_from_number="+15035550100")
    client = create_app(services=services).test_client()
    assert client.get("/demo").status_code == 404
    assert client.post("/chat/api/sessions").status_code == 201
