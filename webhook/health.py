"""Health and metrics for load balancers, orchestrators and Prometheus.

/healthz: this process answers (liveness). Public, cheap, touches nothing.
/readyz:  Redis (PING), the database (SELECT 1) and Rasa (GET /) answer, checked in parallel
          within READY_DEADLINE seconds: 200 or 503 with one word per check, never a 500.
/metrics: the Prometheus text format (bot/metrics.py).

/readyz and /metrics answer only METRICS_ALLOWED_IPS (404 to anyone else, as if absent),
and only requests that came straight from the client: a request relayed by a reverse proxy
(X-Forwarded-For, Forwarded, X-Real-IP) counts as from outside, since behind a proxy on the
same host every visitor would otherwise look like 127.0.0.1.
"""
from __future__ import annotations

import ipaddress
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import wraps
from typing import Any, Callable

import requests
from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import text

from bot import metrics
from bot.services import Services
from bot.settings import Settings

bp = Blueprint("health", __name__)

RASA_TIMEOUT = 2.0  # seconds for Rasa's answer
READY_DEADLINE = 3.0  # seconds for all checks: a hung database must not hang the probe
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _checks_pool() -> ThreadPoolExecutor:
    """A small pool per process, made on first use: a check stuck past the deadline holds one
    of its threads, never a new one per probe."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="readyz")
        return _pool


def _services() -> Services:
    return current_app.config["SERVICES"]


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def client_allowed(remote_addr: str | None, allowed: tuple[str, ...], relayed: bool) -> bool:
    if "*" in allowed:
        return True
    if relayed or not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in allowed)


def internal_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        relayed = any(request.headers.get(name) for name in PROXY_HEADERS)
        if not client_allowed(request.remote_addr, _settings().metrics_allowed_ips, relayed):
            abort(404)
        return view(*args, **kwargs)

    return wrapper


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")


def _redis(services: Services) -> None:
    services.redis.ping()


def _database(services: Services) -> None:
    with services.db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _rasa(services: Services) -> None:
    """Rasa answers GET / only once its model is loaded (the server starts listening after)."""
    response = requests.get(services.settings.rasa_url + "/", timeout=RASA_TIMEOUT)
    if response.status_code != 200:
        raise ConnectionError(f"HTTP {response.status_code}")


CHECKS: dict[str, Callable[[Services], None]] = {"redis": _redis, "database": _database, "rasa": _rasa}


def readiness(services: Services, deadline: float = READY_DEADLINE) -> dict[str, str]:
    """{"redis": "ok", "database": "unavailable (OperationalError)", ...}: the exception type only,
    since messages can carry URLs and credentials."""
    futures: dict[str, Future[None]] = {name: _checks_pool().submit(check, services)
                                        for name, check in CHECKS.items()}
    wait(futures.values(), timeout=deadline)
    results = {}
    for name, future in futures.items():
        if not future.done():
            future.cancel()
            results[name] = "timeout"
        elif future.exception() is not None:
            results[name] = f"unavailable ({type(future.exception()).__name__})"
        else:
            results[name] = "ok"
    return results


@bp.get("/readyz")
@internal_only
def readyz():  # type: ignore[no-untyped-def]
    try:
        checks = readiness(_services())
    except Exception as exc:  # even a broken probe answers 503, never 500
        checks = {"readyz": f"unavailable ({type(exc).__name__})"}
    ready = all(result == "ok" for result in checks.values())
    failed = sorted(name for name, result in checks.items() if result != "ok")
    return jsonify(status="ready" if ready else "unavailable", checks=checks, failed=failed), 200 if ready else 503


@bp.get("/metrics")
@internal_only
def prometheus_metrics() -> Response:
    return Response(metrics.exposition(_services()), headers={"Content-Type": metrics.CONTENT_TYPE})
