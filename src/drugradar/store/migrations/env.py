"""Alembic environment: runs on the engine handed over in ``config.attributes['engine']``."""

from __future__ import annotations

from alembic import context

from drugradar.store.db import make_engine
from drugradar.store.schema import metadata

config = context.config
engine = config.attributes.get("engine") or make_engine()

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
