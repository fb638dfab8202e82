"""Report photos: fetched from a local stand-in for Twilio's media host and its CDN, cleaned, stored."""
from __future__ import annotations

import base64
import hashlib
import io
import logging
import struct
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
from PIL import ExifTags, Image, PngImagePlugin, features

from bot.reports.photos import (
    CleanPhoto,
    InvalidPhotoKey,
    LocalPhotoStore,
    NotAnImage,
    PhotoError,
    PhotoFetcher,
    PhotoNotFound,
    PhotoStore,
    PhotoTooLarge,
    PhotoUnavailable,
    clean_photo,
    redact_url,
)
from bot.settings import ROOT, Settings
from tests.fakes.server import LoopbackServer, QuietHandler

SID = "AC" + "7" * 32
TOKEN = "media-auth-token-do-not-leak-42"
GOOD_AUTH = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
MB = 1024 * 1024
STREAM_LIMIT = 512 * MB  # what the endless stream would send if nobody hung up


# -- images built here, with the metadata a phone would put in ----------------------------------

def _gps_jpeg(orientation: int = 6) -> bytes:
    """100x50, left half red, right half blue, with GPS, camera make, orientation, XMP and a comment."""
    image = Image.new("RGB", (100, 50), (220, 0, 0))
    image.paste((0, 0, 220), (50, 0, 100, 50))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (45.0, 31.0, 12.5),
        ExifTags.GPS.GPSLongitudeRef: "W", ExifTags.GPS.GPSLongitude: (122.0, 40.0, 1.0),
    }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at 12 Elm St",
               xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">home</x:xmpmeta>')
    return out.getvalue()


def _png(size: tuple[int, int] = (40, 30), mode: str = "RGBA") -> bytes:
    image = Image.new(mode, size, (10, 120, 30, 200) if mode == "RGBA" else (10, 120, 30))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "lat 45.52 long -122.67")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def _png_declaring(width: int, height: int) -> bytes:
    """A few dozen bytes whose header claims width x height pixels: a decompression bomb's shape."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


JPEG = _gps_jpeg()
PNG = _png()
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# -- the stand-ins: Twilio's media host (Basic auth) and a CDN (refuses Authorization, like S3) ---

@dataclass
class MediaHost:
    """What both servers saw, for the assertions."""

    twilio: LoopbackServer | None = None
    cdn: LoopbackServer | None = None
    seen_auth: dict[str, str | None] = field(default_factory=dict)
    streamed: int = 0
    stream_done: threading.Event = field(default_factory=threading.Event)
    release_slow: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        assert self.twilio is not None
        return self.twilio.url

    def media(self, name: str) -> str:
        return f"{self.url}/2010-04-01/Accounts/{SID}/Messages/MM1/Media/{name}"


HOST = MediaHost()


class _Handler(QuietHandler):
    protocol_version = "HTTP/1.1"

    def handle(self) -> None:
        """A client that hangs up on an unread body resets the kept-alive connection: that is fine."""
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            pass

    def send_body(self, status: int, body: bytes, content_type: str | None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class TwilioMedia(_Handler):
    ROUTES = {"gps.jpg": (JPEG, "image/jpeg"), "shot.png": (PNG, "image/png"),
              "fake.jpg": (PDF, "image/jpeg"), "note.txt": (b"just words", "text/plain; charset=utf-8"),
              "mislabeled": (JPEG, "image/png"), "bomb.png": (_png_declaring(100_000, 100_000), "image/png"),
              "no-type": (PNG, None)}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        name = self.path.rsplit("/", 1)[-1]
        HOST.seen_auth[self.path] = self.headers.get("Authorization")
        if self.headers.get("Authorization") != GOOD_AUTH:
            self.send_body(401, b'{"code": 20003, "message": "Authenticate"}', "application/json")
        elif name in self.ROUTES:
            self.send_body(200, *self.ROUTES[name])
        elif name == "to-cdn":
            self.redirect(f"{HOST.cdn.url if HOST.cdn else ''}/media/abc123?X-Amz-Signature=presigned-secret")
        elif name == "moved":
            self.redirect("gps.jpg")  # relative, same origin: the credentials still apply
        elif name == "loop":
            self.redirect("loop")
        elif name == "to-file":
            self.redirect("file:///etc/passwd")
        elif name == "broken":
            self.send_body(500, b"oops", "text/plain")
        elif name == "declared-huge":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(6 * MB))
            self.end_headers()
            self.close_connection = True  # the client hangs up after the headers
        elif name == "endless":
            self.endless()
        elif name == "slow":
            HOST.release_slow.wait(30)
            self.close_connection = True
        else:
            self.send_body(404, b'{"code": 20404}', "application/json")

    def redirect(self, location: str) -> None:
        self.send_response(307)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def endless(self) -> None:
        """A chunked JPEG-looking stream that would go on for 512 MB: counts what it got to send."""
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        block = b"\xff\xd8\xff\xe0" + b"\x00" * (64 * 1024 - 4)
        frame = f"{len(block):x}\r\n".encode() + block + b"\r\n"
        try:
            while HOST.streamed < STREAM_LIMIT:
                self.wfile.write(frame)
                HOST.streamed += len(block)
        except OSError:  # the client hung up: what we want
            pass
        finally:
            HOST.stream_done.set()


class Cdn(_Handler):
    def do_GET(self) -> None:  # noqa: N802
        HOST.seen_auth[f"cdn:{self.path}"] = self.headers.get("Authorization")
        if self.headers.get("Authorization"):
            self.send_body(400, b"<Error>Only one auth mechanism allowed</Error>", "application/xml")
        else:
            self.send_body(200, JPEG, "image/jpeg")


@pytest.fixture(scope="module")
def host() -> Iterator[MediaHost]:
    HOST.twilio, HOST.cdn = LoopbackServer(TwilioMedia), LoopbackServer(Cdn)
    yield HOST
    HOST.release_slow.set()
    HOST.twilio.stop()
    HOST.cdn.stop()


@pytest.fixture
def media(host: MediaHost) -> MediaHost:
    host.seen_auth.clear()
    return host


def _fetcher(**options: object) -> PhotoFetcher:
    return PhotoFetcher((SID, TOKEN), **options)  # type: ignore[arg-type]


# -- fetching ------------------------------------------------------------------------------------

def test_fetch_sends_basic_auth_and_returns_the_bytes(media: MediaHost) -> None:
    photo = _fetcher().fetch(media.media("gps.jpg"))
    assert photo.data == JPEG and photo.content_type == "image/jpeg" and photo.declared_type == "image/jpeg"
    assert media.seen_auth[media.media("gps.jpg").removeprefix(media.url)] == GOOD_AUTH
    assert _fetcher().fetch(media.media("shot.png")).content_type == "image/png"


@pytest.mark.parametrize("auth", [None, (SID, "wrong-token")])
def test_missing_or_wrong_credentials_are_unavailable_not_retryable(media: MediaHost,
                                                                    auth: tuple[str, str] | None) -> None:
    with pytest.raises(PhotoUnavailable) as caught:
        PhotoFetcher(auth).fetch(media.media("gps.jpg"))
    assert caught.value.status == 401 and not caught.value.retryable


def test_credentials_in_the_url_are_used_but_never_logged(media: MediaHost,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    with_creds = media.media("gps.jpg").replace("http://", f"http://{SID}:{TOKEN}@")
    caplog.set_level(logging.DEBUG)
    assert PhotoFetcher().fetch(with_creds).data == JPEG
    with pytest.raises(PhotoUnavailable) as caught:
        PhotoFetcher().fetch(with_creds.replace("gps.jpg", "missing.jpg"))
    assert caught.value.status == 404
    assert TOKEN not in caplog.text and TOKEN not in str(caught.value)
    assert "missing.jpg" in caplog.text  # the failure is logged, with the redacted URL
    assert TOKEN not in repr(_fetcher())
    assert redact_url(with_creds + "?sig=x") == media.media("gps.jpg")


def test_redirect_to_another_host_drops_the_authorization_header(media: MediaHost) -> None:
    photo = _fetcher().fetch(media.media("to-cdn"))
    assert photo.data == JPEG
    assert media.seen_auth[media.media("to-cdn").removeprefix(media.url)] == GOOD_AUTH
    assert media.seen_auth["cdn:/media/abc123?X-Amz-Signature=presigned-secret"] is None


def test_redirect_on_the_same_origin_keeps_the_credentials(media: MediaHost) -> None:
    assert _fetcher().fetch(media.media("moved")).data == JPEG
    assert media.seen_auth[media.media("gps.jpg").removeprefix(media.url)] == GOOD_AUTH


@pytest.mark.parametrize("name", ["loop", "to-file"])
def test_redirect_loops_and_non_http_targets_are_refused(media: MediaHost, name: str) -> None:
    with pytest.raises(PhotoUnavailable):
        _fetcher(max_redirects=3).fetch(media.media(name))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/photo.jpg", "photo.jpg",
                                 "http:///nohost.jpg", "http://127.0.0.1:99999/x.jpg"])
def test_only_http_urls_are_fetched(url: str) -> None:
    with pytest.raises(PhotoUnavailable) as caught:
        _fetcher().fetch(url)
    assert not caught.value.retryable


@pytest.mark.parametrize("name", ["fake.jpg", "note.txt", "bomb.png"])
def test_non_images_are_refused_whatever_the_header_says(media: MediaHost, name: str) -> None:
    with pytest.raises(NotAnImage):
        _fetcher().fetch(media.media(name))


def test_the_real_format_comes_from_the_bytes(media: MediaHost) -> None:
    photo = _fetcher().fetch(media.media("mislabeled"))
    assert photo.content_type == "image/jpeg" and photo.declared_type == "image/png"
    assert _fetcher().fetch(media.media("no-type")).content_type == "image/png"


def test_a_declared_oversize_body_is_refused_before_reading_it(media: MediaHost) -> None:
    with pytest.raises(PhotoTooLarge):
        _fetcher().fetch(media.media("declared-huge"))


def test_an_endless_stream_is_cut_off_just_past_the_cap(media: MediaHost) -> None:
    media.streamed = 0
    media.stream_done.clear()
    fetcher = _fetcher()
    assert fetcher.max_bytes == 5 * MB
    with pytest.raises(PhotoTooLarge):
        fetcher.fetch(media.media("endless"))
    assert media.stream_done.wait(30), "the server is still streaming: the client never hung up"
    # The cap plus what the loopback socket buffers held, nowhere near the 512 MB on offer.
    assert 5 * MB < media.streamed < 64 * MB


def test_the_cap_is_configurable(media: MediaHost) -> None:
    with pytest.raises(PhotoTooLarge):
        _fetcher(max_bytes=len(JPEG) - 1).fetch(media.media("gps.jpg"))
    assert _fetcher(max_bytes=len(JPEG)).fetch(media.media("gps.jpg")).data == JPEG


def test_http_errors_and_network_failures_are_unavailable(media: MediaHost) -> None:
    with pytest.raises(PhotoUnavailable) as missing:
        _fetcher().fetch(media.media("missing.jpg"))
    assert missing.value.status == 404 and not missing.value.retryable
    with pytest.raises(PhotoUnavailable) as broken:
        _fetcher().fetch(media.media("broken"))
    assert broken.value.status == 500 and broken.value.retryable
    closed = LoopbackServer(QuietHandler)
    closed_url = closed.url
    closed.stop()
    with pytest.raises(PhotoUnavailable) as refused:
        _fetcher().fetch(closed_url + "/photo.jpg")
    assert refused.value.retryable and refused.value.status is None


def test_a_server_that_never_answers_times_out(media: MediaHost) -> None:
    with pytest.raises(PhotoUnavailable) as caught:
        _fetcher(read_timeout=0.3).fetch(media.media("slow"))
    assert caught.value.retryable and isinstance(caught.value, PhotoError)


def test_settings_configure_the_fetcher_and_the_store(tmp_path: Path) -> None:
    default = Settings.from_env({})
    assert default.report_photo_dir == ROOT / "var" / "photos" and default.report_photo_max_bytes == 5 * MB
    settings = Settings.from_env({"REPORT_PHOTO_DIR": str(tmp_path / "p"), "REPORT_PHOTO_MAX_BYTES": "1000",
                                  "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN})
    fetcher = PhotoFetcher.from_settings(settings)
    assert fetcher.max_bytes == 1000 and "auth=set" in repr(fetcher) and TOKEN not in repr(fetcher)
    assert "auth=none" in repr(PhotoFetcher.from_settings(default))
    assert LocalPhotoStore.from_settings(settings).directory == tmp_path / "p"


# -- cleaning --------------------------------------------------------------------------------------

def _reopen(photo: CleanPhoto) -> Image.Image:
    image = Image.open(io.BytesIO(photo.data))
    image.load()
    return image


def test_clean_photo_removes_gps_and_every_other_metadata() -> None:
    assert Image.open(io.BytesIO(JPEG)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # it was there
    photo = clean_photo(JPEG)
    image = _reopen(photo)
    assert photo.content_type == "image/jpeg" and image.format == "JPEG"
    assert len(image.getexif()) == 0 and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    for key in ("exif", "xmp", "comment", "icc_profile"):
        assert key not in image.info
    for marker in (b"Exif", b"PhoneMaker", b"12 Elm St", b"xmpmeta"):
        assert marker not in photo.data
    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest()


def test_clean_photo_applies_the_exif_orientation() -> None:
    photo = clean_photo(JPEG)  # 100x50, Orientation=6: shown rotated 90 degrees clockwise
    image = _reopen(photo).convert("RGB")
    assert (photo.width, photo.height) == image.size == (50, 100)
    top, bottom = image.getpixel((25, 10)), image.getpixel((25, 90))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]  # the left (red) half is now on top
    assert clean_photo(_gps_jpeg(orientation=1)).width == 100


def test_png_stays_png_without_its_text_and_exif_chunks() -> None:
    photo = clean_photo(PNG)
    image = _reopen(photo)
    assert photo.content_type == "image/png" and image.format == "PNG" and image.mode == "RGBA"
    assert image.size == (40, 30) and "Comment" not in image.info and "exif" not in image.info
    assert len(image.getexif()) == 0 and b"lat 45.52" not in photo.data


def test_other_formats_become_jpeg_or_png() -> None:
    gif = _encode(Image.new("P", (20, 10)), "GIF")
    assert clean_photo(gif).content_type == "image/png"
    if features.check("webp"):
        webp = _encode(Image.new("RGBA", (20, 10), (0, 0, 0, 0)), "WEBP")
        flat = clean_photo(webp)
        assert flat.content_type == "image/jpeg" and _reopen(flat).getpixel((5, 5)) == (255, 255, 255)


def test_very_large_images_are_scaled_down_keeping_their_shape() -> None:
    photo = clean_photo(_encode(Image.new("RGB", (3000, 1000), (90, 90, 90)), "JPEG"))
    assert (photo.width, photo.height) == (2048, 683)
    assert clean_photo(_encode(Image.new("RGB", (3000, 1000)), "JPEG"), max_side=300).width == 300


def test_cleaning_is_deterministic() -> None:
    assert clean_photo(JPEG).sha256 == clean_photo(JPEG).sha256


@pytest.mark.parametrize("data", [
    _png_declaring(100_000, 100_000),  # 10 gigapixels: Pillow's own bomb error
    _png_declaring(7_000, 7_000),  # 49 MP: under Pillow's limit, over ours
    PDF, b"", b"plain text", JPEG[: len(JPEG) // 2],
], ids=["bomb", "over-our-limit", "pdf", "empty", "text", "truncated"])
def test_bombs_and_broken_data_are_not_images(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        clean_photo(data)


def test_the_pixel_limit_is_configurable() -> None:
    small = _encode(Image.new("RGB", (100, 100)), "PNG")
    with pytest.raises(NotAnImage):
        clean_photo(small, max_pixels=9_999)
    assert clean_photo(small, max_pixels=10_000).width == 100


# -- storing ---------------------------------------------------------------------------------------

def test_store_writes_content_addressed_files_created_on_first_save(tmp_path: Path) -> None:
    directory = tmp_path / "photos"
    store: PhotoStore = LocalPhotoStore(directory)
    assert not directory.exists()  # nothing happens at construction
    photo = clean_photo(JPEG)
    key = store.save(photo)
    assert key == f"{photo.sha256}.jpg" and store.open(key) == photo.data
    assert store.path(key) == directory / key and hashlib.sha256(store.path(key).read_bytes()).hexdigest() \
        == photo.sha256
    assert store.save(photo) == key  # the same photo again: the same file
    png_key = store.save(clean_photo(PNG))
    assert png_key.endswith(".png") and LocalPhotoStore(directory).content_type(png_key) == "image/png"
    assert sorted(p.name for p in directory.iterdir()) == sorted([key, png_key])  # no temp files left


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    store = LocalPhotoStore(tmp_path)
    photo = clean_photo(JPEG)
    (tmp_path / f"{photo.sha256}.jpg").mkdir()  # the rename onto the final name cannot succeed
    with pytest.raises(OSError):
        store.save(photo)
    assert [p.name for p in tmp_path.iterdir()] == [f"{photo.sha256}.jpg"]
    with pytest.raises(ValueError):
        store.save(CleanPhoto(data=b"x", content_type="image/jpeg", width=1, height=1, sha256="0" * 64))


@pytest.mark.parametrize("key", ["../secret.jpg", "../../etc/passwd", "/etc/passwd", "",
                                 "a" * 64 + ".jpg/../../x", "A" * 64 + ".jpg", "a" * 64 + ".gif",
                                 "a" * 63 + ".jpg", "a" * 64 + ".jpg\x00", "a" * 64 + ".jpg\n"])
def test_store_rejects_keys_it_did_not_make(tmp_path: Path, key: str) -> None:
    store = LocalPhotoStore(tmp_path / "photos")
    (tmp_path / "secret.jpg").write_bytes(b"not yours")
    with pytest.raises(InvalidPhotoKey):
        store.open(key)
    with pytest.raises(InvalidPhotoKey):
        store.path(key)


def test_store_refuses_a_key_name_symlinked_out_of_the_directory(tmp_path: Path) -> None:
    directory = tmp_path / "photos"
    directory.mkdir()
    (tmp_path / "secret.txt").write_bytes(b"not yours")
    key = "b" * 64 + ".jpg"
    (directory / key).symlink_to(tmp_path / "secret.txt")
    with pytest.raises(InvalidPhotoKey):
        LocalPhotoStore(directory).open(key)


def test_a_missing_photo_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(PhotoNotFound):
        LocalPhotoStore(tmp_path).open("c" * 64 + ".png")
