"""One setting picks the database; the embedded default runs SQLite in WAL mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from drugradar.config import DEFAULT_DB_URL, database_url
from drugradar.store import make_engine


def test_database_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRUGRADAR_DB", raising=False)
    assert database_url() == DEFAULT_DB_URL == "sqlite:///drugradar.db"
    monkeypatch.setenv("DRUGRADAR_DB", "sqlite:///from-env.db")
    assert database_url() == "sqlite:///from-env.db"
    assert database_url("sqlite:///explicit.db") == "sqlite:///explicit.db"


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_plain_postgresql_url_uses_psycopg3() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test")
    assert engine.dialect.driver == "psycopg"
