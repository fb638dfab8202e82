"""An example "department website" with the chat widget on it, for `make run` and the browser test.

Registered only in development (no real Twilio credentials), like the development phone.
The page sends the strict Content-Security-Policy a department can copy: the widget needs
nothing inline, only script, style and fetch access to the webhook's origin, and images over
https (the assistant's and staff's messages may show one; narrow img-src to your image hosts).
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, make_response, render_template, request

from bot.services import Services

bp = Blueprint("demo", __name__, url_prefix="/demo")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' https:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@bp.get("")
def page() -> Response:
    services: Services = current_app.config["SERVICES"]
    languages = services.profile.languages
    language = request.args.get("lang", languages[0])
    if language not in languages:
        language = languages[0]
    response = make_response(render_template("demo.html", profile=services.profile, language=language))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
