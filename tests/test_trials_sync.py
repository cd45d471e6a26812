"""The live sync against a real local HTTP server serving real API v2 records."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from drugradar.sources.ctgov_api import Client, Query
from drugradar.store.schema import source_record, trial
from drugradar.trials.sync import sync_ctgov

from .api_server import StudyServer, serve


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[StudyServer]:
    with serve(monkeypatch) as srv:
        yield srv


def make_client(srv: StudyServer) -> Client:
    return Client(
        srv.base_url, min_interval=0.0, timeout=5.0, sleep=lambda s: None, rng=random.Random(1)
    )


def count(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(trial)).scalar() or 0)


class Crash(RuntimeError):
    pass


def test_sync_all_pages_then_incremental(loaded: Engine, server: StudyServer) -> None:
    rep = sync_ctgov(loaded, Query(cond="cancer", page_size=10), make_client(server))
    assert rep.done and rep.pages == 4 and rep.studies == len(server.studies) == rep.added
    assert count(loaded) == len(server.studies)
    again = sync_ctgov(loaded, Query(cond="cancer", page_size=10), make_client(server))
    assert again.added == again.changed == 0  # nothing new: nothing written
    # the second run asked only for what changed since the first
    assert "AREA[LastUpdatePostDate]RANGE[" in server.requests[-1].get("filter.advanced", "")


def test_killed_sync_resumes_without_duplicates(
    loaded: Engine, server: StudyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drugradar.trials import sync as sync_mod

    calls = {"n": 0}
    real = sync_mod.build_trials

    def dying(*args: object, **kw: object) -> None:
        calls["n"] += 1
        real(*args, **kw)  # type: ignore[arg-type]
        if calls["n"] == 2:
            raise Crash("killed after the second page")

    monkeypatch.setattr(sync_mod, "build_trials", dying)
    with pytest.raises(Crash):
        sync_ctgov(loaded, Query(cond="cancer", page_size=10), make_client(server))
    monkeypatch.setattr(sync_mod, "build_trials", real)
    stored = count(loaded)
    assert 10 <= stored <= 20
    n_before = len(server.requests)
    rep = sync_ctgov(loaded, Query(cond="cancer", page_size=10), make_client(server))
    assert rep.resumed_from is not None and rep.done
    assert "pageToken" in server.requests[n_before]  # it did not start over
    assert count(loaded) == len(server.studies)
    with loaded.connect() as c:
        n_records = c.execute(
            select(func.count()).select_from(source_record).where(source_record.c.source == "ctgov")
        ).scalar()
    assert n_records == len(server.studies)
