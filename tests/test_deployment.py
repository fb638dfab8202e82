"""The deployment files (docker-compose.yml, Dockerfile, Procfile) against the repository: we
cannot run Docker here, so every command, file, module, route and variable they name is checked."""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from bot.settings import ROOT, Settings
from scripts.model import MODEL
from webhook import health

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
APP = sorted(name for name, service in SERVICES.items() if "build" in service)  # our image
VENV_BIN = Path(sys.executable).parent
PROCFILE = {name.strip(): shlex.split(command)
            for name, _, command in (line.partition(":") for line in (ROOT / "Procfile").read_text().splitlines())
            if command.strip()}


def _documented() -> set[str]:
    return {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines()
            if re.match(r"^[A-Z][A-Z0-9_]*=", line)}


def test_compose_runs_every_process_and_its_stores() -> None:
    assert set(SERVICES) == {"rasa", "actions", "webhook", "worker", "sweeper", "migrate", "redis", "postgres"}
    assert APP == ["actions", "migrate", "rasa", "sweeper", "webhook", "worker"]
    assert {SERVICES[name]["image"] for name in APP} == {"resident-assistant:latest"}  # one image, built once
    for name in APP:
        assert ".env" in ([SERVICES[name]["env_file"]] if isinstance(SERVICES[name]["env_file"], str)
                          else SERVICES[name]["env_file"])


@pytest.mark.parametrize("name", APP)
def test_every_command_exists_in_the_repository(name: str) -> None:
    command = SERVICES[name]["command"]
    assert isinstance(command, list) and command[0].startswith(".venv/bin/"), command
    program = command[0].removeprefix(".venv/bin/")
    assert (VENV_BIN / program).exists(), f"{program} is not installed by requirements.lock"
    args = command[1:]
    if program == "python":
        assert args[0] == "-m"
        spec = importlib.util.find_spec(args[1])
        assert spec is not None and spec.origin and Path(spec.origin).is_relative_to(ROOT), args[1]
        assert "__main__" in Path(spec.origin).read_text(), f"{args[1]} cannot run as a program"
    elif program == "gunicorn":
        module, _, factory = args[-1].partition(":")
        assert callable(getattr(importlib.import_module(module), factory.removesuffix("()")))
    else:
        assert program == "rasa"
        options = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("--")}
        if args[:2] == ["run", "actions"]:
            assert (ROOT / options["--actions"] / "__init__.py").exists()
        else:
            assert options["--model"] == str(MODEL.relative_to(ROOT)), "the model `make model` writes"
            assert (ROOT / options["--endpoints"]).is_file() and (ROOT / options["--credentials"]).is_file()


@pytest.mark.parametrize("name", sorted(PROCFILE))
def test_procfile_and_compose_run_the_same_commands(name: str) -> None:
    """Token by token; a Procfile ${VARIABLE} may take any value in compose (ports, addresses)."""
    procfile, compose = PROCFILE[name], SERVICES[name]["command"]
    assert len(procfile) == len(compose), (procfile, compose)
    for expected, actual in zip(procfile, compose):
        pattern = ".+".join(re.escape(part) for part in re.split(r"\$\{[A-Z_]+\}", expected))
        assert re.fullmatch(pattern, actual), (expected, actual)


def test_every_variable_compose_uses_is_documented() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    for name in APP:
        used |= set(SERVICES[name].get("environment") or {})
    assert used and not used - _documented(), sorted(used - _documented())


def _read_by_settings() -> set[str]:
    """The variables `Settings.from_env` reads (by name, in its source)."""
    return set(re.findall(r'"([A-Z][A-Z0-9_]+)"', inspect.getsource(Settings.from_env)))


def test_every_setting_is_documented_in_env_example() -> None:
    read = _read_by_settings()
    assert {"DATABASE_URL", "STAFF_IDLE_MINUTES", "RETENTION_MODE"} <= read  # the source is parsed
    assert not read - _documented(), sorted(read - _documented())


# Where a documented variable may be read besides bot/settings.py (processes, Rasa, compose).
READERS = ["bot", "webhook", "actions", "scripts", "Makefile", "Procfile", "docker-compose.yml", "endpoints.yml",
           "alembic.ini", "migrations"]


def test_env_example_documents_no_variable_nothing_reads() -> None:
    """A removed setting (STAFF_ACCOUNTS: staff accounts now live in the database) must not linger."""
    sources = []
    for name in READERS:
        path = ROOT / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        sources += [f.read_text() for f in files if f.is_file() and f.suffix in ("", ".py", ".yml", ".ini")]
    text = "\n".join(sources)
    unread = sorted(name for name in _documented() if not re.search(rf"\b{name}\b", text))
    assert not unread, unread
    assert "STAFF_ACCOUNTS" not in _documented()


def test_compose_points_the_processes_at_its_own_stores_and_rasa() -> None:
    env = SERVICES["webhook"]["environment"]
    settings = Settings.from_env({key: str(value) for key, value in env.items()})
    assert settings.database_url.startswith("postgresql://assistant:") and settings.database_url.endswith(
        "@postgres:5432/assistant")
    assert settings.redis_url == "redis://redis:6379/0" and settings.rasa_url == "http://rasa:5005"
    assert env["ACTION_SERVER_URL"] == "http://actions:5055/webhook" and env["RASA_REDIS_HOST"] == "redis"
    assert env["RASA_REDIS_DB"] != "0", "Rasa's trackers get their own Redis database"
    for name in ("webhook", "worker", "sweeper"):  # photos are written by workers, served by the webhook
        assert "photos:/app/var/photos" in SERVICES[name]["volumes"]
        assert env["REPORT_PHOTO_DIR"] == "/app/var/photos"


def test_rasa_and_the_action_server_are_not_published() -> None:
    """Rasa has no authentication: only the compose network may reach it."""
    for name in ("rasa", "actions", "worker", "sweeper", "redis", "postgres"):
        assert "ports" not in SERVICES[name], name
    assert all(port.startswith("127.0.0.1:") for port in SERVICES["webhook"]["ports"])


def test_start_order_and_health_checks() -> None:
    for name, service in SERVICES.items():
        assert set(service.get("depends_on") or {}) <= set(SERVICES), name
    for name in ("webhook", "worker", "sweeper", "actions"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["migrate"]["restart"] == "no"
    for name in ("postgres", "redis", "rasa", "actions", "webhook"):
        assert "healthcheck" in SERVICES[name], name
    app = Flask(__name__)
    app.register_blueprint(health.bp)
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    probe = " ".join(SERVICES["webhook"]["healthcheck"]["test"])
    paths = re.findall(r"http://127\.0\.0\.1:5000(/[a-z]*)", probe)
    assert paths and set(paths) <= routes and {"/healthz", "/readyz", "/metrics"} <= routes


def test_dockerfile_builds_from_the_lock_with_the_model_inside() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.10-slim$", dockerfile, re.M)
    assert re.search(r"^RUN make install$", dockerfile, re.M) and re.search(r"^RUN make model", dockerfile, re.M)
    for line in re.findall(r"^COPY (.+)$", dockerfile, re.M):
        for source in line.split()[:-1]:
            assert (ROOT / source).exists() or source == ".", source
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".env", "models", "var"} <= ignored  # never copied over the image's own


def test_every_direct_dependency_is_pinned() -> None:
    def name(line: str) -> str:
        return re.split(r"[=<>!~\[ ]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")

    wanted = {name(line) for line in (ROOT / "requirements.in").read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    pinned = {name(line) for line in (ROOT / "requirements.lock").read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    assert "prometheus-client" in wanted and not wanted - pinned, sorted(wanted - pinned)
