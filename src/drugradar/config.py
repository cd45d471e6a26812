"""Settings read from the environment; one setting picks the database."""

from __future__ import annotations

import os

DEFAULT_DB_URL = "sqlite:///drugradar.db"


def database_url(explicit: str | None = None) -> str:
    """The database URL: an explicit value, else ``DRUGRADAR_DB``, else the embedded SQLite file."""
    return explicit or os.environ.get("DRUGRADAR_DB") or DEFAULT_DB_URL
