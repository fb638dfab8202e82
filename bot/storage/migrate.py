"""`python -m bot.storage.migrate`: bring the database schema up to date (Alembic)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.settings import ROOT, Settings


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        Path(database_url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), "head")


if __name__ == "__main__":
    upgrade(Settings.from_env().database_url)
