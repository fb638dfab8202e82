"""Picture messages (MMS) through the pipeline: pictures are fetched from a local server that
serves media like Twilio and kept before the turn; Rasa (a scripted stand-in that records
what it gets) hears `/send_photo` for a picture with no words, never a media URL."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import select

from bot.services import Services
from bot.storage.models import InboundMedia, MediaState
from tests.fakes.media import SID, TOKEN, FakeMediaHost, gps_jpeg
from tests.fakes.scripted_rasa import ScriptedRasa
from tests.phone import Phone


@pytest.fixture
def rasa() -> Iterator[ScriptedRasa]:
    server = ScriptedRasa(lambda message: [{"text": f"Rasa got: {message}"}]).start()
    yield server
    server.stop()


@pytest.fixture
def services(make_services: Callable[..., Services], rasa: ScriptedRasa, tmp_path: Path) -> Services:
    return make_services(rasa_url=rasa.url, twilio_account_sid=SID, twilio_auth_token=TOKEN,
                         report_photo_dir=tmp_path / "photos", max_turn_attempts=3)


def sent_to_rasa(rasa: ScriptedRasa) -> list[str]:
    return [r["message"] for r in rasa.received if "message" in r]


def media_rows(services: Services) -> list[InboundMedia]:
    with services.db.session() as session:
        return list(session.execute(select(InboundMedia).order_by(InboundMedia.id)).scalars())


def test_a_picture_without_words_reaches_rasa_as_send_photo_and_is_kept(
        services: Services, rasa: ScriptedRasa, fresh_media_host: FakeMediaHost) -> None:
    url = fresh_media_host.put("wall.jpg", gps_jpeg())
    replies = Phone(services).text("", media=[url])
    assert replies == ["Rasa got: /send_photo"]
    assert sent_to_rasa(rasa) == ["/send_photo"]
    [row] = media_rows(services)
    assert row.state == MediaState.STORED and row.url is None
    assert services.photo_store.open(row.photo_key)[:2] == b"\xff\xd8"
    assert "wall.jpg" not in json.dumps(rasa.received)


def test_words_with_a_picture_reach_rasa_as_words(services: Services, rasa: ScriptedRasa,
                                                  fresh_media_host: FakeMediaHost) -> None:
    url = fresh_media_host.put("car.jpg", gps_jpeg())
    assert Phone(services).text("abandoned car on elm st", media=[url]) == ["Rasa got: abandoned car on elm st"]
    assert media_rows(services)[0].state == MediaState.STORED


def test_a_file_that_is_not_a_picture_is_explained_and_rasa_is_not_asked(
        services: Services, rasa: ScriptedRasa, fresh_media_host: FakeMediaHost) -> None:
    url = fresh_media_host.put("notes.pdf", b"%PDF-1.7", "application/pdf")
    [reply] = Phone(services).text("", media=[url])
    assert reply == "That file couldn't be used. Please send a photo (JPG or PNG) under 5 MB."
    assert sent_to_rasa(rasa) == []
    assert media_rows(services)[0].state == MediaState.REFUSED


def test_a_provider_outage_defers_the_turn_until_the_picture_comes(
        services: Services, rasa: ScriptedRasa, fresh_media_host: FakeMediaHost) -> None:
    url = fresh_media_host.put("later.jpg", gps_jpeg())
    fresh_media_host.fail_next("later.jpg", 1)
    replies = Phone(services).text("", media=[url])
    assert replies == ["Rasa got: /send_photo"]  # the retried turn, once
    assert sent_to_rasa(rasa) == ["/send_photo"] and fresh_media_host.requests.count("later.jpg") == 2


def test_a_picture_that_never_comes_is_said_once_after_the_last_attempt(
        services: Services, rasa: ScriptedRasa, fresh_media_host: FakeMediaHost) -> None:
    url = fresh_media_host.put("never.jpg", gps_jpeg())
    fresh_media_host.fail_next("never.jpg", 10)
    replies = Phone(services).text("", media=[url])
    assert replies == ["Sorry, your picture didn't come through. Please try sending it again."]
    assert sent_to_rasa(rasa) == [] and media_rows(services)[0].state == MediaState.FAILED
    assert fresh_media_host.requests.count("never.jpg") == 3


def test_the_size_residents_are_told_is_the_configured_cap(
        make_services: Callable[..., Services], rasa: ScriptedRasa, fresh_media_host: FakeMediaHost,
        tmp_path: Path) -> None:
    services = make_services(rasa_url=rasa.url, twilio_account_sid=SID, twilio_auth_token=TOKEN,
                             report_photo_dir=tmp_path / "photos", report_photo_max_bytes=2 * 1024 * 1024)
    url = fresh_media_host.put("big.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * (3 * 1024 * 1024), "image/jpeg")
    assert Phone(services).text("", media=[url]) == [
        "That file couldn't be used. Please send a photo (JPG or PNG) under 2 MB."]
