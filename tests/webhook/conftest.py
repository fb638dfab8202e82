from __future__ import annotations

import uuid
from typing import Any, Callable, Iterator, Mapping

import pytest
from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from bot.services import Services
from tests.fakes.scripted_rasa import ScriptedRasa
from webhook.app import create_app

PUBLIC = "https://sms.portalder.example"
TOKEN = "twilio-test-token-0123456789abcdef"


def twilio_params(body: str | None = "hi", sender: str = "+15035550123", **extra: str) -> dict[str, str]:
    """The form Twilio posts for an inbound SMS."""
    sid = "SM" + uuid.uuid4().hex
    params = {"ToCountry": "US", "ToState": "OR", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "PORT ALDER",
              "FromZip": "97301", "SmsSid": sid, "FromState": "OR", "SmsStatus": "received", "FromCity": "SALEM",
              "FromCountry": "US", "To": "+15035550100", "ToZip": "97301", "NumSegments": "1",
              "MessageSid": sid, "AccountSid": "AC" + "1" * 32, "From": sender, "ApiVersion": "2010-04-01"}
    if body is not None:
        params["Body"] = body
    params.update(extra)
    return params


def sign(url: str, params: Mapping[str, Any], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, dict(params))


@pytest.fixture
def twilio_services(make_services: Callable[..., Services], fake_twilio) -> Services:  # type: ignore[no-untyped-def]
    fake_twilio.auth_token = TOKEN  # one token signs webhooks and authenticates REST calls, as on Twilio
    return make_services(twilio_account_sid=fake_twilio.account_sid, twilio_auth_token=TOKEN,
                         twilio_from_number="+15035550100", twilio_api_base_url=fake_twilio.base_url,
                         public_base_url=PUBLIC)


@pytest.fixture
def app(twilio_services: Services) -> Flask:
    return create_app(services=twilio_services)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as c:
        yield c


def post_signed(client: FlaskClient, path: str, params: Mapping[str, Any], *, token: str = TOKEN,
                url: str | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    signature = sign(url or PUBLIC + path, params, token)
    return client.post(path, data=dict(params), headers={"X-Twilio-Signature": signature}, **kwargs)


@pytest.fixture
def rasa() -> Iterator[ScriptedRasa]:
    """Rasa's REST channel answering from a script (tests/fakes/scripted_rasa.py)."""
    server = ScriptedRasa().start()
    yield server
    server.stop()
