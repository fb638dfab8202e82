"""A report's photo for the department's system (the Open311 `media_url`), by signed link only.

See bot/reports/photo_links.py. Only cleaned pictures attached to a report are served; an
unsigned, wrongly signed or unknown key is a 404 (no hint that the picture exists).
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import select

from bot.reports.photos import InvalidPhotoKey, PhotoNotFound
from bot.services import Services
from bot.storage.models import ReportPhoto

bp = Blueprint("report_photos", __name__, url_prefix="/reports/photos")
PHOTO_TYPES = ("image/jpeg", "image/png")


@bp.get("/<key>")
def photo(key: str):  # type: ignore[no-untyped-def]
    services: Services = current_app.config["SERVICES"]
    if not services.photo_links.valid(key, request.args.get("sig", "")):
        abort(404)
    with services.db.session() as session:
        row = session.execute(select(ReportPhoto).where(ReportPhoto.key == key).limit(1)).scalar_one_or_none()
    if row is None or row.content_type not in PHOTO_TYPES:
        abort(404)
    try:
        data = services.photo_store.open(key)
    except (InvalidPhotoKey, PhotoNotFound):
        abort(404)
    return Response(data, mimetype=row.content_type, headers={
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400"})
