"""The Open311 GeoReport v2 client against a local server that speaks the protocol."""
from __future__ import annotations

import logging
import traceback
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
import requests

from bot.reports.open311 import (
    Open311BadAnswer,
    Open311Client,
    Open311Config,
    Open311ConfigError,
    Open311Error,
    Open311Rejected,
    Open311Unavailable,
    ReportSubmission,
)
from bot.settings import Settings
from tests.fakes.open311 import FakeOpen311

CODES = {"graffiti": "GRF-01", "noise": "NOISE", "abandoned_vehicle": "AV", "pothole": "POT-9"}
GRAFFITI = ReportSubmission(report_type="graffiti", description="Tags on the wall behind the library",
                            address_string="400 Main St, Port Alder")


@pytest.fixture
def fake(open311_server: FakeOpen311) -> FakeOpen311:
    open311_server.reset()
    return open311_server


def _client(fake: FakeOpen311, **config: Any) -> Open311Client:
    settings: dict[str, Any] = {"base_url": fake.base_url + "/", "api_key": fake.api_key,
                                "service_codes": CODES, "timeout": 5.0, **config}
    return Open311Client(Open311Config(**settings))


# -- settings ---------------------------------------------------------------------------------

def test_settings_read_the_open311_variables() -> None:
    settings = Settings.from_env({"OPEN311_BASE_URL": "https://311.portalder.example/open311/v2/",
                                  "OPEN311_API_KEY": " k-123 ", "OPEN311_JURISDICTION_ID": "portalder.or.us",
                                  "OPEN311_SERVICE_CODES": "graffiti=GRF-01, noise = NOISE,,",
                                  "OPEN311_TIMEOUT": "4.5"})
    assert settings.open311_enabled
    assert settings.open311_base_url == "https://311.portalder.example/open311/v2"
    assert settings.open311_api_key == "k-123" and "k-123" not in repr(settings)
    assert settings.open311_service_codes == {"graffiti": "GRF-01", "noise": "NOISE"}
    assert settings.open311_jurisdiction_id == "portalder.or.us" and settings.open311_timeout == 4.5
    config = Open311Config.from_settings(settings)
    assert config.base_url == "https://311.portalder.example/open311/v2" and config.timeout == 4.5
    assert "k-123" not in repr(config)


def test_settings_default_to_no_open311() -> None:
    settings = Settings.from_env({})
    assert not settings.open311_enabled and settings.open311_service_codes == {}
    assert settings.open311_timeout == 10.0


@pytest.mark.parametrize("codes", ["graffiti", "graffiti=", "=GRF-01", "graffiti=A,graffiti=B"])
def test_a_malformed_service_code_list_stops_start_up(codes: str) -> None:
    with pytest.raises(ValueError, match="OPEN311_SERVICE_CODES"):
        Settings.from_env({"OPEN311_SERVICE_CODES": codes})


def test_config_from_settings_names_what_is_missing() -> None:
    settings = Settings.from_env({"OPEN311_BASE_URL": "https://311.portalder.example"})
    with pytest.raises(Open311ConfigError, match="OPEN311_API_KEY, OPEN311_SERVICE_CODES"):
        Open311Config.from_settings(settings)


# -- submitting ---------------------------------------------------------------------------------

def test_submit_sends_the_spec_fields_form_encoded(fake: FakeOpen311) -> None:
    fake.jurisdiction_id = "portalder.or.us"
    report = ReportSubmission(
        report_type="noise", description="Loud generator every night", address_string="12 Elm St",
        media_url="https://media.portalder.example/r/1.jpg", first_name="Ana", last_name="Ruiz",
        email="ana@example.org", phone="+15035550150", device_id="sms-3f9a", account_id="resident-77",
        attributes={"WHEN": "nights", "DAYS": ["mon", "tue"]})
    result = _client(fake, jurisdiction_id="portalder.or.us").submit(report)

    (call,) = fake.calls_to("POST", "requests")
    assert call.path == "/requests.json" and call.content_type == "application/x-www-form-urlencoded"
    assert call.form == {
        "api_key": [fake.api_key], "jurisdiction_id": ["portalder.or.us"], "service_code": ["NOISE"],
        "description": ["Loud generator every night"], "address_string": ["12 Elm St"],
        "media_url": ["https://media.portalder.example/r/1.jpg"], "device_id": ["sms-3f9a"],
        "account_id": ["resident-77"], "first_name": ["Ana"], "last_name": ["Ruiz"],
        "email": ["ana@example.org"], "phone": ["+15035550150"],
        "attribute[WHEN]": ["nights"], "attribute[DAYS][]": ["mon", "tue"]}
    assert call.query == {}  # the key travels in the body only
    assert result.request_id == fake.created[0].request_id and not result.pending and result.token is None
    assert result.service_notice == "Noise reports are reviewed by the next shift."
    assert result.account_id == "resident-77"


def test_an_anonymous_report_carries_no_contact_fields(fake: FakeOpen311) -> None:
    report = ReportSubmission(report_type="graffiti", description="Tags", lat=45.5231, long=-122.6765,
                              anonymous=True, first_name="Ana", last_name="Ruiz", email="ana@example.org",
                              phone="+15035550150")
    _client(fake).submit(report)
    form = fake.created[0].form
    assert not {"first_name", "last_name", "email", "phone"} & set(form)
    assert form["lat"] == ["45.5231"] and form["long"] == ["-122.6765"] and "address_string" not in form
    assert form["service_code"] == ["GRF-01"] and "media_url" not in form


def test_the_report_type_picks_the_service_code(fake: FakeOpen311) -> None:
    client = _client(fake)
    client.submit(GRAFFITI)
    client.submit(ReportSubmission(report_type="abandoned_vehicle", description="Grey van, 5 days",
                                   address_string="Oak Ave & 3rd"))
    assert [r.service_code for r in fake.created] == ["GRF-01", "AV"]


def test_an_unknown_report_type_is_a_config_error_and_sends_nothing(fake: FakeOpen311) -> None:
    with pytest.raises(Open311ConfigError, match="'fireworks'"):
        _client(fake).submit(ReportSubmission(report_type="fireworks", description="x", address_string="y"))
    assert fake.calls == []


def test_a_report_needs_a_whole_location() -> None:
    with pytest.raises(ValueError):
        ReportSubmission(report_type="graffiti", description="x")
    with pytest.raises(ValueError):
        ReportSubmission(report_type="graffiti", description="x", lat=45.5)


def test_the_injected_session_is_used(fake: FakeOpen311) -> None:
    session = requests.Session()
    session.headers["User-Agent"] = "resident-outreach-assistant/test"
    Open311Client(Open311Config(base_url=fake.base_url, api_key=fake.api_key, service_codes=CODES),
                  session=session).submit(GRAFFITI)
    assert fake.calls[0].headers["user-agent"] == "resident-outreach-assistant/test"


def test_a_token_answer_resolves_once_the_server_assigns_an_id(fake: FakeOpen311) -> None:
    fake.answer_with_tokens = True
    client = _client(fake)
    result = client.submit(GRAFFITI)
    assert result.pending and result.request_id is None and result.token
    assert client.resolve_token(result.token) is None
    request_id = fake.assign(result.token)
    assert client.resolve_token(result.token) == request_id
    assert client.status(request_id).status == "open"
    assert fake.calls_to("GET", f"tokens/{result.token}")[0].path == f"/tokens/{result.token}.json"


def test_a_token_resolves_over_xml_too(fake: FakeOpen311) -> None:
    fake.answer_with_tokens = True
    client = _client(fake, response_format="xml")
    token = client.submit(GRAFFITI).token
    assert token and client.resolve_token(token) is None  # <service_request_id/> while unassigned
    request_id = fake.assign(token)
    assert client.resolve_token(token) == request_id
    assert fake.calls[-1].path == f"/tokens/{token}.xml"


def test_an_unknown_token_is_rejected(fake: FakeOpen311) -> None:
    with pytest.raises(Open311Rejected) as raised:
        _client(fake).resolve_token("no-such-token")
    assert raised.value.code == 404


# -- statuses -------------------------------------------------------------------------------------

def test_status_and_notes_as_json(fake: FakeOpen311) -> None:
    client = _client(fake)
    request_id = client.submit(GRAFFITI).request_id
    assert request_id
    opened = client.status(request_id)
    assert opened.status == "open" and not opened.closed and opened.status_notes is None
    assert opened.agency_responsible == "Port Alder Police Department" and opened.service_code == "GRF-01"

    fake.set_status(request_id, "closed", notes="Painted over by Public Works.", updated="2026-11-25T17:30:00Z")
    closed = client.status(request_id)
    assert closed.closed and closed.status_notes == "Painted over by Public Works."
    assert closed.updated_datetime == datetime(2026, 11, 25, 17, 30, tzinfo=timezone.utc)


def test_status_and_notes_from_an_xml_only_server(fake: FakeOpen311) -> None:
    fake.formats = ("xml",)
    client = _client(fake, response_format="xml")
    submitted = client.submit(ReportSubmission(report_type="graffiti", description="Tags & more <b>",
                                               address_string="400 Main St",
                                               media_url="https://media.portalder.example/g.jpg"))
    assert submitted.request_id and fake.calls[0].path == "/requests.xml"
    fake.set_status(submitted.request_id, "closed", notes="Duplicate of 638001 & closed",
                    updated="2026-11-25T09:30:00-08:00", agency="Public Works")
    status = client.status(submitted.request_id)
    assert status.closed and status.status_notes == "Duplicate of 638001 & closed"
    assert status.agency_responsible == "Public Works"
    assert status.media_url == "https://media.portalder.example/g.jpg"
    assert status.updated_datetime is not None and status.updated_datetime.utcoffset() == timedelta(hours=-8)


def test_an_xml_answer_on_a_json_endpoint_is_read_by_its_content_type(fake: FakeOpen311) -> None:
    fake.answer_next('<?xml version="1.0" encoding="UTF-8"?><service_requests><request>'
                     "<service_request_id>293944</service_request_id><service_notice>Thanks</service_notice>"
                     "<account_id/></request></service_requests>", content_type="text/xml; charset=utf-8")
    result = _client(fake).submit(GRAFFITI)
    assert result.request_id == "293944" and result.service_notice == "Thanks" and result.account_id is None


def test_bulk_statuses_in_one_call(fake: FakeOpen311) -> None:
    client = _client(fake)
    ids = [client.submit(GRAFFITI).request_id for _ in range(3)]
    fake.set_status(str(ids[1]), "closed", notes="Cleaned")
    before = len(fake.calls)
    found = client.statuses([*map(str, ids), "999999", str(ids[0])])
    (call,) = fake.calls[before:]
    assert call.path == "/requests.json" and call.query["service_request_id"] == [",".join(map(str, ids)) + ",999999"]
    assert set(found) == set(map(str, ids))  # unknown ids are simply absent
    assert found[str(ids[1])].closed and found[str(ids[1])].status_notes == "Cleaned"
    assert not found[str(ids[0])].closed
    assert client.statuses([]) == {} and len(fake.calls) == before + 1


def test_search_filters_by_service_code_and_dates(fake: FakeOpen311) -> None:
    """The spec's list query: what a caller uses to find a report a timed-out POST created."""
    client = _client(fake)
    fake.requested_datetime = "2026-11-24T09:00:00-08:00"  # 17:00 UTC
    early = client.submit(GRAFFITI).request_id
    fake.requested_datetime = "2026-11-26T09:00:00-08:00"
    late = client.submit(GRAFFITI).request_id
    vehicle = client.submit(ReportSubmission(report_type="abandoned_vehicle", description="Grey van",
                                             address_string="Oak Ave & 3rd")).request_id
    fake.set_status(str(late), "closed", notes="Cleaned", updated="2026-11-26T12:00:00-08:00")
    before = len(fake.calls)
    found = client.search("GRF-01", start=datetime(2026, 11, 24, 16, 0), end=datetime(2026, 11, 25, 0, 0))
    (call,) = fake.calls[before:]
    assert call.path == "/requests.json" and call.query == {
        "service_code": ["GRF-01"], "start_date": ["2026-11-24T16:00:00Z"], "end_date": ["2026-11-25T00:00:00Z"]}
    assert [s.request_id for s in found] == [early]
    assert found[0].description == GRAFFITI.description and found[0].status == "open"
    assert [s.request_id for s in client.search("GRF-01")] == [early, late]
    assert [s.request_id for s in client.search(start=datetime(2026, 11, 25, tzinfo=timezone.utc))] == [late, vehicle]
    assert [s.request_id for s in client.search(status="closed")] == [late]
    assert [s.request_id for s in _client(fake, response_format="xml").search("AV")] == [vehicle]


def test_search_does_not_list_requests_known_only_by_a_token(fake: FakeOpen311) -> None:
    fake.answer_with_tokens = True
    client = _client(fake)
    token = client.submit(GRAFFITI).token
    assert token and client.search("GRF-01") == []
    request_id = fake.assign(token)
    assert [s.request_id for s in client.search("GRF-01")] == [request_id]


def test_search_over_more_than_90_days_is_refused(fake: FakeOpen311) -> None:
    with pytest.raises(Open311Rejected) as raised:
        _client(fake).search("GRF-01", start=datetime(2026, 1, 1), end=datetime(2026, 6, 1))
    assert raised.value.code == 400


def test_services_and_missing_codes(fake: FakeOpen311) -> None:
    for fmt in ("json", "xml"):
        client = _client(fake, response_format=fmt)
        services = {s.code: s for s in client.services()}
        assert set(services) == {"GRF-01", "NOISE", "AV"}
        assert services["NOISE"].metadata and not services["GRF-01"].metadata
        assert services["GRF-01"].keywords == ("graffiti", "tagging") and services["AV"].group == "traffic"
        assert client.missing_service_codes() == {"pothole": "POT-9"}


# -- errors -----------------------------------------------------------------------------------------

def test_an_error_array_is_a_rejection_with_its_description(fake: FakeOpen311) -> None:
    noise = ReportSubmission(report_type="noise", description="Music", address_string="12 Elm St")
    for fmt in ("json", "xml"):
        with pytest.raises(Open311Rejected) as raised:
            _client(fake, response_format=fmt).submit(noise)
        assert raised.value.code == 400
        assert raised.value.description == "attribute WHEN is required for service NOISE"
    assert fake.created == []


def test_an_unknown_service_code_on_the_server_is_rejected(fake: FakeOpen311) -> None:
    with pytest.raises(Open311Rejected, match="POT-9"):
        _client(fake).submit(ReportSubmission(report_type="pothole", description="x", address_string="y"))


def test_the_server_checks_the_location_too(fake: FakeOpen311) -> None:
    """The fake refuses what a real server refuses, so the client's own check is not the only one."""
    response = requests.post(fake.base_url + "/requests.json", timeout=5,
                             data={"api_key": fake.api_key, "service_code": "GRF-01", "description": "x"})
    assert response.status_code == 400 and "location" in response.json()[0]["description"]


def test_a_bad_api_key_is_rejected_with_403(fake: FakeOpen311) -> None:
    with pytest.raises(Open311Rejected) as raised:
        _client(fake, api_key="wrong-key-123").submit(GRAFFITI)
    assert raised.value.code == 403 and "api_key" in raised.value.description
    assert fake.created == []


def test_an_unknown_request_is_rejected_with_404(fake: FakeOpen311) -> None:
    for fmt in ("json", "xml"):
        with pytest.raises(Open311Rejected) as raised:
            _client(fake, response_format=fmt).status("424242")
        assert raised.value.code == 404


def test_503_is_unavailable_and_a_retry_creates_exactly_one_request(fake: FakeOpen311) -> None:
    client = _client(fake)
    fake.fail_next(2)
    for _ in range(2):
        with pytest.raises(Open311Unavailable, match="503") as raised:
            client.submit(GRAFFITI)
        assert not raised.value.ambiguous  # 503: the server did not process it
    assert client.submit(GRAFFITI).request_id
    assert len(fake.created) == 1 and len(fake.calls_to("POST", "requests")) == 3


def test_a_server_that_hangs_past_the_timeout_is_unavailable(fake: FakeOpen311) -> None:
    client = _client(fake, timeout=0.3)
    fake.hang_next()
    with pytest.raises(Open311Unavailable, match="ReadTimeout") as raised:
        client.submit(GRAFFITI)
    assert raised.value.ambiguous  # the client cannot know whether the server acted on it
    fake.release()
    assert fake.created == []
    assert client.submit(GRAFFITI).request_id and len(fake.created) == 1


def test_a_timeout_can_hide_a_created_request(fake: FakeOpen311) -> None:
    """Open311 has no idempotency key: callers must not assume a timed-out POST created nothing."""
    fake.hang_next(create=True)
    with pytest.raises(Open311Unavailable):
        _client(fake, timeout=0.3).submit(GRAFFITI)
    fake.release()
    assert len(fake.created) == 1


def test_an_unreachable_server_is_unavailable() -> None:
    stopped = FakeOpen311().start()
    url = stopped.base_url
    stopped.stop()
    with pytest.raises(Open311Unavailable, match="ConnectionError") as raised:
        Open311Client(Open311Config(base_url=url, api_key="k", service_codes=CODES, timeout=1)).status("1")
    assert not raised.value.ambiguous  # refused while connecting: nothing was sent


@pytest.mark.parametrize("status, ambiguous", [(500, True), (502, True), (504, True), (503, False), (429, False)])
def test_which_http_failures_may_hide_a_created_request(fake: FakeOpen311, status: int, ambiguous: bool) -> None:
    fake.answer_next("<html>oops</html>", "text/html", status=status)
    with pytest.raises(Open311Unavailable) as raised:
        _client(fake).submit(GRAFFITI)
    assert raised.value.ambiguous is ambiguous


def test_a_dropped_connection_is_ambiguous(fake: FakeOpen311) -> None:
    """The server took the request and closed the connection without answering."""
    fake.drop_next(create=True)
    with pytest.raises(Open311Unavailable, match="ConnectionError") as raised:
        _client(fake).submit(GRAFFITI)
    assert raised.value.ambiguous and len(fake.created) == 1


@pytest.mark.parametrize("body, content_type", [
    ("{not json", "application/json"),
    ("[1, 2]", "application/json"),
    ('[{"service_notice": "no id"}]', "application/json"),
    ("[]", "application/json"),
    ("<service_requests><request>", "text/xml"),
    ("\xff\xfe".encode("latin-1"), "application/json"),
])
def test_a_malformed_answer_is_a_bad_answer(fake: FakeOpen311, body: str | bytes, content_type: str) -> None:
    fake.answer_next(body, content_type)
    with pytest.raises(Open311BadAnswer):
        _client(fake).submit(GRAFFITI)


def test_a_status_without_status_is_a_bad_answer(fake: FakeOpen311) -> None:
    fake.answer_next('[{"service_request_id": 638344}]')
    with pytest.raises(Open311BadAnswer):
        _client(fake).status("638344")


def test_an_xml_answer_with_a_doctype_is_refused_before_parsing(fake: FakeOpen311) -> None:
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
              "<service_requests><request><service_request_id>&lol2;</service_request_id></request>"
              "</service_requests>")
    fake.answer_next(laughs, "text/xml")
    with pytest.raises(Open311BadAnswer, match="DOCTYPE"):
        _client(fake, response_format="xml").submit(GRAFFITI)


def test_an_html_error_page_is_a_rejection_by_http_status(fake: FakeOpen311) -> None:
    fake.answer_next("<!DOCTYPE html><html><body>Forbidden</body></html>", "text/html", status=403)
    with pytest.raises(Open311Rejected) as raised:
        _client(fake).submit(GRAFFITI)
    assert raised.value.code == 403


def test_an_error_array_with_a_5xx_code_is_unavailable(fake: FakeOpen311) -> None:
    fake.answer_next('[{"code": 500, "description": "database offline"}]', status=200)
    with pytest.raises(Open311Unavailable, match="database offline"):
        _client(fake).submit(GRAFFITI)


def test_the_api_key_never_appears_in_errors_or_logs(fake: FakeOpen311, caplog: pytest.LogCaptureFixture) -> None:
    secret = "SECRET-open311-key-5be1"
    client = _client(fake, api_key=secret)
    scenarios: list[Callable[[], None]] = [
        lambda: None,  # 403: the fake does not know this key
        lambda: fake.answer_next(f'[{{"code": 403, "description": "api_key {secret} is revoked"}}]', status=403),
        lambda: fake.fail_next(),
        lambda: fake.hang_next(),
        lambda: fake.answer_next("{not json"),
        lambda: fake.answer_next(f"<!DOCTYPE x><x>{secret}</x>", "text/xml"),
    ]
    raised: list[Open311Error] = []
    caplog.set_level(logging.DEBUG)
    for script in scenarios:
        script()
        with pytest.raises(Open311Error) as info:
            Open311Client(Open311Config(base_url=fake.base_url, api_key=secret, service_codes=CODES,
                                        timeout=0.3)).submit(GRAFFITI)
        fake.release()
        raised.append(info.value)
    with pytest.raises(Open311ConfigError) as config_error:
        client.submit(ReportSubmission(report_type="fireworks", description="x", address_string="y"))
    raised.append(config_error.value)
    assert {type(e) for e in raised} == {Open311Rejected, Open311Unavailable, Open311BadAnswer, Open311ConfigError}
    assert "[api_key]" in str(raised[1])  # the echoed key was scrubbed
    for error in raised:
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        assert secret not in text and secret not in repr(error)
    assert caplog.records and secret not in caplog.text
    assert secret not in repr(client.config)
