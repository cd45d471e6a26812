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


def test_0007_turns_existing_subscriptions_filters_into_rows(db: Database) -> None:
    """Subscriptions made before 0007 keep matching as they did: their follows × JSON filters
    and their channels become the rows the matcher joins on; a paused one has floor 0."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    migrate(db.engine, "0006")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with db.engine.begin() as c:
        c.execute(
            text(
                "insert into user_account (id, email, password_hash, role, created_at, disabled)"
                " values (1, 'a@example.org', 'x', 'user', :now, false)"
            ),
            {"now": now},
        )
        sub = (
            "insert into subscription (id, user_id, name, families, types, min_materiality,"
            " frequency, hour, weekday, tz, channels, send_empty, paused, created_at, deleted)"
            " values (:id, 1, 's', :f, :t, :m, 'daily', 8, 0, 'UTC', :ch, false, :p, :now,"
            " false)"
        )
        c.execute(
            text(sub),
            [
                {
                    "id": 1,
                    "f": '["approval"]',
                    "t": '["dev_status.PHASE_3"]',
                    "m": "medium",
                    "ch": '{"emails": ["a@example.org"], "inbox": true}',
                    "p": False,
                    "now": now,
                },
                {
                    "id": 2,
                    "f": "[]",
                    "t": "[]",
                    "m": "low",
                    "ch": '{"feed": true}',
                    "p": True,
                    "now": now,
                },
            ],
        )
        c.execute(
            text(
                "insert into subscription_follow (subscription_id, kind, ref, label)"
                " values (1, 'drug', 'D1', 'd'), (2, 'target', 'PDCD1', 't')"
            )
        )
    migrate(db.engine)
    with db.engine.connect() as c:
        keys = c.execute(
            text(
                "select subscription_id, kind, ref, family, type, user_id, floor"
                " from subscription_key order by 1, 4, 5"
            )
        ).all()
        channels = c.execute(text("select * from subscription_channel order by 1, 2")).all()
    assert [tuple(r) for r in keys] == [
        (1, "drug", "D1", "approval", "", 1, 2),
        (1, "drug", "D1", "dev_status", "PHASE_3", 1, 2),
        (2, "target", "PDCD1", "", "", 1, 0),
    ]
    assert [tuple(r) for r in channels] == [(1, "email"), (1, "inbox"), (2, "feed")]
