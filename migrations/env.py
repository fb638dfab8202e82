"""Alembic environment: the URL comes from the caller (tests) or from Settings."""
from __future__ import annotations

from alembic import context

from bot.settings import Settings
from bot.storage.database import make_engine
from bot.storage.models import Base

config = context.config
url = config.attributes.get("database_url") or Settings.from_env().database_url


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
