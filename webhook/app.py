"""Flask application factory."""
from __future__ import annotations

from flask import Flask, jsonify
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

    from webhook import chat, demo, devphone, health, meetings, report_photos, sms, staff, staff_reports

    app.register_blueprint(health.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(chat.bp)
    app.register_blueprint(meetings.bp)
    app.register_blueprint(report_photos.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(staff_reports.bp)
    if not settings.twilio_enabled:
        app.register_blueprint(devphone.bp)
        app.register_blueprint(demo.bp)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        return jsonify(error=exc.name, status=exc.code), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        # Twilio retries on 5xx; the message was not stored (or the store failed), so say so.
        app.logger.exception("unhandled error: %s", type(exc).__name__)
        return jsonify(error="temporarily unavailable", status=503), 503

    return app
