"""Flask application factory."""
from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from bot import metrics
from bot.clock import SystemClock
from bot.logs import configure_logging
from bot.services import Services
from bot.settings import Settings

# Twilio's largest inbound request (1,600 characters, 10 media URLs) is far below this.
MAX_REQUEST_BYTES = 64 * 1024


def create_app(config: Settings | None = None, services: Services | None = None) -> Flask:
    settings = config or (services.settings if services else Settings.from_env())
    if config is None and services is None and settings.problems():
        raise RuntimeError("; ".join(settings.problems()))
    services = services or Services(settings, SystemClock())
    app = Flask(__name__)
    app.config.update(SETTINGS=settings, SERVICES=services, MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)
    configure_logging(settings)
    metrics.record_to(services.redis)  # counts go to the shared Redis (bot/metrics.py)

    from webhook import (
        chat, demo, devphone, health, meetings, report_photos, sms, staff, staff_audit, staff_console, staff_export,
        staff_reports, staff_search, staff_session,
    )

    app.register_blueprint(health.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(chat.bp)
    app.register_blueprint(meetings.bp)
    app.register_blueprint(report_photos.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(staff_reports.bp)
    for blueprint in (staff_session.bp, staff_console.bp, staff_search.bp, staff_export.bp, staff_audit.bp):
        app.register_blueprint(blueprint)
    if not settings.twilio_enabled:
        app.register_blueprint(devphone.bp)
        app.register_blueprint(demo.bp)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if request.path.startswith("/staff") and "text/html" in request.headers.get("Accept", ""):
            page = render_template("staff/error.html", error=exc)  # a person reads it, in a browser
            return staff_session.private_headers(Response(page, exc.code)), exc.code
        return jsonify(error=exc.name, status=exc.code), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        # Twilio retries on 5xx; the message was not stored (or the store failed), so say so.
        app.logger.exception("unhandled error: %s", type(exc).__name__)
        return jsonify(error="temporarily unavailable", status=503), 503

    return app
