"""Every setting the assistant reads, from the environment, in one place.

`.env.example` documents each variable. Defaults are the embedded development set-up
(SQLite under var/, a local Redis, the development phone instead of Twilio).
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parent.parent

DEV_AUTH_TOKEN = "dev-phone-auth-token-not-secret"
DEV_SENDER_ID_KEY = "dev-sender-id-key-change-me-in-production"
# Rasa's HTTP API (/model/parse) needs a token; Rasa must never be reachable from outside anyway.
DEV_RASA_TOKEN = "dev-rasa-token-change-me-in-production"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    return int(raw) if raw else default


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    return float(raw) if raw else default


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated origins ("https://www.city.gov"), compared without a trailing slash."""
    raw = env.get(name, "")
    return tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())


def _allowed_ips(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """"127.0.0.1,::1,10.0.0.0/8" or "*": a typo must stop start-up, not open /metrics to anyone."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    entries = tuple(part.strip() for part in raw.split(",") if part.strip())
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"{name} must list IP addresses or networks (or *), not {entry!r}") from None
    return entries


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {raw!r}")
    return raw


def _delays(env: Mapping[str, str], name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    return tuple(float(part) for part in raw.split(",") if part.strip())


def _pairs(env: Mapping[str, str], name: str) -> dict[str, str]:
    """"graffiti=GRF-01,noise=NOISE": a typo must stop start-up, not misroute a report."""
    pairs: dict[str, str] = {}
    for part in env.get(name, "").split(","):
        if not part.strip():
            continue
        key, sep, value = (piece.strip() for piece in part.partition("="))
        if not (sep and key and value) or key in pairs:
            raise ValueError(f"{name} must look like graffiti=GRF-01,noise=NOISE, each name once;"
                             f" not {part.strip()!r}")
        pairs[key] = value
    return pairs


def _quiet_hours(env: Mapping[str, str], name: str, default: tuple[str, str]) -> tuple[str, str]:
    """"21:00-08:00" (local time, may wrap midnight); "" keeps the default, "off" disables."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"off", "none", "0"}:
        return ("00:00", "00:00")
    start, _, end = raw.partition("-")
    for part in (start, end):
        hours, _, minutes = part.strip().partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError(f"{name} must look like 21:00-08:00, not {raw!r}")
    return (start.strip(), end.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{ROOT / 'var' / 'assistant.db'}"
    redis_url: str = "redis://127.0.0.1:6379/0"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout: float = 10.0
    rasa_token: str = field(default=DEV_RASA_TOKEN, repr=False)
    public_base_url: str | None = None
    trust_forwarded_headers: bool = False
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str | None = None
    sender_id_key: str = DEV_SENDER_ID_KEY
    department_profile: Path = ROOT / "department.yml"
    domain_path: Path = ROOT / "domain.yml"
    # The safety screen's learned signal (bot/safety_signal.py): trained from data/ by `make model`
    # (or at start when missing or stale), and its two thresholds, chosen by `make calibrate-safety`.
    safety_model: Path = ROOT / "models" / "safety.pkl"
    safety_thresholds: Path = ROOT / "data" / "safety" / "thresholds.json"
    # Which kind of report a story tells (bot/reports/kinds.py): trained like the safety signal.
    report_kinds_model: Path = ROOT / "models" / "report_kinds.pkl"
    queue_name: str = "inbound"
    dedupe_ttl_seconds: int = 48 * 3600
    rate_limit_count: int = 12
    rate_limit_window_seconds: int = 60
    max_turn_attempts: int = 3
    turn_retry_delays: tuple[float, ...] = (2.0, 10.0, 30.0)
    outbound_retry_delays: tuple[float, ...] = (10.0, 60.0, 300.0)
    recovery_age_seconds: int = 120
    conversation_lock_seconds: int = 120
    max_body_chars: int = 1600
    web_allowed_origins: tuple[str, ...] = ()
    web_ip_rate_limit_count: int = 60
    web_ip_rate_limit_window_seconds: int = 60
    web_sessions_per_ip: int = 20
    web_sessions_window_seconds: int = 3600
    web_poll_wait_seconds: int = 20
    web_session_idle_seconds: int = 7 * 24 * 3600
    webhook_port: int = 5000
    sweep_interval_seconds: float = 30.0
    report_photo_dir: Path = ROOT / "var" / "photos"
    report_photo_max_bytes: int = 5 * 1024 * 1024
    # The staff console (OWASP session guidance): idle and absolute session timeouts, lockout.
    staff_idle_minutes: int = 30
    staff_absolute_hours: int = 10
    staff_lockout_failures: int = 5
    staff_lockout_minutes: int = 15
    # A new safety handoff texts this number (optional): an on-call supervisor's phone.
    handoff_oncall_number: str | None = field(default=None, repr=False)
    # Transcripts older than this are redacted or deleted by the sweeper (0: kept for ever).
    retention_days: int = 365
    retention_mode: str = "redact"  # redact | purge
    open311_base_url: str | None = None
    open311_api_key: str | None = field(default=None, repr=False)
    open311_jurisdiction_id: str | None = None
    open311_service_codes: Mapping[str, str] = field(default_factory=dict)
    open311_attributes: Mapping[str, str] = field(default_factory=dict)
    open311_timeout: float = 10.0
    report_poll_seconds: float = 300.0
    meetings_calendar: str | None = None
    meeting_reminder_minutes: tuple[int, ...] = (24 * 60, 120)
    quiet_hours: tuple[str, str] = ("21:00", "08:00")
    meetings_page_size: int = 3
    log_level: str = "INFO"
    log_format: str = "text"  # "json": one JSON object per line (bot/logs.py)
    # Who may read /metrics and /readyz (addresses or networks; "*" anyone): see webhook/health.py.
    metrics_allowed_ips: tuple[str, ...] = ("127.0.0.1", "::1")
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def twilio_enabled(self) -> bool:
        """Real Twilio is used only when credentials and a sender are configured."""
        return bool(
            self.twilio_account_sid
            and self.twilio_auth_token
            and (self.twilio_from_number or self.twilio_messaging_service_sid)
        )

    @property
    def public_url(self) -> str:
        """Where residents reach the webhook (links in texts): PUBLIC_BASE_URL, else this machine."""
        return self.public_base_url or f"http://127.0.0.1:{self.webhook_port}"

    @property
    def signing_token(self) -> str:
        """Token that signs inbound webhooks: Twilio's, or the development phone's."""
        return self.twilio_auth_token or DEV_AUTH_TOKEN

    @property
    def open311_enabled(self) -> bool:
        """Reports go to the department's Open311 server once its URL is set (else the local store)."""
        return bool(self.open311_base_url)

    def problems(self) -> list[str]:
        """Settings that must not reach production; processes refuse to start with them."""
        found = []
        if self.twilio_enabled and self.sender_id_key == DEV_SENDER_ID_KEY:
            found.append("SENDER_ID_KEY must be set to a secret when Twilio is configured")
        if self.twilio_enabled and self.rasa_token == DEV_RASA_TOKEN:
            found.append("RASA_TOKEN must be set to a secret when Twilio is configured")
        if self.twilio_enabled and not self.public_base_url and not self.trust_forwarded_headers:
            found.append("PUBLIC_BASE_URL (or TRUST_FORWARDED_HEADERS) is needed to check Twilio signatures")
        return found

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        base = cls()
        return cls(
            database_url=env.get("DATABASE_URL") or base.database_url,
            redis_url=env.get("REDIS_URL") or base.redis_url,
            rasa_url=(env.get("RASA_URL") or base.rasa_url).rstrip("/"),
            rasa_timeout=_float(env, "RASA_TIMEOUT", base.rasa_timeout),
            rasa_token=env.get("RASA_TOKEN") or base.rasa_token,
            public_base_url=(env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
            trust_forwarded_headers=_bool(env, "TRUST_FORWARDED_HEADERS", False),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            twilio_from_number=env.get("TWILIO_FROM_NUMBER") or None,
            twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
            twilio_api_base_url=env.get("TWILIO_API_BASE_URL") or None,
            sender_id_key=env.get("SENDER_ID_KEY") or base.sender_id_key,
            department_profile=Path(env.get("DEPARTMENT_PROFILE") or base.department_profile),
            domain_path=Path(env.get("DOMAIN_PATH") or base.domain_path),
            safety_model=Path(env.get("SAFETY_MODEL") or base.safety_model),
            safety_thresholds=Path(env.get("SAFETY_THRESHOLDS") or base.safety_thresholds),
            report_kinds_model=Path(env.get("REPORT_KINDS_MODEL") or base.report_kinds_model),
            queue_name=env.get("QUEUE_NAME") or base.queue_name,
            dedupe_ttl_seconds=_int(env, "DEDUPE_TTL_SECONDS", base.dedupe_ttl_seconds),
            rate_limit_count=_int(env, "RATE_LIMIT_COUNT", base.rate_limit_count),
            rate_limit_window_seconds=_int(env, "RATE_LIMIT_WINDOW_SECONDS", base.rate_limit_window_seconds),
            max_turn_attempts=_int(env, "MAX_TURN_ATTEMPTS", base.max_turn_attempts),
            turn_retry_delays=_delays(env, "TURN_RETRY_DELAYS", base.turn_retry_delays),
            outbound_retry_delays=_delays(env, "OUTBOUND_RETRY_DELAYS", base.outbound_retry_delays),
            recovery_age_seconds=_int(env, "RECOVERY_AGE_SECONDS", base.recovery_age_seconds),
            conversation_lock_seconds=_int(env, "CONVERSATION_LOCK_SECONDS", base.conversation_lock_seconds),
            max_body_chars=_int(env, "MAX_BODY_CHARS", base.max_body_chars),
            web_allowed_origins=_origins(env, "WEB_ALLOWED_ORIGINS"),
            web_ip_rate_limit_count=_int(env, "WEB_IP_RATE_LIMIT_COUNT", base.web_ip_rate_limit_count),
            web_ip_rate_limit_window_seconds=_int(env, "WEB_IP_RATE_LIMIT_WINDOW_SECONDS",
                                                  base.web_ip_rate_limit_window_seconds),
            web_sessions_per_ip=_int(env, "WEB_SESSIONS_PER_IP", base.web_sessions_per_ip),
            web_sessions_window_seconds=_int(env, "WEB_SESSIONS_WINDOW_SECONDS", base.web_sessions_window_seconds),
            web_poll_wait_seconds=_int(env, "WEB_POLL_WAIT_SECONDS", base.web_poll_wait_seconds),
            web_session_idle_seconds=_int(env, "WEB_SESSION_IDLE_SECONDS", base.web_session_idle_seconds),
            webhook_port=_int(env, "WEBHOOK_PORT", base.webhook_port),
            sweep_interval_seconds=_float(env, "SWEEP_INTERVAL", base.sweep_interval_seconds),
            report_photo_dir=Path(env.get("REPORT_PHOTO_DIR") or base.report_photo_dir),
            report_photo_max_bytes=_int(env, "REPORT_PHOTO_MAX_BYTES", base.report_photo_max_bytes),
            staff_idle_minutes=_int(env, "STAFF_IDLE_MINUTES", base.staff_idle_minutes),
            staff_absolute_hours=_int(env, "STAFF_ABSOLUTE_HOURS", base.staff_absolute_hours),
            staff_lockout_failures=_int(env, "STAFF_LOCKOUT_FAILURES", base.staff_lockout_failures),
            staff_lockout_minutes=_int(env, "STAFF_LOCKOUT_MINUTES", base.staff_lockout_minutes),
            handoff_oncall_number=(env.get("HANDOFF_ONCALL_NUMBER") or "").strip() or None,
            retention_days=_int(env, "RETENTION_DAYS", base.retention_days),
            retention_mode=_choice(env, "RETENTION_MODE", base.retention_mode, ("redact", "purge")),
            open311_base_url=(env.get("OPEN311_BASE_URL") or "").strip().rstrip("/") or None,
            open311_api_key=(env.get("OPEN311_API_KEY") or "").strip() or None,
            open311_jurisdiction_id=(env.get("OPEN311_JURISDICTION_ID") or "").strip() or None,
            open311_service_codes=_pairs(env, "OPEN311_SERVICE_CODES"),
            open311_attributes=_pairs(env, "OPEN311_ATTRIBUTES"),
            open311_timeout=_float(env, "OPEN311_TIMEOUT", base.open311_timeout),
            report_poll_seconds=_float(env, "REPORT_POLL_INTERVAL", base.report_poll_seconds),
            meetings_calendar=env.get("MEETINGS_CALENDAR") or None,
            meeting_reminder_minutes=tuple(int(m) for m in _delays(env, "MEETING_REMINDER_MINUTES",
                                                                   base.meeting_reminder_minutes)),
            quiet_hours=_quiet_hours(env, "QUIET_HOURS", base.quiet_hours),
            meetings_page_size=_int(env, "MEETINGS_PAGE_SIZE", base.meetings_page_size),
            log_level=env.get("LOG_LEVEL") or base.log_level,
            log_format=_choice(env, "LOG_FORMAT", base.log_format, ("text", "json")),
            metrics_allowed_ips=_allowed_ips(env, "METRICS_ALLOWED_IPS", base.metrics_allowed_ips),
        )
