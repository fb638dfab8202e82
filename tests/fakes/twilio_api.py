"""A local HTTP server that speaks Twilio's Messages API (the part we use), for tests.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP Basic auth answers 201 with
a message resource, or a scripted error (429, 500, or Twilio's 21610 "unsubscribed").
"""
from __future__ import annotations

import base64
import re
import threading
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from tests.fakes.server import LoopbackServer, QuietHandler

_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-zA-Z]+)/Messages\.json$")


@dataclass
class SentMessage:
    sid: str
    to: str
    body: str
    from_: str | None
    messaging_service_sid: str | None
    status_callback: str | None


@dataclass
class FakeTwilio:
    account_sid: str = "AC" + "1" * 32
    auth_token: str = "test-auth-token-0123456789abcdef"
    sent: list[SentMessage] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # HTTP statuses (or 21610) to answer next, in order
    requests: int = 0
    invalid_numbers: set[str] = field(default_factory=set)  # "To" numbers answered with error 21211
    _server: LoopbackServer | None = None
    # several workers send at once (tests/stack.py): counts stay exact, one scripted failure per request
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    waiting: int = 0  # requests held by hold(), not answered yet
    _open: threading.Event = field(default_factory=threading.Event, repr=False)
    _let_through: int = 0  # requests hold() still lets through

    def __post_init__(self) -> None:
        self._open.set()

    def hold(self, after: int = 0) -> None:
        """Keep message requests waiting (a slow API) until release(), once `after` more have
        been answered: a test acts while a sender is inside its request. Scripted failures apply
        when they go on."""
        self._let_through = after
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return self._server.url

    def start(self) -> "FakeTwilio":
        fake = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                with fake._lock:
                    held = not fake._open.is_set() and fake._let_through <= 0
                    fake._let_through -= 0 if held else 1
                    if held:
                        fake.waiting += 1
                if held:
                    fake._open.wait(60)
                    with fake._lock:
                        fake.waiting -= 1
                with fake._lock:
                    fake.requests += 1
                match = _PATH.match(self.path)
                expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if not match or match.group("sid") != fake.account_sid:
                    return self.reply_json(404, {"code": 20404, "message": "not found", "status": 404})
                if self.headers.get("Authorization") != f"Basic {expected}":
                    return self.reply_json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                form = {k: v[0] for k, v in parse_qs(self.read_body().decode()).items()}
                if "To" not in form or "Body" not in form or not (form.get("From") or form.get("MessagingServiceSid")):
                    return self.reply_json(400, {"code": 21604, "message": "A 'To' phone number is required.", "status": 400})
                if form["To"] in fake.invalid_numbers:
                    return self.reply_json(400, {"code": 21211, "message": "The 'To' number is not a valid phone number.",
                                                 "status": 400})
                with fake._lock:
                    failure = fake.failures.pop(0) if fake.failures else None
                if failure is not None:
                    if failure == 21610:
                        return self.reply_json(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient",
                                                 "status": 400})
                    return self.reply_json(failure, {"code": 20429 if failure == 429 else 20500,
                                                 "message": "scripted failure", "status": failure})
                sid = "SM" + uuid.uuid4().hex
                fake.sent.append(SentMessage(sid, form["To"], form["Body"], form.get("From"),
                                             form.get("MessagingServiceSid"), form.get("StatusCallback")))
                return self.reply_json(201, {"sid": sid, "account_sid": fake.account_sid, "to": form["To"],
                                         "from": form.get("From"), "body": form["Body"], "status": "queued",
                                         "num_segments": "1", "direction": "outbound-api",
                                         "api_version": "2010-04-01", "uri": f"{self.path[:-5]}/{sid}.json"})

        self._server = LoopbackServer(Handler)
        return self

    def stop(self) -> None:
        self._open.set()
        if self._server:
            self._server.stop()
