"""The database the API tests share, per backend: the real fixture vocabulary, the real TIGIT
version series replayed day by day (trials, status rows, events), and the cut-down real
Drugs@FDA / Orange Book and DDI files (approvals, patents, interactions, their events)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from drugradar.alerts.users import create_api_key, create_user
from drugradar.dictionary import load_vocab
from drugradar.profile.load import load_profile
from drugradar.store import migrate
from drugradar.trials.load import load_ctgov

from .conftest import FIXTURE_VOCAB, ROOT, Database

SAMPLE = ROOT / "tests" / "fixtures" / "ctgov" / "tigit_versions_sample.jsonl.xz"
FIXTURES = ROOT / "tests" / "fixtures"
PASSWORD = "a long enough password"


def profile_root(tmp: Path) -> Path:
    """A data root of links to the fixture cuts (FDA, DDI), under the real file names."""
    root = tmp / "data"
    (root / "fda").mkdir(parents=True)
    (root / "fda" / "drugsatfda").symlink_to(FIXTURES / "fda" / "drugsatfda")
    (root / "fda" / "orange-book").symlink_to(FIXTURES / "fda" / "orange-book")
    for cut in (FIXTURES / "ddi").rglob("cut_*"):
        link = root / "ddi" / cut.parent.name / cut.name.removeprefix("cut_")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(cut)
    return root


def build(d: Database, tmp: Path) -> Engine:
    migrate(d.engine)
    load_vocab(d.engine, FIXTURE_VOCAB)
    load_ctgov(d.engine, [SAMPLE], replay=True)
    load_profile(d.engine, profile_root(tmp), groups=("fda", "ddi"))
    return d.engine


def new_user(engine: Engine) -> tuple[int, str]:
    """A fresh account and an API key for it: ``(user id, key)``."""
    user = create_user(engine, f"{uuid.uuid4().hex[:12]}@example.org", PASSWORD)
    key, _ = create_api_key(engine, user.id, "tests")
    return user.id, key


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def is_sentence(body: Any) -> bool:
    """``{"error": "One sentence."}`` and nothing else, no traceback."""
    if not isinstance(body, dict) or set(body) != {"error"}:
        return False
    text = body["error"]
    return (
        isinstance(text, str)
        and text.endswith(".")
        and "\n" not in text
        and "Traceback" not in text
        and not re.search(r'File ".*", line \d+', text)
    )


def page_through(client: TestClient, url: str, **params: Any) -> list[dict[str, Any]]:
    """Every result of a search, following next_cursor to the end."""
    out: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        query = {**params, "facets": "false"}
        if cursor:
            query["cursor"] = cursor
        r = client.get(url, params=query)
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["results"]
        cursor = body["next_cursor"]
        if cursor is None:
            return out
    raise AssertionError("paging did not end")
