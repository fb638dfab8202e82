"""Staff console sign-in and the checks every staff page shares (OWASP session guidance).

- Username and password (Argon2id, bot/staff/accounts.py); repeated failures lock the account.
- A server-side session (bot/staff/sessions.py) behind an HttpOnly, SameSite=Strict cookie,
  `Secure` and `__Host-` prefixed whenever the console is served over HTTPS; idle and absolute
  timeouts; a new session id at every sign-in.
- `staff_required` guards a view: signed out goes to the sign-in page (a 401 for non-HTML
  callers); a supervisor-only view answers 403 to staff. Every POST through it must carry the
  session's CSRF token and must not come from another origin.
- Staff pages are never cached, framed, sniffed or sent as a referrer.
"""
from __future__ import annotations

import hmac
import logging
import secrets
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import (
    Blueprint, Response, abort, current_app, has_request_context, redirect, render_template, request, url_for,
)

from bot.services import Services
from bot.settings import Settings
from bot.staff.audit import Action
from bot.staff.sessions import StaffSession

log = logging.getLogger(__name__)

bp = Blueprint("staff_session", __name__, url_prefix="/staff")

SECURE_COOKIE = "__Host-staff"
PLAIN_COOKIE = "staff_session"
LOGIN_CSRF_COOKIE = "staff_login_csrf"
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _services() -> Services:
    return current_app.config["SERVICES"]


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def private_headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # same-origin, not no-referrer: under no-referrer Chromium sends "Origin: null" on the
    # console's own form posts, which the cross-site check must refuse
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault(
        "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
    return response


bp.after_request(private_headers)


# -- the cookie ----------------------------------------------------------------------------

def _https() -> bool:
    settings = _settings()
    if request.is_secure:
        return True
    if settings.trust_forwarded_headers and request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip() == "https":
        return True
    return bool(settings.public_base_url and settings.public_base_url.startswith("https://"))


def _secure_cookie() -> bool:
    """Secure everywhere except plain HTTP on this machine (development: `make run`)."""
    return _https() or request.host.rsplit(":", 1)[0] not in LOOPBACK


def _cookie_name() -> str:
    return SECURE_COOKIE if _secure_cookie() else PLAIN_COOKIE


def _set_session_cookie(response: Response, token: str) -> None:
    secure = _secure_cookie()
    response.set_cookie(SECURE_COOKIE if secure else PLAIN_COOKIE, token, httponly=True, secure=secure,
                        samesite="Strict", path="/")


SESSION_KEY = "staff.session"  # the request's session, looked up once per request


def current_staff(touch: bool = True) -> StaffSession | None:
    """Kept in the request's environ, not `g`: an app context (and its `g`) can outlive a request.
    `touch=False`: this request is not a person's activity (it does not extend the idle timeout)."""
    if SESSION_KEY not in request.environ:
        token = request.cookies.get(_cookie_name())
        request.environ[SESSION_KEY] = _services().staff_sessions.get(token, touch) if token else None
    return request.environ[SESSION_KEY]


@bp.app_context_processor
def _template_values() -> dict[str, Any]:
    staff = request.environ.get(SESSION_KEY) if has_request_context() else None
    return {"staff": staff, "csrf_token": staff.csrf if staff else ""}


# -- cross-site checks ---------------------------------------------------------------------

def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins() -> set[str]:
    settings = _settings()
    own = {_origin_of(request.host_url)}
    if settings.public_base_url:
        own.add(_origin_of(settings.public_base_url))
    if settings.trust_forwarded_headers:
        proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
        host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
        own.add(f"{proto}://{host}".lower())
    return own


def _same_site() -> None:
    origin = request.headers.get("Origin")
    if origin is not None and origin.lower() not in own_origins():
        abort(403, description="cross-site form post refused")
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403, description="cross-site form post refused")


def _check_csrf(expected: str) -> None:
    sent = (request.form.get("csrf_token") or "").encode()
    if not sent or not hmac.compare_digest(sent, expected.encode()):
        abort(403, description="This form expired or did not come from this site. Reload the page and try again.")


# -- the guard -----------------------------------------------------------------------------

def staff_required(view: Callable[..., Any] | None = None, *, supervisor: bool = False, activity: bool = True) -> Any:
    """`@staff_required`, `@staff_required(supervisor=True)`; `activity=False` for what pages
    fetch by themselves (polling), so an open tab does not keep a session alive for ever."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = current_staff(touch=activity)
            if staff is None:
                if request.method in UNSAFE_METHODS or "text/html" not in request.headers.get("Accept", "text/html"):
                    abort(401, description="Sign in again.")
                return redirect(url_for("staff_session.sign_in", next=request.full_path.rstrip("?")), 303)
            if request.method in UNSAFE_METHODS:
                _same_site()
                _check_csrf(staff.csrf)
            if supervisor and not staff.supervisor:
                abort(403, description="Supervisors only.")
            return func(*args, **kwargs)
        return wrapper

    return decorate(view) if view is not None else decorate


# -- sign-in and sign-out ------------------------------------------------------------------

def _safe_next(target: str | None) -> str:
    """Only a path on this console: never an absolute or scheme-relative URL (open redirect)."""
    if target and target.startswith("/staff") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("staff_console.queue")


@bp.get("/sign-in")
def sign_in():  # type: ignore[no-untyped-def]
    if current_staff() is not None:
        return redirect(_safe_next(request.args.get("next")), 303)
    return _sign_in_page(200)


def _sign_in_page(status: int, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    settings = _settings()
    response = Response(render_template(
        "staff/sign_in.html", csrf_token=token, error=error, next=request.values.get("next", ""),
        failures=settings.staff_lockout_failures, minutes=settings.staff_lockout_minutes), status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, secure=_secure_cookie(), samesite="Strict",
                        path="/staff/sign-in", max_age=3600)
    return response


@bp.post("/sign-in")
def sign_in_post():  # type: ignore[no-untyped-def]
    """The form carries a token matching a cookie only this site could set (login CSRF)."""
    _same_site()
    _check_csrf(request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(8))
    services = _services()
    username = (request.form.get("username") or "").strip().lower()[:64]
    password = request.form.get("password") or ""
    result = services.staff_accounts.sign_in(username, password)
    if result.account is None:
        # A name that is no account is not written down: people type passwords into it.
        actor = username if services.staff_accounts.by_username(username) else "(unknown name)"
        services.audit.record(actor, Action.LOCKED_OUT if result.locked else Action.SIGN_IN_FAILED)
        return _sign_in_page(401, "Wrong username or password, or the account is locked for now.")
    account = result.account
    token = services.staff_sessions.create(account.id, account.username, account.role)
    services.audit.record(account.username, Action.SIGN_IN)
    response = redirect(_safe_next(request.form.get("next")), 303)
    _set_session_cookie(response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff/sign-in")
    return response


@bp.post("/sign-out")
@staff_required
def sign_out():  # type: ignore[no-untyped-def]
    staff = current_staff()
    assert staff is not None
    _services().staff_sessions.end(staff)
    _services().audit.record(staff.username, Action.SIGN_OUT)
    response = redirect(url_for("staff_session.sign_in"), 303)
    response.delete_cookie(_cookie_name(), path="/")
    return response
