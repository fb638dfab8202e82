"""The web chat API behind the website widget (webhook/static/widget.js).

    POST /chat/api/sessions            {"language": "es"}             -> 201 {"token", "language"}
    POST /chat/api/messages  (token)   {"text": "...", "client_id"}   -> 202 {"id", "status"}
    GET  /chat/api/messages  (token)   ?after=<id>&wait=<seconds>     -> 200 {"messages", "language"}
    GET  /chat/api/strings                                            -> 200 the widget's interface text

The token goes in `Authorization: Bearer <token>`. A session that has had no message for
WEB_SESSION_IDLE_SECONDS is answered exactly like an unknown one (401, same body, so nobody
learns whether a token ever existed): the widget then starts a new session. Cross-origin calls
are answered only for the origins in WEB_ALLOWED_ORIGINS (and the webhook's own); any other
Origin gets 403.
Errors are JSON with a sentence that says what to fix. Text is returned as JSON data and
the widget puts it in the page with textContent: nothing a resident, the assistant or
staff write is ever parsed as HTML.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, request
from werkzeug.exceptions import BadRequest, HTTPException

from bot.services import Services
from bot.settings import Settings
from bot.storage.messages import MessageStore
from bot.storage.models import Conversation, Message
from bot.webchat import CLIENT_ID_PATTERN, WebChatService

bp = Blueprint("chat", __name__, url_prefix="/chat/api")

STRINGS_FILE = Path(__file__).resolve().parent / "static" / "widget-strings.json"
PREFLIGHT_MAX_AGE = "600"


def json_response(payload: dict[str, Any], status: int = 200) -> Response:
    """JSON with <, > and & escaped (\\u003c...): even a client that sniffs or mis-renders the
    body never meets markup in it. These characters only occur inside JSON strings."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    body = body.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Response(body, status=status, mimetype="application/json")


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def _chat() -> WebChatService:
    services: Services = current_app.config["SERVICES"]
    return WebChatService(services)


# -- origins (CORS) ---------------------------------------------------------------------------

def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def origin_allowed(origin: str) -> bool:
    settings = _settings()
    allowed = settings.web_allowed_origins
    own = {_origin_of(request.host_url)}
    if settings.public_base_url:
        own.add(_origin_of(settings.public_base_url))
    return origin in own or origin in allowed or "*" in allowed


@bp.before_request
def _check_origin() -> Response | None:
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(origin):
        abort(403, description="this website is not allowed to use the chat (see WEB_ALLOWED_ORIGINS)")
    if request.method == "OPTIONS":  # CORS preflight of an allowed origin
        response = Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin is not None and origin_allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
    response.vary.add("Origin")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.errorhandler(HTTPException)
def _error(exc: HTTPException):  # type: ignore[no-untyped-def]
    response = json_response({"error": exc.description or exc.name, "status": exc.code}, exc.code or 500)
    if exc.code == 429:
        response.headers["Retry-After"] = str(_settings().web_ip_rate_limit_window_seconds)
    return response


# -- request parts ------------------------------------------------------------------------------

def _client_ip() -> str:
    if _settings().trust_forwarded_headers:
        hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
        if hops:
            return hops[-1]  # the address our own proxy saw
    return request.remote_addr or "unknown"


def _json_body(required: bool = True) -> dict[str, Any]:
    if not required and not request.get_data(cache=True):
        return {}
    if request.mimetype != "application/json":
        abort(415, description="send JSON with Content-Type: application/json")
    try:
        data = request.get_json()
    except BadRequest:
        abort(400, description="the body is not valid JSON")
    if not isinstance(data, dict):
        abort(400, description="the body must be a JSON object")
    return data


def _conversation() -> Conversation:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    conversation = _chat().find(token.strip()) if scheme.lower() == "bearer" else None
    if conversation is None:
        abort(401, description="unknown or expired chat session: start a new one")
    return conversation


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        abort(400, description=f"'{name}' must be a whole number from {low} to {high}")
    return int(raw)


def message_json(message: Message) -> dict[str, Any]:
    """What the widget needs; never intents, safety flags or button payloads."""
    return {
        "id": message.id,
        "direction": message.direction,
        "author": message.author,
        "text": message.text,
        "buttons": [button.title for button in MessageStore.buttons_of(message)],
        "at": message.created_at.isoformat() + "Z",
    }


# -- endpoints ----------------------------------------------------------------------------------

@bp.post("/sessions")
def start_session():  # type: ignore[no-untyped-def]
    data = _json_body(required=False)
    language = data.get("language")
    if language is not None and not isinstance(language, str):
        abort(400, description="'language' must be a string such as \"en\" or \"es\"")
    chat = _chat()
    if not chat.may_start_session(_client_ip()):
        abort(429, description="too many new chats from this address: try again later")
    token, conversation = chat.start(language)
    return json_response({"token": token, "language": conversation.language}, 201)


@bp.post("/messages")
def send_message():  # type: ignore[no-untyped-def]
    conversation = _conversation()
    data = _json_body()
    text, client_id = data.get("text"), data.get("client_id")
    if not isinstance(text, str):
        abort(400, description="'text' must be a string")
    if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.match(client_id):
        abort(400, description="'client_id' must be 8-40 letters, digits, '-' or '_' (a random id per message)")
    text = text.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    if not text.strip():
        abort(400, description="'text' is empty")
    limit = _settings().max_body_chars
    if len(text) > limit:
        abort(413, description=f"the message is too long: at most {limit} characters")
    chat = _chat()
    if not chat.may_send(_client_ip()):
        abort(429, description="too many messages from this address: wait a minute and try again")
    try:
        sent = chat.send(conversation, text, client_id)
    except ValueError as exc:
        abort(400, description=str(exc))
    return json_response({"id": sent.message_id, "status": sent.outcome.value}, 202)


@bp.get("/messages")
def read_messages():  # type: ignore[no-untyped-def]
    conversation = _conversation()
    after = _int_arg("after", 0, 0, 2**62)
    wait = _int_arg("wait", 0, 0, _settings().web_poll_wait_seconds)
    messages = _chat().read(conversation.id, after, wait)
    services: Services = current_app.config["SERVICES"]
    language = services.conversations.get(conversation.id).language
    return json_response({"messages": [message_json(m) for m in messages], "language": language})


@lru_cache(maxsize=1)
def interface_strings() -> dict[str, dict[str, str]]:
    with open(STRINGS_FILE, encoding="utf-8") as handle:
        return json.load(handle)


@bp.get("/strings")
def strings():  # type: ignore[no-untyped-def]
    return json_response(interface_strings())
