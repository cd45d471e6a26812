"""Storage: schema, migrations, engines and the repositories that read and write it."""

from drugradar.store.db import make_engine, migrate

__all__ = ["make_engine", "migrate"]
