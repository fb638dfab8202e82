"""The department's system of record for reports, behind one interface.

`LocalSystem` (the default) keeps reports in our SQL database, where staff read them and set
their status in the staff pages: nothing is forwarded. `Open311System` forwards each report to
the department's GeoReport v2 server (bot/reports/open311.py) and follows its status there.
Callers (the forwarder, the status poll: bot/reports/forwarding.py) never branch on which one
they have; they read `forwards`.

Errors are the Open311 client's typed errors (`Open311Unavailable`: try later; `Open311Rejected`
and `Open311ConfigError`: this report will not be taken), plus `ReportNotSendable` for a report
that lacks what the system requires.
"""
from __future__ import annotations

import json
import logging
from datetime import timedelta, timezone as dt_timezone, tzinfo
from typing import Callable, Iterable, Mapping, Protocol, Sequence
from zoneinfo import ZoneInfo

from bot.clock import Clock, SystemClock
from bot.reports.open311 import Open311Client, Open311ConfigError, ReportSubmission, RequestStatus, SubmitResult
from bot.storage.models import Report, ReportPhoto

log = logging.getLogger(__name__)

DESCRIPTION_LIMIT = 4000  # GeoReport v2: "free form text limited to 4,000 characters"
SEARCH_SLACK = timedelta(days=1)  # the server's clock and its idea of our dates may differ
SEARCH_SPAN = timedelta(days=90)  # the most a search may span, in the spec
_UTC = dt_timezone.utc
# What a configured attribute can be answered with (OPEN311_ATTRIBUTES).
ATTRIBUTE_ANSWERS = ("when", "when_text", "place", "reference", "photos", "anonymous")


class ReportNotSendable(Exception):
    """The report lacks what the department system requires (GeoReport v2: a location).
    Sending it again unchanged cannot help, so the forwarder treats it like a rejection."""


class DepartmentSystem(Protocol):
    """Where reports go. `forwards` is False when reports stay in our database (nothing to send,
    nothing to poll)."""

    forwards: bool

    def submit(self, report: Report, photos: Sequence[ReportPhoto]) -> SubmitResult:
        """Create the report upstream. Not idempotent: see `find_existing`."""
        ...

    def find_existing(self, report: Report) -> SubmitResult | None:
        """The report, if an earlier attempt created it upstream although its answer was lost."""
        ...

    def resolve_token(self, token: str) -> str | None:
        """The request id a token became, or None while the system has not assigned one."""
        ...

    def statuses(self, ids: Iterable[str]) -> dict[str, RequestStatus]:
        """Upstream status by request id; unknown ids are absent."""
        ...


class LocalSystem:
    """Reports stay in our database and staff change their status in the staff pages, so there
    is nothing to send or poll. The forwarder and the poll do nothing with it."""

    forwards = False

    def submit(self, report: Report, photos: Sequence[ReportPhoto]) -> SubmitResult:
        raise NotImplementedError("the local system keeps reports in our database: nothing is forwarded")

    def find_existing(self, report: Report) -> SubmitResult | None:
        return None

    def resolve_token(self, token: str) -> str | None:
        return None

    def statuses(self, ids: Iterable[str]) -> dict[str, RequestStatus]:
        return {}


class Open311System:
    """The department's GeoReport v2 server.

    `photo_url(key)` is the public URL of a stored photo (GeoReport takes one media_url, not the
    image); without it no photo is sent. `contact(report)` is the resident's phone number, asked
    only for a report that is not anonymous. `timezone` (an IANA name) is how the time a report
    happened is written for staff upstream; UTC without it. `attributes` answers a service's
    attributes: "SERVICE_CODE.ATTRIBUTE_CODE" -> one of ATTRIBUTE_ANSWERS.
    """

    forwards = True

    def __init__(self, client: Open311Client, photo_url: Callable[[str], str] | None = None,
                 contact: Callable[[Report], str | None] | None = None, *, clock: Clock | None = None,
                 timezone: str | None = None, attributes: Mapping[str, str] | None = None) -> None:
        self._client = client
        self._attributes = dict(attributes or {})
        for key, answer in self._attributes.items():
            if "." not in key.strip(".") or answer not in ATTRIBUTE_ANSWERS:
                raise Open311ConfigError(f"OPEN311_ATTRIBUTES: {key}={answer} must be SERVICE_CODE.ATTRIBUTE_CODE="
                                         f"one of {', '.join(ATTRIBUTE_ANSWERS)}")
        self._photo_url = photo_url
        self._contact = contact
        self._clock = clock or SystemClock()
        self._zone: tzinfo = ZoneInfo(timezone) if timezone else _UTC

    # -- DepartmentSystem -----------------------------------------------------------------

    def submit(self, report: Report, photos: Sequence[ReportPhoto]) -> SubmitResult:
        return self._client.submit(self.submission(report, photos))

    def find_existing(self, report: Report) -> SubmitResult | None:
        """GeoReport v2 has no idempotency key: after an ambiguous failure, look for a request of
        this report's service, requested since the report was filed, whose description carries
        our reference (`submission` writes it first, in brackets).

        A server that answered with a token only lists the request once it has an id, so a
        request created that way and not yet assigned is not found.
        """
        service_code = self._client.config.service_code_for(report.report_type)
        end = self._clock.now() + SEARCH_SLACK
        start = max(report.created_at - SEARCH_SLACK, end - SEARCH_SPAN)
        marker = _marker(report)
        for status in self._client.search(service_code, start=start, end=end):
            if status.description and marker in status.description:
                return SubmitResult(request_id=status.request_id)
        return None

    def resolve_token(self, token: str) -> str | None:
        return self._client.resolve_token(token)

    def statuses(self, ids: Iterable[str]) -> dict[str, RequestStatus]:
        return self._client.statuses(ids)

    # -- building the request -------------------------------------------------------------

    def submission(self, report: Report, photos: Sequence[ReportPhoto] = ()) -> ReportSubmission:
        """The report as GeoReport v2 wants it. The description starts with our reference, so
        staff upstream can match it and `find_existing` can find it."""
        lat, long = _point(report.place_json)
        address = (report.place_text or "").strip() or None
        if address is None and lat is None:
            raise ReportNotSendable("GeoReport v2 needs a location and this report has none")
        media_url = self._photo_url(photos[0].key) if photos and self._photo_url else None
        phone = None if report.anonymous or self._contact is None else self._contact(report)
        return ReportSubmission(report_type=report.report_type, description=self._description(report, photos),
                                address_string=address, lat=lat, long=long, media_url=media_url,
                                phone=phone, anonymous=report.anonymous,
                                attributes=self._attribute_values(report, photos))

    def _attribute_values(self, report: Report, photos: Sequence[ReportPhoto]) -> dict[str, str]:
        """`attribute[CODE]` answers a service asks for ("NOISE.WHEN=when"): only those configured
        for this report's service code, and only when there is an answer."""
        service_code = self._client.config.service_codes.get(report.report_type)
        answers = {
            "when": report.occurred_at.replace(tzinfo=_UTC).astimezone(self._zone).isoformat()
            if report.occurred_at else None,
            "when_text": report.occurred_text, "place": report.place_text, "reference": report.reference,
            "photos": str(len(photos)), "anonymous": "yes" if report.anonymous else "no",
        }
        values: dict[str, str] = {}
        for key, answer in self._attributes.items():
            code, _, attribute = key.partition(".")
            if code == service_code and attribute and answers.get(answer):
                values[attribute] = str(answers[answer])
        return values

    def _description(self, report: Report, photos: Sequence[ReportPhoto]) -> str:
        notes: list[str] = []
        when = self._when(report)
        if when:
            notes.append(f"When: {when}")
        if len(photos) > 1 and self._photo_url:
            notes.append(f"{len(photos)} photos; the first is attached")
        tail = "".join(f"\n{note}" for note in notes)
        head = f"{_marker(report)} "
        body = (report.description or "").strip()
        room = DESCRIPTION_LIMIT - len(head) - len(tail)
        if len(body) > room:
            body = body[:max(room - 3, 0)].rstrip() + "..."
        return head + body + tail

    def _when(self, report: Report) -> str | None:
        said = (report.occurred_text or "").strip()
        if report.occurred_at is None:
            return said or None
        moment = report.occurred_at
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_UTC)
        local = moment.astimezone(self._zone)
        stamp = f"{local.strftime('%a %b')} {local.day} {local.year}, {local.strftime('%I:%M %p').lstrip('0')} " \
                f"{local.tzname() or ''}".rstrip()
        return f"{said} ({stamp})" if said else stamp



def _marker(report: Report) -> str:
    return f"[{report.reference}]"


def _point(place_json: str | None) -> tuple[float | None, float | None]:
    """(lat, long) from the stored place when it has both, else (None, None). Places from the
    parser say `lon`; geocoders say `long` or `lng`."""
    if not place_json:
        return None, None
    try:
        data = json.loads(place_json)
    except ValueError:
        log.warning("stored place is not JSON; sending the address only")
        return None, None
    if not isinstance(data, dict):
        return None, None
    lat = data.get("lat")
    long = next((data[key] for key in ("long", "lon", "lng") if data.get(key) is not None), None)
    try:
        if lat is None or long is None or isinstance(lat, bool) or isinstance(long, bool):
            return None, None
        return float(lat), float(long)
    except (TypeError, ValueError):
        return None, None
