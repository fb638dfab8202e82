"""`make run`: start every process of the assistant and stop them all on Ctrl-C.

Rasa server, action server, webhook (gunicorn), worker and recovery sweeper run under
honcho (Procfile). When REDIS_URL is not set, a local Redis is started first.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.settings import DEV_RASA_TOKEN  # noqa: E402
from scripts.localredis import LocalRedis  # noqa: E402


def main() -> int:
    env = dict(os.environ)
    local_redis: LocalRedis | None = None
    if not env.get("REDIS_URL"):
        local_redis = LocalRedis(port=int(env.get("LOCAL_REDIS_PORT", "6390")), workdir=ROOT / "var" / "redis")
        local_redis.start()
        env["REDIS_URL"] = local_redis.url
    redis_url = urlparse(env["REDIS_URL"])
    webhook_port = env.setdefault("WEBHOOK_PORT", "5000")
    env.setdefault("WEBHOOK_BIND", "127.0.0.1")
    env.setdefault("WEBHOOK_WORKERS", "2")
    # Threads, so that web chat long polls (up to WEB_POLL_WAIT_SECONDS each) never hold up Twilio.
    env.setdefault("WEBHOOK_THREADS", "16")
    env.setdefault("RASA_HOST", "127.0.0.1")
    env.setdefault("RASA_PORT", "5005")
    env.setdefault("ACTION_PORT", "5055")
    env.setdefault("RASA_URL", f"http://127.0.0.1:{env['RASA_PORT']}")
    env.setdefault("ACTION_SERVER_URL", f"http://127.0.0.1:{env['ACTION_PORT']}/webhook")
    env.setdefault("RASA_REDIS_HOST", redis_url.hostname or "127.0.0.1")
    env.setdefault("RASA_REDIS_PORT", str(redis_url.port or 6379))
    env.setdefault("RASA_REDIS_DB", "1")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("RASA_TOKEN", DEV_RASA_TOKEN)
    env.setdefault("PYTHONPATH", str(ROOT))

    base = env.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{webhook_port}"
    print("\n  Resident outreach assistant is starting (Rasa needs about 30 s to load).")
    if not env.get("TWILIO_ACCOUNT_SID"):
        print(f"  Development phone:   http://127.0.0.1:{webhook_port}/dev/phone")
        print(f"  Website chat demo:   http://127.0.0.1:{webhook_port}/demo")
    print(f"  Twilio SMS webhook:  {base}/sms/inbound   (status callback: {base}/sms/status)")
    print(f"  Chat widget script:  {base}/static/widget.js")
    print(f"  Staff console:       http://127.0.0.1:{webhook_port}/staff/   (an account: make staff-account NAME=ana ROLE=supervisor)")
    print(f"  Health:              http://127.0.0.1:{webhook_port}/healthz")
    print("  Press Ctrl-C to stop everything.\n", flush=True)

    honcho = subprocess.Popen([str(Path(sys.executable).parent / "honcho"), "start", "-f", "Procfile"],
                              cwd=ROOT, env=env)
    try:
        return honcho.wait()
    except KeyboardInterrupt:
        honcho.send_signal(signal.SIGINT)
        return honcho.wait()
    finally:
        if local_redis:
            local_redis.stop()


if __name__ == "__main__":
    sys.exit(main())
