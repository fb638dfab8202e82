"""Twilio request signatures (X-Twilio-Signature), checked with the twilio library.

Twilio signs the URL it called plus the sorted POST parameters. Behind a proxy the URL
Flask sees is not that one, so it is rebuilt from PUBLIC_BASE_URL (or, only when
explicitly trusted, from X-Forwarded-Proto / X-Forwarded-Host).
"""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

from bot.settings import Settings


def public_url(settings: Settings) -> str:
    """The URL Twilio used for the current request."""
    path = request.full_path if request.query_string else request.path
    if settings.public_base_url:
        return settings.public_base_url + path
    if settings.trust_forwarded_headers:
        proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
        host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
        return f"{proto}://{host}{path}"
    return request.url_root.rstrip("/") + path


def url_for_signing(settings: Settings, path: str, url_root: str) -> str:
    """The URL a signer must use for `path`, seen from a request at `url_root`."""
    if settings.public_base_url:
        return settings.public_base_url + path
    return url_root.rstrip("/") + path


def twilio_signature_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings: Settings = current_app.config["SETTINGS"]
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            abort(403)
        validator = RequestValidator(settings.signing_token)
        if not validator.validate(public_url(settings), request.form, signature):
            abort(403)
        return view(*args, **kwargs)

    return wrapper
