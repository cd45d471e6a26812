"""schemathesis against the app's own ``/openapi.json``, in process (ASGI), on a SQLite database
loaded with the real fixture data: generated requests to every operation, with an API key, find
no server error and no response outside its documented schema. Bounded: a few examples per
operation, so the run takes well under a minute."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from drugradar.api.app import create_app

from .api_data import build, new_user
from .conftest import Database

pytestmark = pytest.mark.xdist_group("api")
MAX_EXAMPLES = 10


@pytest.fixture(scope="module")
def loaded_app(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[Any, str]]:
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    d = Database("sqlite", tmp, request.config.getoption("pg_url"))
    engine = build(d, tmp)
    _, key = new_user(engine)
    yield create_app(d.url, migrate_schema=False, rate_limit=0), key
    d.drop()


def _runner(op: Any, mode: GenerationMode, headers: dict[str, str]) -> Any:
    """A hypothesis test of one operation in one generation mode."""

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    def run(case: Any) -> None:
        checks = [not_a_server_error]
        if mode is GenerationMode.POSITIVE:  # invalid requests get errors, not the schema
            checks.append(response_schema_conformance)
        case.call_and_validate(headers=headers, checks=checks)

    return run


def test_no_server_error(loaded_app: tuple[Any, str]) -> None:
    """Every operation, valid and invalid generated requests (schemathesis' pytest loader does
    not run under pytest 9, so the operations are walked here with hypothesis directly)."""
    app, key = loaded_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        op = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _runner(op, mode, headers)()
            except Unsatisfiable:  # nothing invalid to send (a free string, no parameters)
                continue
            except Exception as exc:  # one report for all operations
                failures.append(f"{op.label} ({mode.value}): {str(exc)[:1500]}")
    assert operations >= 15
    assert not failures, "\n\n".join(failures)
