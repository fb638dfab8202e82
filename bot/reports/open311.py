"""Client for a department's Open311 GeoReport v2 endpoint (http://wiki.open311.org/GeoReport_v2).

Reports are sent where the department already works them: POST requests.{format}, form-encoded
as the spec says. Servers that cannot create a request at once answer with a token, which later
turns into a service_request_id (GET tokens/{token}). The spec makes XML mandatory and JSON
optional, so both answers are parsed, whatever endpoint was asked.

Failures are sorted by what the caller should do: `Open311Rejected` (the server refused this
report: retrying the same report cannot help), `Open311Unavailable` (try again later),
`Open311BadAnswer` (the server said something we cannot read) and `Open311ConfigError` (our side
is not set up for this). The API key travels only in POST bodies and never appears in an
exception or log line, even when a server echoes it back.
"""
from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Mapping, NoReturn, Sequence, Union
from urllib.parse import quote

import requests
from urllib3.exceptions import ConnectTimeoutError

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

FORMATS = ("json", "xml")
MAX_ANSWER_BYTES = 2 * 1024 * 1024  # a status page of 50 requests is a few kB; refuse to buffer a runaway body
STATUS_BATCH = 50  # ids per GET requests?service_request_id=...: keeps the URL short for every server
_NOT_ERROR_KEYS = ("service_request_id", "token", "service_code")

AttributeValue = Union[str, Sequence[str]]
Record = Mapping[str, Any]


class Open311Error(Exception):
    """Any failure talking to the department's Open311 server."""


class Open311ConfigError(Open311Error):
    """Our configuration cannot serve this call (unknown report type, missing setting)."""


class Open311Rejected(Open311Error):
    """The server refused the call with a spec error (`[{"code": 400, "description": ...}]`).

    The report itself (or our credentials) is wrong: sending it again unchanged will not help.
    """

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"Open311 error {code}: {description}")
        self.code = code
        self.description = description


class Open311Unavailable(Open311Error):
    """The server could not be reached, timed out or failed (HTTP 5xx, 429): retry later.

    `ambiguous`: the request may have reached the server and been acted on (a read timeout, a
    dropped connection, HTTP 500/502/504). GeoReport v2 has no idempotency key, so after an
    ambiguous POST the caller must look for the report upstream before sending it again.
    False when it surely never arrived or was refused unprocessed (connection refused,
    connect timeout, HTTP 503, 429, a spec error array).
    """

    def __init__(self, message: str, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous


class Open311BadAnswer(Open311Error):
    """The server answered, but not with a GeoReport v2 document we can read."""


@dataclass(frozen=True)
class Open311Config:
    """Where the department's endpoint is and which service code each of our report types uses."""

    base_url: str
    api_key: str = field(repr=False)
    service_codes: Mapping[str, str] = field(default_factory=dict)
    jurisdiction_id: str | None = None
    timeout: float = 10.0
    connect_timeout: float = 3.05
    response_format: str = "json"

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise Open311ConfigError("the Open311 base URL must start with http:// or https://")
        if self.response_format not in FORMATS:
            raise Open311ConfigError(f"response_format must be one of {FORMATS}")
        if self.timeout <= 0 or self.connect_timeout <= 0:
            raise Open311ConfigError("Open311 timeouts must be positive")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        object.__setattr__(self, "service_codes", dict(self.service_codes))

    @classmethod
    def from_settings(cls, settings: Settings) -> Open311Config:
        """Build from OPEN311_* settings; names every missing variable so start-up fails loudly."""
        missing = [name for name, value in (("OPEN311_BASE_URL", settings.open311_base_url),
                                            ("OPEN311_API_KEY", settings.open311_api_key),
                                            ("OPEN311_SERVICE_CODES", settings.open311_service_codes))
                   if not value]
        if missing:
            raise Open311ConfigError("Open311 needs " + ", ".join(missing))
        return cls(base_url=settings.open311_base_url or "", api_key=settings.open311_api_key or "",
                   service_codes=settings.open311_service_codes, jurisdiction_id=settings.open311_jurisdiction_id,
                   timeout=settings.open311_timeout)

    def service_code_for(self, report_type: str) -> str:
        code = self.service_codes.get(report_type)
        if not code:
            raise Open311ConfigError(f"no Open311 service code for report type {report_type!r}")
        return code


@dataclass(frozen=True)
class ReportSubmission:
    """One report as GeoReport v2 wants it. Contact fields are dropped when `anonymous` is set,
    so a resident who asked to stay anonymous cannot be identified by a caller's mistake."""

    report_type: str
    description: str
    address_string: str | None = None
    lat: float | None = None
    long: float | None = None
    media_url: str | None = None
    anonymous: bool = False
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    device_id: str | None = None
    account_id: str | None = None

    def __post_init__(self) -> None:
        if not self.report_type:
            raise ValueError("a report needs a report_type")
        if (self.lat is None) != (self.long is None):
            raise ValueError("lat and long go together")
        if not self.address_string and self.lat is None:
            raise ValueError("GeoReport v2 needs a location: address_string, or lat and long")

    def form(self, service_code: str) -> list[tuple[str, str]]:
        """The request's fields (without api_key/jurisdiction_id), in the spec's names."""
        fields: list[tuple[str, str | None]] = [
            ("service_code", service_code),
            ("description", self.description),
            ("address_string", self.address_string),
            ("lat", None if self.lat is None else repr(float(self.lat))),
            ("long", None if self.long is None else repr(float(self.long))),
            ("media_url", self.media_url),
            ("device_id", self.device_id),
            ("account_id", self.account_id),
        ]
        if not self.anonymous:
            fields += [("first_name", self.first_name), ("last_name", self.last_name),
                       ("email", self.email), ("phone", self.phone)]
        for code, value in self.attributes.items():
            if isinstance(value, str):
                fields.append((f"attribute[{code}]", value))
            else:  # a multivaluelist attribute: attribute[code][]=a&attribute[code][]=b
                fields.extend((f"attribute[{code}][]", str(item)) for item in value)
        return [(name, value) for name, value in fields if value is not None and value != ""]


@dataclass(frozen=True)
class SubmitResult:
    """What POST requests answered: an id at once, or a token to resolve later."""

    request_id: str | None = None
    token: str | None = None
    service_notice: str | None = None
    account_id: str | None = None

    @property
    def pending(self) -> bool:
        """True while only a token is known (call `resolve_token` later)."""
        return self.request_id is None


@dataclass(frozen=True)
class RequestStatus:
    """The department's view of one service request."""

    request_id: str
    status: str  # "open" or "closed" in the spec; some servers add their own states
    status_notes: str | None = None
    updated_datetime: datetime | None = None
    agency_responsible: str | None = None
    media_url: str | None = None
    service_code: str | None = None
    service_notice: str | None = None
    requested_datetime: datetime | None = None
    expected_datetime: datetime | None = None
    description: str | None = None

    @property
    def closed(self) -> bool:
        return self.status == "closed"


@dataclass(frozen=True)
class Service:
    """One entry of GET services: what the department's system accepts."""

    code: str
    name: str | None = None
    description: str | None = None
    metadata: bool = False
    type: str | None = None
    keywords: tuple[str, ...] = ()
    group: str | None = None


class Open311Client:
    """One department's GeoReport v2 server. Nothing connects until a method is called."""

    def __init__(self, config: Open311Config, session: requests.Session | None = None) -> None:
        self._config = config
        self._session = session or requests.Session()

    @property
    def config(self) -> Open311Config:
        return self._config

    # -- the API ----------------------------------------------------------------------------

    def submit(self, submission: ReportSubmission) -> SubmitResult:
        """POST requests: creates the report. Not idempotent: the spec has no key to dedupe on,
        so a timeout (Open311Unavailable) may hide a created request."""
        service_code = self._config.service_code_for(submission.report_type)
        form = [("api_key", self._config.api_key)]
        if self._config.jurisdiction_id:
            form.append(("jurisdiction_id", self._config.jurisdiction_id))
        form += submission.form(service_code)
        records = self._call("POST", "requests", data=form)
        if not records:
            raise Open311BadAnswer("POST requests: empty answer")
        first = records[0]
        result = SubmitResult(request_id=_text(first.get("service_request_id")), token=_text(first.get("token")),
                              service_notice=_text(first.get("service_notice")),
                              account_id=_text(first.get("account_id")))
        if result.request_id is None and result.token is None:
            raise Open311BadAnswer("POST requests: neither service_request_id nor token")
        return result

    def resolve_token(self, token: str) -> str | None:
        """GET tokens/{token}: the service_request_id, or None while the server has not assigned one."""
        records = self._call("GET", f"tokens/{_segment(token, 'token')}", params=self._params())
        for record in records:
            request_id = _text(record.get("service_request_id"))
            if request_id:
                return request_id
        return None

    def status(self, request_id: str) -> RequestStatus:
        """GET requests/{id}: where the department is with one report."""
        records = self._call("GET", f"requests/{_segment(request_id, 'request_id')}", params=self._params())
        if not records:
            raise Open311BadAnswer("GET requests/{id}: empty answer")
        return _request_status(records[0])

    def statuses(self, request_ids: Iterable[str]) -> dict[str, RequestStatus]:
        """Many statuses in few calls (service_request_id=1,2,3), for polling.

        Ids the server does not know are simply absent from the answer, as the spec has it.
        """
        ids = list(dict.fromkeys(str(i) for i in request_ids if str(i)))
        found: dict[str, RequestStatus] = {}
        for start in range(0, len(ids), STATUS_BATCH):
            batch = ids[start:start + STATUS_BATCH]
            records = self._call("GET", "requests", params={**self._params(), "service_request_id": ",".join(batch)})
            for record in records:
                status = _request_status(record)
                found[status.request_id] = status
        return found

    def search(self, service_code: str | None = None, start: datetime | None = None, end: datetime | None = None,
               status: str | None = None) -> list[RequestStatus]:
        """GET requests with the spec's filters (service_code, start_date, end_date, status).

        For finding a report a timed-out POST may have created: the spec has no idempotency key,
        so the caller matches on what it wrote in the description. Naive datetimes are UTC. The
        spec lets a server cap the window at 90 days and the answer at its own page size; requests
        known only by a token are not listed.
        """
        params = self._params()
        for name, value in (("service_code", service_code), ("start_date", _w3c(start)),
                            ("end_date", _w3c(end)), ("status", status)):
            if value:
                params[name] = value
        return [_request_status(record) for record in self._call("GET", "requests", params=params)]

    def services(self) -> list[Service]:
        """GET services: the codes the department's system offers."""
        return [_service(record) for record in self._call("GET", "services", params=self._params())]

    def missing_service_codes(self) -> dict[str, str]:
        """Report types whose configured code the server does not offer (a start-up check)."""
        offered = {service.code for service in self.services()}
        return {kind: code for kind, code in self._config.service_codes.items() if code not in offered}

    # -- HTTP ---------------------------------------------------------------------------------

    def _params(self) -> dict[str, str]:
        return {"jurisdiction_id": self._config.jurisdiction_id} if self._config.jurisdiction_id else {}

    def _call(self, method: str, endpoint: str, *, params: Mapping[str, str] | None = None,
              data: list[tuple[str, str]] | None = None) -> list[Record]:
        """One HTTP exchange, mapped to records or a typed error.

        Exceptions from requests are not chained: they carry the prepared request, whose
        body holds the API key.
        """
        fmt = self._config.response_format
        url = f"{self._config.base_url}/{endpoint}.{fmt}"
        name = f"{method} {endpoint.split('/', 1)[0]}"
        accept = "application/json" if fmt == "json" else "text/xml"
        try:
            response = self._session.request(method, url, params=params, data=data, stream=True,
                                             allow_redirects=False, headers={"Accept": accept},
                                             timeout=(self._config.connect_timeout, self._config.timeout))
            try:
                body = _read_limited(response)
            finally:
                response.close()
        except requests.RequestException as exc:
            log.warning("Open311 %s failed: %s", name, type(exc).__name__)
            raise Open311Unavailable(f"{name}: {type(exc).__name__}", ambiguous=_may_have_arrived(exc)) from None
        code = response.status_code
        content_type = response.headers.get("Content-Type", "")
        if code >= 500 or code == 429:
            log.warning("Open311 %s answered HTTP %s", name, code)
            # 503 and 429 say "not processed"; a 500, or a gateway's 502/504, may follow a created request
            raise Open311Unavailable(f"{name}: HTTP {code}", ambiguous=code not in (429, 503))
        if 300 <= code < 400:
            raise Open311BadAnswer(f"{name}: HTTP {code} redirect (check the Open311 base URL)")
        try:
            records = _decode(body, content_type)
        except Open311BadAnswer:
            if code >= 400:
                raise Open311Rejected(code, f"HTTP {code}") from None
            raise
        errors = [r for r in records if "code" in r and "description" in r
                  and not any(key in r for key in _NOT_ERROR_KEYS)]
        if errors:
            self._raise_errors(name, code, errors)
        if code >= 400:
            raise Open311Rejected(code, f"HTTP {code}")
        if code not in (200, 201, 202):
            raise Open311BadAnswer(f"{name}: HTTP {code}")
        return records

    def _raise_errors(self, name: str, http_code: int, errors: list[Record]) -> NoReturn:
        first = _int(errors[0].get("code"), http_code)
        description = "; ".join(_text(e.get("description")) or "(no description)" for e in errors)
        description = self._scrub(description)
        if first >= 500:
            log.warning("Open311 %s failed: %s %s", name, first, description)
            raise Open311Unavailable(f"{name}: {first} {description}")
        log.info("Open311 %s rejected: %s %s", name, first, description)
        raise Open311Rejected(first, description)

    def _scrub(self, text: str) -> str:
        """A server may echo the key it refused; it must not reach our logs or exceptions."""
        key = self._config.api_key
        return text.replace(key, "[api_key]") if key else text


def _may_have_arrived(exc: requests.RequestException) -> bool:
    """False only when the request surely never reached the server: refused or timed out while
    connecting, or a URL requests would not use. A read timeout or a dropped connection may hide
    a request the server acted on."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.InvalidURL,
                        requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        # urllib3's NewConnectionError (refused, DNS) is a ConnectTimeoutError: nothing was sent
        return not isinstance(getattr(exc.args[0], "reason", None), ConnectTimeoutError)
    return True


# -- parsing --------------------------------------------------------------------------------

def _read_limited(response: requests.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(65536):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise Open311BadAnswer(f"answer larger than {MAX_ANSWER_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(body: bytes, content_type: str) -> list[Record]:
    """JSON or XML (by Content-Type, else by the body's first character) to a list of records."""
    try:
        text = body.decode("utf-8")  # the spec requires UTF-8 everywhere
    except UnicodeDecodeError:
        raise Open311BadAnswer("answer is not UTF-8") from None
    content_type = content_type.lower()
    if "xml" in content_type or ("json" not in content_type and text.lstrip().startswith("<")):
        return _decode_xml(text, body)
    try:
        data = json.loads(text)
    except ValueError:
        raise Open311BadAnswer("answer is not JSON") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise Open311BadAnswer("answer is not a list of objects")
    return data


def _decode_xml(text: str, body: bytes) -> list[Record]:
    """Flat GeoReport XML (<root><item><field>..</field></item></root>) to records.

    A DOCTYPE is refused before parsing: GeoReport documents never need one, and it is how
    entity-expansion attacks get in.
    """
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        raise Open311BadAnswer("XML answer with a DOCTYPE refused")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise Open311BadAnswer("answer is not well-formed XML") from None
    items = list(root)
    if items and not any(len(item) for item in items):
        items = [root]  # a single record without its container
    return [{_tag(child): (child.text or "").strip() or None for child in item} for item in items]


def _tag(element: ElementTree.Element) -> str:
    return str(element.tag).rsplit("}", 1)[-1]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (str, int, float)):
        return str(value).strip() or None
    raise Open311BadAnswer(f"expected a value, got {type(value).__name__}")


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _bool(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _datetime(value: Any) -> datetime | None:
    """ISO 8601 as the spec requires; an unreadable date is dropped, not the whole status."""
    raw = _text(value)
    if raw is None:
        return None
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        log.info("Open311 date not ISO 8601: %r", raw[:40])
        return None


def _w3c(moment: datetime | None) -> str | None:
    """The spec's date format (W3C, e.g. 2010-01-01T00:00:00Z); naive datetimes are UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(microsecond=0).isoformat() + "Z"
    return moment.replace(microsecond=0).isoformat()


def _segment(value: str, what: str) -> str:
    """An id or token as one URL path segment: nothing in it can reach another endpoint."""
    value = str(value).strip()
    if not value:
        raise ValueError(f"empty {what}")
    return quote(value, safe="")


def _request_status(record: Record) -> RequestStatus:
    request_id = _text(record.get("service_request_id"))
    status = _text(record.get("status"))
    if not request_id or not status:
        raise Open311BadAnswer("service request without service_request_id or status")
    return RequestStatus(
        request_id=request_id, status=status.lower(), status_notes=_text(record.get("status_notes")),
        updated_datetime=_datetime(record.get("updated_datetime")),
        agency_responsible=_text(record.get("agency_responsible")), media_url=_text(record.get("media_url")),
        service_code=_text(record.get("service_code")), service_notice=_text(record.get("service_notice")),
        requested_datetime=_datetime(record.get("requested_datetime")),
        expected_datetime=_datetime(record.get("expected_datetime")),
        description=_text(record.get("description")),
    )


def _service(record: Record) -> Service:
    code = _text(record.get("service_code"))
    if not code:
        raise Open311BadAnswer("service without service_code")
    keywords = _text(record.get("keywords"))
    return Service(code=code, name=_text(record.get("service_name")), description=_text(record.get("description")),
                   metadata=_bool(record.get("metadata")), type=_text(record.get("type")),
                   keywords=tuple(k.strip() for k in keywords.split(",") if k.strip()) if keywords else (),
                   group=_text(record.get("group")))
