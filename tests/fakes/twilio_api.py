"""A local HTTP server that speaks Twilio's Messages API (the part we use), for tests.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP Basic auth answers 201 with
a message resource, or a scripted error (429, 500, or Twilio's 21610 "unsubscribed").
"""
from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

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
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeTwilio":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                fake.requests += 1
                match = _PATH.match(self.path)
                expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if not match or match.group("sid") != fake.account_sid:
                    return self._reply(404, {"code": 20404, "message": "not found", "status": 404})
                if self.headers.get("Authorization") != f"Basic {expected}":
                    return self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if "To" not in form or "Body" not in form or not (form.get("From") or form.get("MessagingServiceSid")):
                    return self._reply(400, {"code": 21604, "message": "A 'To' phone number is required.", "status": 400})
                if fake.failures:
                    failure = fake.failures.pop(0)
                    if failure == 21610:
                        return self._reply(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient",
                                                 "status": 400})
                    return self._reply(failure, {"code": 20429 if failure == 429 else 20500,
                                                 "message": "scripted failure", "status": failure})
                sid = "SM" + uuid.uuid4().hex
                fake.sent.append(SentMessage(sid, form["To"], form["Body"], form.get("From"),
                                             form.get("MessagingServiceSid"), form.get("StatusCallback")))
                return self._reply(201, {"sid": sid, "account_sid": fake.account_sid, "to": form["To"],
                                         "from": form.get("From"), "body": form["Body"], "status": "queued",
                                         "num_segments": "1", "direction": "outbound-api",
                                         "api_version": "2010-04-01", "uri": f"{self.path[:-5]}/{sid}.json"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
