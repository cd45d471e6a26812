"""Every database test runs on each backend asked for: a fresh SQLite file, or a fresh schema in
a real PostgreSQL (``--backend=postgresql --pg-url=…``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from drugradar.store import make_engine, migrate

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_VOCAB = ROOT / "tests" / "fixtures" / "vocab"
SHARED_VOCAB = ROOT.parent / "shared" / "data" / "vocab"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        action="append",
        choices=["sqlite", "postgresql"],
        help="database backend(s) to run on (default: sqlite)",
    )
    parser.addoption("--pg-url", default=DEFAULT_PG, help="PostgreSQL URL for --backend=postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = metafunc.config.getoption("backend") or ["sqlite"]
        metafunc.parametrize("backend", backends, scope="session")


class _FullDataGroups:
    """Whole-data tests share one worker per backend (``fulldata-sqlite``,
    ``fulldata-postgresql``): their databases are per backend anyway, so the two backends run
    side by side. Every other test without a group of its own is grouped by module and backend:
    a module's fixtures (a loaded database) are then set up once per backend, where spreading
    its tests over the workers one by one set them up again each time a worker came back to
    it. Runs before pytest-xdist turns ``xdist_group`` marks into groups."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if item.get_closest_marker("fulldata") is not None:
                item.add_marker(pytest.mark.xdist_group(f"fulldata-{_backend_of(item)}"))
            elif item.get_closest_marker("xdist_group") is None:
                module = item.nodeid.split("::")[0]
                item.add_marker(pytest.mark.xdist_group(f"{module}-{_backend_of(item)}"))


def _backend_of(item: pytest.Item) -> str:
    spec = getattr(item, "callspec", None)
    return str(spec.params.get("backend", "")) if spec is not None else ""


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_FullDataGroups(), "drugradar-fulldata-groups")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the whole-data tests first (their groups are the longest), then the tests sharing a
    per-backend session or module database one backend after the other, and within a backend
    each module's tests together: a session fixture with a parameter
    is torn down whenever the parameter changes, a module fixture whenever another module's test
    comes between (pytest interleaves modules whose tests have several parameters), and the
    whole-data databases take minutes to build."""

    order = {id(item): n for n, item in enumerate(items)}
    modules: dict[str, int] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::")[0], len(modules))
    items.sort(
        key=lambda item: (
            item.get_closest_marker("fulldata") is None,  # the longest groups start first
            _backend_of(item),
            modules[item.nodeid.split("::")[0]],
            order[id(item)],
        )
    )


class Database:
    """A fresh, empty database on one backend; ``url`` reaches it from a subprocess or the CLI."""

    def __init__(self, backend: str, tmp: Path, pg_url: str) -> None:
        self.backend = backend
        self.schema: str | None = None
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp / 'test.db'}"
            self.admin: Engine | None = None
        else:
            self.schema = "t_" + uuid.uuid4().hex[:12]
            self.admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as c:
                c.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            sep = "&" if "?" in pg_url else "?"
            self.url = f"{pg_url}{sep}options=-csearch_path%3D{self.schema}"
        self.engine = make_engine(self.url)

    def drop(self) -> None:
        self.engine.dispose()
        if self.admin is not None:
            with self.admin.connect() as c:
                c.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            self.admin.dispose()


@pytest.fixture
def db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Database]:
    d = Database(backend, tmp_path, request.config.getoption("pg_url"))
    yield d
    d.drop()


@pytest.fixture
def engine(db: Database) -> Engine:
    migrate(db.engine)
    return db.engine


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    """A database with the real cut-down fixture vocabulary loaded."""
    from drugradar.dictionary import load_vocab

    load_vocab(engine, FIXTURE_VOCAB)
    return engine


@pytest.fixture(scope="module")
def loaded_module(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Engine]:
    """Like ``loaded``, shared by a module's read-only tests."""
    from drugradar.dictionary import load_vocab

    d = Database(backend, tmp_path_factory.mktemp("mod"), request.config.getoption("pg_url"))
    migrate(d.engine)
    load_vocab(d.engine, FIXTURE_VOCAB)
    yield d.engine
    d.drop()


@pytest.fixture(scope="session")
def full_db(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Engine]:
    """The whole real ``../shared/data/vocab`` loaded once per backend (slow: marked fulldata)."""
    if not SHARED_VOCAB.is_dir():
        pytest.fail(f"{SHARED_VOCAB} is missing: the suite needs the shared real data")
    from drugradar.dictionary import load_vocab

    d = Database(backend, tmp_path_factory.mktemp("full"), request.config.getoption("pg_url"))
    migrate(d.engine)
    load_vocab(d.engine, SHARED_VOCAB)
    yield d.engine
    d.drop()
