"""Alembic: upgrade from empty and from every earlier revision; the schema matches the code."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from drugradar.store.db import alembic_config, current_revision, migrate
from drugradar.store.schema import metadata

from .conftest import Database


def test_upgrade_from_every_revision(db: Database) -> None:
    script = ScriptDirectory.from_config(alembic_config(db.engine))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert revisions, "there is at least one migration"
    for rev in revisions:  # step through history: each revision upgrades from the one before
        migrate(db.engine, rev)
        assert current_revision(db.engine) == rev
    migrate(db.engine)
    assert current_revision(db.engine) == script.get_current_head()
    assert {"drug", "synonym", "source_record"} <= set(inspect(db.engine).get_table_names())


def test_migrations_match_the_schema(engine: object) -> None:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
