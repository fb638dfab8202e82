"""A local HTTP server that serves MMS media the way Twilio's media URLs do, for tests.

`put(name, body, content_type)` publishes a file and returns its URL; GET answers it when the
request carries the expected HTTP Basic credentials (401 otherwise). `fail_next(name, n)`
makes the next n requests for a file answer 503, so a test can script a provider outage.
Also builds the pictures tests send: a JPEG with GPS position and camera data in its EXIF.
"""
from __future__ import annotations

import base64
import io
import threading
from dataclasses import dataclass, field

from PIL import ExifTags, Image

from tests.fakes.server import LoopbackServer, QuietHandler

SID = "AC" + "5" * 32
TOKEN = "media-test-token"


def gps_jpeg(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small JPEG carrying what a phone puts in: GPS position, camera make, orientation."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (45.0, 31.0, 12.5),
        ExifTags.GPS.GPSLongitudeRef: "W", ExifTags.GPS.GPSLongitude: (122.0, 40.0, 1.0),
    }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@dataclass
class FakeMediaHost:
    username: str = SID
    password: str = TOKEN
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    _server: LoopbackServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return self._server.url

    def put(self, name: str, body: bytes, content_type: str = "image/jpeg") -> str:
        self.files[name] = (body, content_type)
        return f"{self.url}/2010-04-01/Accounts/{self.username}/Messages/MM1/Media/{name}"

    def fail_next(self, name: str, count: int = 1) -> None:
        with self._lock:
            self.failures[name] = self.failures.get(name, 0) + count

    def start(self) -> FakeMediaHost:
        host = self
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                name = self.path.rsplit("/", 1)[-1]
                host.requests.append(name)
                with host._lock:
                    failing = host.failures.get(name, 0)
                    if failing:
                        host.failures[name] = failing - 1
                if self.headers.get("Authorization") != expected:
                    self._send(401, b'{"code": 20003}', "application/json")
                elif failing:
                    self._send(503, b"unavailable", "text/plain")
                elif name in host.files:
                    self._send(200, *host.files[name])
                else:
                    self._send(404, b'{"code": 20404}', "application/json")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = LoopbackServer(Handler)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
