"""A local HTTP server that speaks Open311 GeoReport v2 (the parts a reporting client uses), for tests.

Endpoints, each as .json and .xml (the spec's two formats):
  GET  services                   the configured services
  POST requests                   form-encoded; checks api_key, jurisdiction_id, service_code, a location
                                  and required attributes; answers service_request_id (or a token)
  GET  tokens/{token}             the id once the test has called `assign(token)`
  GET  requests/{id}              status, notes, agency, media_url (changed by `set_status`)
  GET  requests?service_request_id=1,2,3           (overrides every other filter, as in the spec)
  GET  requests?service_code=&start_date=&end_date=&status=   the spec's search filters; the dates
                                  match `requested_datetime` (W3C format, e.g. 2026-11-24T17:00:00Z)
Errors are spec error arrays with HTTP 400/403/404. Outages are scripted by the test: the next
calls answer 503 (`fail_next`), get no answer at all (`drop_next`) or hang until the test releases
them (`hang_next`, `release`), so nothing here depends on timers. Every call is recorded in
`calls`; created requests in `created`.
"""
from __future__ import annotations

import json
import threading
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from tests.fakes.server import LoopbackServer, QuietHandler

HANG_LIMIT_SECONDS = 10.0  # a hung call answers after this even if the test forgets to release it


@dataclass
class FakeService:
    code: str
    name: str
    description: str = ""
    group: str = "police"
    keywords: str = ""
    required_attributes: tuple[str, ...] = ()
    service_notice: str | None = None

    @property
    def metadata(self) -> bool:
        return bool(self.required_attributes)


@dataclass
class Call:
    """One HTTP request as the server received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    content_type: str
    headers: dict[str, str]


@dataclass
class CreatedRequest:
    service_code: str
    form: dict[str, list[str]]
    request_id: str | None
    token: str | None = None
    status: str = "open"
    status_notes: str | None = None
    agency_responsible: str | None = "Port Alder Police Department"
    media_url: str | None = None
    requested_datetime: str = "2026-11-24T17:00:00-08:00"
    updated_datetime: str = "2026-11-24T17:00:00-08:00"

    def value(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None


@dataclass
class _Scripted:
    status: int
    body: bytes
    content_type: str


def default_services() -> list[FakeService]:
    return [
        FakeService("GRF-01", "Graffiti", "Graffiti on public or private property", keywords="graffiti, tagging"),
        FakeService("NOISE", "Noise complaint", "Ongoing noise, not an emergency",
                    required_attributes=("WHEN",), service_notice="Noise reports are reviewed by the next shift."),
        FakeService("AV", "Abandoned vehicle", "Vehicle parked over 72 hours", group="traffic"),
    ]


@dataclass
class FakeOpen311:
    api_key: str = "test-open311-key-7f3a9c"
    jurisdiction_id: str | None = None  # when set, requests must carry it
    services: list[FakeService] = field(default_factory=default_services)
    formats: tuple[str, ...] = ("json", "xml")  # ("xml",): an XML-only server, as the spec allows
    answer_with_tokens: bool = False  # POST answers [{"token": ...}] instead of an id
    requested_datetime: str = "2026-11-24T17:00:00-08:00"  # stamped on requests created from now on
    calls: list[Call] = field(default_factory=list)
    created: list[CreatedRequest] = field(default_factory=list)
    hang_limit: float = HANG_LIMIT_SECONDS
    _outages: list[str] = field(default_factory=list)  # "503", "hang", "hang-create", "drop", "drop-create"
    _scripted: list[_Scripted] = field(default_factory=list)
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 638344
    _next_token: int = 12345
    _server: LoopbackServer | None = None

    # -- test controls ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return self._server.url

    def fail_next(self, count: int = 1) -> None:
        """The next `count` calls (any endpoint) answer HTTP 503."""
        self._outages.extend(["503"] * count)

    def hang_next(self, count: int = 1, create: bool = False) -> None:
        """The next `count` calls wait for `release()` (at most `hang_limit` s) before answering.

        With create=True a POST creates its request before hanging: the answer, not the report,
        is lost, as when a slow server times the client out.
        """
        self._release.clear()
        self._outages.extend(["hang-create" if create else "hang"] * count)

    def drop_next(self, count: int = 1, create: bool = False) -> None:
        """The next `count` calls get no answer: the connection is closed after the request is read.
        With create=True a POST creates its request first (the connection dropped on the way back)."""
        self._outages.extend(["drop-create" if create else "drop"] * count)

    def release(self) -> None:
        """Let every hung call finish."""
        self._release.set()

    def answer_next(self, body: str | bytes, content_type: str = "application/json", status: int = 200) -> None:
        """The next call gets exactly this answer (malformed documents, odd servers)."""
        raw = body.encode() if isinstance(body, str) else body
        self._scripted.append(_Scripted(status, raw, content_type))

    def assign(self, token: str) -> str:
        """The back office turns a token into a service request id; returns the id."""
        with self._lock:
            request = next(r for r in self.created if r.token == token)
            if request.request_id is None:
                request.request_id = self._new_id()
            return request.request_id

    def set_status(self, request_id: str, status: str, notes: str | None = None,
                   updated: str = "2026-11-25T09:30:00-08:00", agency: str | None = None) -> None:
        request = self.request(request_id)
        request.status, request.status_notes, request.updated_datetime = status, notes, updated
        if agency is not None:
            request.agency_responsible = agency

    def request(self, request_id: str) -> CreatedRequest:
        return next(r for r in self.created if r.request_id == request_id)

    def calls_to(self, method: str, endpoint: str) -> list[Call]:
        """Calls to e.g. ("POST", "requests"), whatever their format suffix."""
        return [c for c in self.calls if c.method == method and c.path.rsplit(".", 1)[0] == "/" + endpoint]

    def reset(self) -> None:
        """Back to a fresh server's state, so one running server can serve a whole test module."""
        self.release()
        with self._lock:
            for spec in fields(self):
                if spec.name in ("_server", "_lock", "_release"):
                    continue
                if spec.default_factory is not MISSING:
                    setattr(self, spec.name, spec.default_factory())
                else:
                    setattr(self, spec.name, spec.default)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeOpen311:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                fake._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                fake._handle(self, "POST")

        self._server = LoopbackServer(Handler)
        return self

    def stop(self) -> None:
        self.release()
        if self._server:
            self._server.stop()

    # -- protocol -----------------------------------------------------------------------------

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _handle(self, handler: QuietHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        content_type = handler.headers.get("Content-Type", "")
        body = handler.read_body() if method == "POST" else b""
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True) \
            if content_type.startswith("application/x-www-form-urlencoded") else {}
        call = Call(method, parts.path, parse_qs(parts.query, keep_blank_values=True), form, content_type,
                    {k.lower(): v for k, v in handler.headers.items()})
        with self._lock:
            self.calls.append(call)
            outage = self._outages.pop(0) if self._outages else None
            scripted = self._scripted.pop(0) if self._scripted and not outage else None
        path, dot, fmt = parts.path.rpartition(".")
        if not dot or fmt not in ("json", "xml"):
            return _send(handler, 404, b"not found", "text/plain")
        reply = _Reply(handler, fmt)
        if outage == "503":
            return reply.errors(503, "Service temporarily unavailable")
        if outage in ("hang", "hang-create"):
            if outage == "hang-create" and method == "POST":
                self._route(path, method, call, _Reply(None, fmt))
            self._release.wait(self.hang_limit)
            return reply.errors(503, "answered too late")
        if outage in ("drop", "drop-create"):
            if outage == "drop-create" and method == "POST":
                self._route(path, method, call, _Reply(None, fmt))
            handler.close_connection = True
            return None
        if scripted:
            return _send(handler, scripted.status, scripted.body, scripted.content_type)
        if fmt not in self.formats:
            return reply.errors(404, f"format {fmt} not supported")
        self._route(path, method, call, reply)

    def _route(self, path: str, method: str, call: Call, reply: _Reply) -> None:
        query = {k: v[0] for k, v in call.query.items()}
        form = {k: v[0] for k, v in call.form.items()}
        params = form if method == "POST" else query
        if self.jurisdiction_id and params.get("jurisdiction_id") != self.jurisdiction_id:
            return reply.errors(404, "jurisdiction_id not found")
        segments = path.strip("/").split("/")
        if method == "GET" and segments == ["services"]:
            return reply.records("services", "service", [
                {"service_code": s.code, "service_name": s.name, "description": s.description,
                 "metadata": s.metadata, "type": "realtime", "keywords": s.keywords, "group": s.group}
                for s in self.services])
        if method == "POST" and segments == ["requests"]:
            if call.content_type.split(";")[0] != "application/x-www-form-urlencoded":
                return reply.errors(400, "requests must be form-encoded (application/x-www-form-urlencoded)")
            return self._create(call, form, reply)
        if method == "GET" and segments == ["requests"]:
            return self._list(query, reply)
        if method == "GET" and len(segments) == 2 and segments[0] == "requests":
            with self._lock:
                found = [r for r in self.created if r.request_id == segments[1]]
            if not found:
                return reply.errors(404, f"service_request_id {segments[1]} not found")
            return reply.records("service_requests", "request", [_status(found[0])])
        if method == "GET" and len(segments) == 2 and segments[0] == "tokens":
            with self._lock:
                found = [r for r in self.created if r.token == segments[1]]
            if not found:
                return reply.errors(404, f"token {segments[1]} not found")
            # null (JSON) or <service_request_id/> (XML) until the back office assigns an id
            return reply.records("service_requests", "request",
                                 [{"token": found[0].token, "service_request_id": found[0].request_id}])
        return reply.errors(404, "no such method")

    def _list(self, query: dict[str, str], reply: _Reply) -> None:
        """GET requests: by ids, else by the spec's filters. Requests known only by a token are not listed."""
        wanted = [i for i in query.get("service_request_id", "").split(",") if i]
        try:
            start, end = _w3c(query.get("start_date")), _w3c(query.get("end_date"))
        except ValueError:
            return reply.errors(400, "start_date and end_date must be W3C dates")
        if start and end and (end - start).days > 90:
            return reply.errors(400, "start_date and end_date may not span more than 90 days")
        codes = [c for c in query.get("service_code", "").split(",") if c]
        statuses = [s for s in query.get("status", "").split(",") if s]

        def matches(request: CreatedRequest) -> bool:
            if not request.request_id:
                return False
            if wanted:
                return request.request_id in wanted
            requested = _w3c(request.requested_datetime)
            assert requested is not None
            return ((not codes or request.service_code in codes) and (not statuses or request.status in statuses)
                    and (start is None or requested >= start) and (end is None or requested <= end))

        with self._lock:
            found = [r for r in self.created if matches(r)]
        return reply.records("service_requests", "request", [_status(r) for r in found])

    def _create(self, call: Call, form: dict[str, str], reply: _Reply) -> None:
        if not form.get("api_key"):
            return reply.errors(403, "api_key missing -- can't proceed with create_request")
        if form["api_key"] != self.api_key:
            return reply.errors(403, "Invalid api_key received -- can't proceed with create_request")
        service = next((s for s in self.services if s.code == form.get("service_code")), None)
        if service is None:
            return reply.errors(400, f"service_code {form.get('service_code')!r} not found")
        has_point = bool(form.get("lat")) and bool(form.get("long"))
        if not (has_point or form.get("address_string") or form.get("address_id")):
            return reply.errors(400, "a location is required: lat and long, address_string or address_id")
        missing = [code for code in service.required_attributes
                   if not (call.form.get(f"attribute[{code}]") or call.form.get(f"attribute[{code}][]"))]
        if missing:
            return reply.errors(400, f"attribute {missing[0]} is required for service {service.code}")
        with self._lock:
            if self.answer_with_tokens:
                self._next_token += 1
                request = CreatedRequest(service.code, call.form, None, token=str(self._next_token),
                                         media_url=form.get("media_url"), requested_datetime=self.requested_datetime,
                                         updated_datetime=self.requested_datetime)
            else:
                request = CreatedRequest(service.code, call.form, self._new_id(), media_url=form.get("media_url"),
                                         requested_datetime=self.requested_datetime,
                                         updated_datetime=self.requested_datetime)
            self.created.append(request)
        if request.token:
            return reply.records("service_requests", "request", [{"token": request.token}])
        return reply.records("service_requests", "request", [
            {"service_request_id": request.request_id, "service_notice": service.service_notice,
             "account_id": form.get("account_id")}])


def _w3c(value: str | None) -> datetime | None:
    """A W3C / ISO 8601 date with its offset ("Z" too); ValueError for anything else."""
    if not value:
        return None
    moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    if moment.tzinfo is None:
        raise ValueError("a date without its offset")
    return moment


def _status(request: CreatedRequest) -> dict[str, Any]:
    return {"service_request_id": request.request_id, "status": request.status,
            "status_notes": request.status_notes, "service_code": request.service_code,
            "description": request.value("description"), "agency_responsible": request.agency_responsible,
            "service_notice": None, "requested_datetime": request.requested_datetime,
            "updated_datetime": request.updated_datetime, "expected_datetime": None,
            "address": request.value("address_string"), "lat": request.value("lat"),
            "long": request.value("long"), "media_url": request.media_url}


class _Reply:
    """Answers in the format the client asked for (the endpoint's suffix). No handler: discard."""

    def __init__(self, handler: QuietHandler | None, fmt: str) -> None:
        self._handler = handler
        self._fmt = fmt

    def errors(self, status: int, description: str) -> None:
        self.records("errors", "error", [{"code": status, "description": description}], status)

    def records(self, root: str, item: str, records: list[dict[str, Any]], status: int = 200) -> None:
        if self._handler is None:
            return
        if self._fmt == "json":
            return _send(self._handler, status, json.dumps(records).encode(), "application/json; charset=utf-8")
        lines = ['<?xml version="1.0" encoding="utf-8"?>', f"<{root}>"]
        for record in records:
            lines.append(f"<{item}>" + "".join(_xml_field(k, v) for k, v in record.items()) + f"</{item}>")
        lines.append(f"</{root}>")
        _send(self._handler, status, "\n".join(lines).encode(), "text/xml; charset=utf-8")


def _xml_field(name: str, value: Any) -> str:
    if value is None or value == "":
        return f"<{name}/>"
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return f"<{name}>{escape(text)}</{name}>"


def _send(handler: QuietHandler, status: int, body: bytes, content_type: str) -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (a hung call after its timeout)
