"""Photos residents attach to a non-emergency report (MMS media), fetched safely and kept clean.

Three steps, each usable alone:

- `PhotoFetcher` downloads one MMS media URL. Twilio serves media from its API host with HTTP Basic
  auth (account SID + auth token) and redirects to a CDN (a pre-signed storage URL): redirects are
  followed by hand so the credentials go only to the origin of the first URL, never to the CDN.
  The body is streamed and the download stops as soon as it passes the size cap, so a runaway
  stream never sits in memory.
- `clean_photo` decodes the image (with a pixel cap against decompression bombs), applies the EXIF
  orientation and re-encodes only the pixels: no EXIF (so no GPS position of the resident's home),
  no XMP, no comments, no ICC profile.
- `LocalPhotoStore` keeps cleaned photos under content-addressed names. The Twilio URL is never
  stored: it carries our account SID and, for anyone holding the auth token, the original with
  its metadata.

Failures a resident should hear about ("that photo did not come through") are `PhotoError`s:
`PhotoTooLarge`, `NotAnImage`, `PhotoUnavailable`. Store problems (`InvalidPhotoKey`,
`PhotoNotFound`) are our bugs or missing files, not the resident's, and are kept apart on purpose.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests
from PIL import Image, ImageOps

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 5 * 1024 * 1024  # Twilio's own limit for inbound MMS media is 5 MB
DEFAULT_MAX_PIXELS = 40_000_000  # 40 MP: above any phone camera, far below what exhausts a worker's memory
DEFAULT_MAX_SIDE = 2048  # plenty for an officer to read a plate or a tag; keeps files ~0.5 MB
JPEG_QUALITY = 85
CHUNK_BYTES = 64 * 1024
REDIRECT_CODES = (301, 302, 303, 307, 308)

# Real format (as Pillow names it) -> content type. MPO is how Pillow names many phone JPEGs
# (a JPEG with a second, depth or preview, picture appended): still a JPEG for everyone else.
FORMAT_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "GIF": "image/gif",
                "WEBP": "image/webp"}
PILLOW_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")  # JPEG's opener also returns MPO images
ALLOWED_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}  # seen from real servers
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}
_KEY = re.compile(r"^[0-9a-f]{64}\.(jpg|png)$")


class PhotoError(Exception):
    """A resident's photo cannot be used; the conversation goes on without it."""


class PhotoTooLarge(PhotoError):
    """The media is larger than the cap (declared by Content-Length, or seen while streaming)."""


class NotAnImage(PhotoError):
    """Not a JPEG, PNG, GIF or WebP by its content type or its bytes, damaged, or too many pixels."""


class PhotoUnavailable(PhotoError):
    """The media could not be downloaded: network failure, timeout or an HTTP error.

    `retryable` says whether trying again later may help (network, 5xx, 429), unlike a 404 or a
    URL we refuse to fetch.
    """

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class InvalidPhotoKey(ValueError):
    """A key that is not one `LocalPhotoStore.save` returned (e.g. "../../etc/passwd")."""


class PhotoNotFound(LookupError):
    """A well-formed key with no photo behind it."""


@dataclass(frozen=True)
class FetchedPhoto:
    """Downloaded bytes whose real format (from the bytes, not the header) is an allowed image."""

    data: bytes = field(repr=False)
    content_type: str
    declared_type: str | None = None


@dataclass(frozen=True)
class CleanPhoto:
    """Pixels only, re-encoded: safe to keep, show to staff or forward to the department."""

    data: bytes = field(repr=False)
    content_type: str
    width: int
    height: int
    sha256: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def redact_url(url: str) -> str:
    """scheme://host[:port]/path: no user:password@ and no query (a pre-signed CDN URL's query
    is a temporary credential), so the result may go into a log line or an exception."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host  # IPv6 literal
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparseable URL)"
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return (parts.scheme, (parts.hostname or "").lower(), port)


def _checked_url(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without user info, and that user info as Basic credentials (if any).

    Only http(s) with a host: a media URL is never a file:// path or a bare name.
    """
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise PhotoUnavailable("not a valid media URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PhotoUnavailable(f"only http(s) media URLs are fetched, not {parts.scheme or 'no scheme'}://")
    credentials = None
    if parts.username is not None or parts.password is not None:
        credentials = (unquote(parts.username or ""), unquote(parts.password or ""))
        netloc = parts.netloc.rpartition("@")[2]
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url, credentials


def _media_type(header: str | None) -> str | None:
    if not header:
        return None
    media_type = header.split(";", 1)[0].strip().lower()
    return TYPE_ALIASES.get(media_type, media_type)


def sniff_image_type(data: bytes) -> str:
    """The content type the bytes really are (JPEG, PNG, GIF or WebP), else NotAnImage.

    Reads the header only (Pillow's `open` is lazy): cheap, and no pixels are decoded here.
    """
    try:
        with Image.open(io.BytesIO(data), formats=PILLOW_FORMATS) as image:
            found = FORMAT_TYPES.get(image.format or "")
    except Image.DecompressionBombError:
        raise NotAnImage("image declares too many pixels") from None
    except Exception:  # Pillow raises many types (OSError, SyntaxError, ValueError...) on bad input
        raise NotAnImage("the bytes are not a JPEG, PNG, GIF or WebP image") from None
    if found is None:
        raise NotAnImage("the bytes are not a JPEG, PNG, GIF or WebP image")
    return found


class PhotoFetcher:
    """Downloads MMS media: Basic auth to the first origin only, timeouts, a streaming size cap."""

    def __init__(self, auth: tuple[str, str] | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 connect_timeout: float = 3.05, read_timeout: float = 10.0, total_timeout: float = 30.0,
                 max_redirects: int = 5, session: requests.Session | None = None) -> None:
        if max_bytes <= 0 or connect_timeout <= 0 or read_timeout <= 0 or total_timeout <= 0:
            raise ValueError("photo size cap and timeouts must be positive")
        self._auth = auth
        self._max_bytes = max_bytes
        self._timeout = (connect_timeout, read_timeout)
        self._total_timeout = total_timeout  # the read timeout is per socket read: a slow drip needs this too
        self._max_redirects = max_redirects
        self._session = session or requests.Session()

    @classmethod
    def from_settings(cls, settings: Settings) -> PhotoFetcher:
        """Twilio credentials when both are set (none with the development phone)."""
        auth = None
        if settings.twilio_account_sid and settings.twilio_auth_token:
            auth = (settings.twilio_account_sid, settings.twilio_auth_token)
        return cls(auth, max_bytes=settings.report_photo_max_bytes)

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    def __repr__(self) -> str:  # never show the auth token
        return f"PhotoFetcher(auth={'set' if self._auth else 'none'}, max_bytes={self._max_bytes})"

    def fetch(self, url: str) -> FetchedPhoto:
        """The media's bytes, checked to be an allowed image; a `PhotoError` otherwise."""
        url, url_credentials = _checked_url(url)
        auth_origin = _origin(url)
        auth = self._auth or url_credentials
        deadline = time.monotonic() + self._total_timeout
        for _ in range(self._max_redirects + 1):
            send_auth = auth if _origin(url) == auth_origin else None
            try:
                response = self._session.get(url, stream=True, allow_redirects=False, auth=send_auth,
                                             timeout=self._timeout,
                                             headers={"Accept": "image/*", "Accept-Encoding": "identity"})
            except requests.RequestException as exc:
                log.warning("photo fetch from %s failed: %s", redact_url(url), type(exc).__name__)
                raise PhotoUnavailable(f"media download failed: {type(exc).__name__}", retryable=True) from None
            try:
                if response.status_code in REDIRECT_CODES:
                    location = response.headers.get("Location")
                    if not location:
                        raise PhotoUnavailable(f"HTTP {response.status_code} redirect without a Location",
                                               status=response.status_code)
                    # The CDN URL may carry its own user info: never reuse it, never send ours there.
                    url, _ = _checked_url(urljoin(url, location))
                    continue
                return self._read(response, url, deadline)
            finally:
                response.close()
        raise PhotoUnavailable(f"more than {self._max_redirects} redirects")

    def _read(self, response: requests.Response, url: str, deadline: float) -> FetchedPhoto:
        code = response.status_code
        if code != 200:
            log.info("photo fetch from %s answered HTTP %s", redact_url(url), code)
            raise PhotoUnavailable(f"media download answered HTTP {code}", status=code,
                                   retryable=code >= 500 or code in (408, 429))
        declared = _media_type(response.headers.get("Content-Type"))
        if declared is not None and declared not in ALLOWED_TYPES:
            raise NotAnImage(f"media is {declared}, not a JPEG, PNG, GIF or WebP image")
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self._max_bytes:
            raise PhotoTooLarge(f"media is {int(length)} bytes, more than {self._max_bytes}")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(CHUNK_BYTES):
                size += len(chunk)
                if size > self._max_bytes:
                    raise PhotoTooLarge(f"media is more than {self._max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise PhotoUnavailable("media download took too long", retryable=True)
                chunks.append(chunk)
        except requests.RequestException as exc:
            log.warning("photo download from %s failed: %s", redact_url(url), type(exc).__name__)
            raise PhotoUnavailable(f"media download failed: {type(exc).__name__}", retryable=True) from None
        data = b"".join(chunks)
        return FetchedPhoto(data=data, content_type=sniff_image_type(data), declared_type=declared)


def clean_photo(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_side: int = DEFAULT_MAX_SIDE,
                quality: int = JPEG_QUALITY) -> CleanPhoto:
    """Pixels only: orientation applied, metadata gone, at most `max_side` px on the longest side.

    Photos (JPEG, WebP) come out as JPEG; PNG and GIF (screenshots, drawings) as PNG, first frame
    only. A new image is built from the raw pixels so nothing in `info` (EXIF, XMP, comments, ICC)
    can ride along: Pillow re-writes a JPEG comment from `info` even when no EXIF is passed.
    """
    as_png = sniff_image_type(data) in ("image/png", "image/gif")
    try:
        with Image.open(io.BytesIO(data), formats=PILLOW_FORMATS) as image:
            width, height = image.size
            # Checked before decoding any pixel; Pillow's own (global, 89 MP) limit is a backstop.
            if width <= 0 or height <= 0 or width * height > max_pixels:
                raise NotAnImage(f"image of {width}x{height} pixels is over the {max_pixels} pixel limit")
            image.load()
            upright = ImageOps.exif_transpose(image)
            upright = _png_mode(upright) if as_png else _rgb(upright)
            if max(upright.size) > max_side:
                upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            pixels = Image.frombytes(upright.mode, upright.size, upright.tobytes())  # empty info: no metadata
    except NotAnImage:
        raise
    except Image.DecompressionBombError:
        raise NotAnImage("image declares too many pixels") from None
    except Exception:  # truncated or corrupt data fails only at load(), odd modes at convert()
        raise NotAnImage("the image could not be decoded") from None

    out = io.BytesIO()
    if as_png:
        pixels.save(out, "PNG", optimize=True)
        content_type = "image/png"
    else:
        pixels.save(out, "JPEG", quality=quality, optimize=True)
        content_type = "image/jpeg"
    encoded = out.getvalue()
    return CleanPhoto(data=encoded, content_type=content_type, width=pixels.width, height=pixels.height,
                      sha256=hashlib.sha256(encoded).hexdigest())


def _rgb(image: Image.Image) -> Image.Image:
    """JPEG has no transparency: flatten onto white (a transparent area reads as white, not black)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or image.has_transparency_data:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _png_mode(image: Image.Image) -> Image.Image:
    """A mode `frombytes` can rebuild without a palette: the palette (P) is metadata we drop too."""
    if image.mode in ("1", "L", "LA", "RGB", "RGBA"):
        return image
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


class PhotoStore(Protocol):
    """Where cleaned photos live; keys are opaque strings that `save` hands out."""

    def save(self, photo: CleanPhoto) -> str:
        """Keep the photo; returns its key (the same photo twice gives the same key)."""
        ...

    def open(self, key: str) -> bytes:
        """The photo's bytes; InvalidPhotoKey or PhotoNotFound otherwise."""
        ...

    def path(self, key: str) -> Path:
        """A local file to serve the photo from (e.g. to staff pages)."""
        ...


class LocalPhotoStore:
    """Files named `<sha256>.<jpg|png>` in one directory, created on the first save.

    Content addressing makes a repeated save (a retried job, the same photo twice) a no-op, and
    keys can be checked by their shape alone, so no key reaches outside the directory.
    """

    def __init__(self, directory: Path | str) -> None:
        self._directory = Path(directory)

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalPhotoStore:
        return cls(settings.report_photo_dir)

    @property
    def directory(self) -> Path:
        return self._directory

    def save(self, photo: CleanPhoto) -> str:
        """Write to a temporary file in the same directory, then rename: readers see all or nothing."""
        if hashlib.sha256(photo.data).hexdigest() != photo.sha256:
            raise ValueError("photo.sha256 does not match its data")
        key = f"{photo.sha256}.{photo.extension}"
        final = self._directory / key
        if final.is_file():
            return key
        self._directory.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=self._directory, prefix=".incoming-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as temp:
                temp.write(photo.data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, final)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return key

    def path(self, key: str) -> Path:
        """The file for a key, refusing anything but a key `save` could have made."""
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InvalidPhotoKey("not a photo key")
        path = self._directory / key
        if path.resolve().parent != self._directory.resolve():  # belt and braces: symlinked key names
            raise InvalidPhotoKey("not a photo key")
        return path

    def open(self, key: str) -> bytes:
        path = self.path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise PhotoNotFound(key) from None

    def content_type(self, key: str) -> str:
        """What to serve the file as, from its key's extension."""
        return "image/png" if self.path(key).suffix == ".png" else "image/jpeg"
