"""Links to a report's photos that the department's system can fetch (Open311 `media_url`).

The department's server fetches the picture itself, without our staff sign-in, so the link
carries its own proof: an HMAC of the photo key. Keys are content hashes of cleaned
pictures (no location metadata), and only a key with a valid signature is served
(webhook/report_photos.py), so links cannot be guessed or enumerated.
"""
from __future__ import annotations

import hashlib
import hmac

LABEL = b"report-photo-link-v1:"


class PhotoLinks:
    def __init__(self, secret: str, public_base_url: str) -> None:
        self._key = hashlib.sha256(LABEL + secret.encode("utf-8")).digest()
        self._base = public_base_url.rstrip("/")

    def signature(self, photo_key: str) -> str:
        return hmac.new(self._key, photo_key.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def url(self, photo_key: str) -> str:
        return f"{self._base}/reports/photos/{photo_key}?sig={self.signature(photo_key)}"

    def valid(self, photo_key: str, signature: str) -> bool:
        return hmac.compare_digest(self.signature(photo_key).encode(), (signature or "").encode("utf-8", "replace"))
