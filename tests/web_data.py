"""A database for the web tests: the fixture vocabulary, the TIGIT trial sample, and the
profile sources (the Drugs@FDA/Orange Book and DDI fixture cuts; EMA and labels from
``../shared/data`` when it is there), loaded by the library like ``make demo`` does."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from drugradar.dictionary import load_vocab
from drugradar.profile.load import load_profile
from drugradar.trials.load import load_ctgov

from .conftest import FIXTURE_VOCAB, ROOT, SHARED_VOCAB
from .test_ctgov_v2 import SAMPLE

SHARED = SHARED_VOCAB.parent
PASSWORD = "correct horse battery staple"


def data_root(tmp: Path) -> Path:
    root = tmp / "data"
    (root / "fda").mkdir(parents=True)
    for part in ("drugsatfda", "orange-book"):
        (root / "fda" / part).symlink_to(ROOT / "tests" / "fixtures" / "fda" / part)
    if (SHARED / "fda" / "labels").is_dir():
        (root / "fda" / "labels").symlink_to(SHARED / "fda" / "labels")
    if (SHARED / "ema").is_dir():
        (root / "ema").symlink_to(SHARED / "ema")
    for cut in (ROOT / "tests" / "fixtures" / "ddi").rglob("cut_*"):
        link = root / "ddi" / cut.parent.name / cut.name.removeprefix("cut_")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(cut)
    return root


def load_web_data(engine: Engine, tmp: Path) -> None:
    load_vocab(engine, FIXTURE_VOCAB)
    load_ctgov(engine, [SAMPLE])
    load_profile(engine, data_root(tmp))
