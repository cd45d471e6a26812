"""Engines and migrations: one URL picks SQLite (embedded default, WAL) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

from drugradar.config import database_url

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # 64 MB of page cache (the default is 2 MB): matching, status rebuilds and replays join
    # tables of millions of rows; scratch tables (the matcher's) live in memory.
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _postgresql_session(dbapi_conn: Any, _record: Any) -> None:
    """Long values (a record's raw text and JSON) compressed with lz4 rather than the default
    pglz: the server compresses every stored study, and pglz made a trial load wait on it. A
    server built without lz4 keeps pglz."""
    import psycopg

    try:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET default_toast_compression = 'lz4'")
        dbapi_conn.commit()
    except psycopg.Error:
        dbapi_conn.rollback()


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default: ``DRUGRADAR_DB`` or ``sqlite:///drugradar.db``)."""
    url = database_url(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.driver == "psycopg":
        event.listen(engine, "connect", _postgresql_session)
    return engine


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (from empty or from any earlier revision)."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def refresh_statistics(engine: Engine) -> None:
    """``ANALYZE`` on PostgreSQL after bulk loads: with no statistics (autovacuum lags behind a
    replay) its planner guesses two rows for a drug's hundreds of events and picks slow plans.
    PostgreSQL samples, so this costs seconds; SQLite's planner does well without, and its
    ANALYZE would read every index of a multi-gigabyte file."""
    if engine.dialect.name != "postgresql":
        return
    from drugradar.store.schema import metadata

    quote = engine.dialect.identifier_preparer.quote
    names = ", ".join(quote(t.name) for t in metadata.sorted_tables)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"ANALYZE {names}")  # ours only (the search path's schema)
