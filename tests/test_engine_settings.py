"""Per-connection settings of the engines (``store.db.make_engine``)."""

from __future__ import annotations

from sqlalchemy import Engine, text


def test_postgresql_compresses_long_values_with_lz4(engine: Engine, backend: str) -> None:
    """A stored study (tens of KB of raw text) is compressed with lz4, not pglz, which made
    loads wait on the server."""
    if backend != "postgresql":
        with engine.connect() as conn:  # SQLite: WAL, as every loader expects
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        return
    with engine.begin() as conn:
        assert conn.exec_driver_sql("SHOW default_toast_compression").scalar() == "lz4"
        conn.execute(text("CREATE TABLE scratch_long (body TEXT)"))
        conn.execute(text("INSERT INTO scratch_long VALUES (:b)"), {"b": "phase 3 " * 5000})
        method = conn.execute(text("SELECT pg_column_compression(body) FROM scratch_long"))
        assert method.scalar() == "lz4"
