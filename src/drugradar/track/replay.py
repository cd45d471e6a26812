"""``drugradar replay``: live through every dated snapshot of a data root, oldest first.

The dated vocabulary series (DrugCentral's drug-target revisions, the WHO ATC versions) are
vocabulary files, loaded by the vocab step like the rest; their own steps
(``drugcentral_history``, ``atc``) load only them, for ``--source``. The dictionary is rebuilt at
its last few release dates (``vocab_checkpoints``), so the names a drug gained in its newest
vocabularies become events. The steps run in the order of their first snapshot date, and each
loads its snapshots in date
order, so the database ends as a live system would be after syncing on those dates (the
dictionary comes first: the other sources link to it). Within a step a source's releases are
loaded oldest first; sources of a profile group are not interleaved day by day with each other
(their tables are built once per step) — their events carry each release's own as-of date.

Every step is idempotent: a release already loaded is recognised by its files' hash and skipped,
and a ClinicalTrials.gov day killed between storing and building is finished by the next run,
so a replay killed at any point resumes where it stopped, without duplicate events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from drugradar.dictionary import load_vocab
from drugradar.dictionary.ingest import ReleaseReport
from drugradar.dictionary.load import ReleaseHook
from drugradar.profile.load import load_profile
from drugradar.sources.base import date_in_name
from drugradar.sources.registry import vocab_releases
from drugradar.store.db import refresh_statistics
from drugradar.trials.load import load_ctgov


@dataclass(frozen=True, slots=True)
class Step:
    name: str  # what --source names
    title: str
    first: date  # its first snapshot's date (orders the steps)
    paths: tuple[Path, ...] = ()
    replay: bool = False  # a JSONL version series: every snapshot day


@dataclass(slots=True)
class StepResult:
    step: Step
    releases: list[ReleaseReport] = field(default_factory=list)
    seconds: float = 0.0


PROFILE_STEPS = {
    "fda": ("Drugs@FDA and the Orange Book", date(2016, 6, 1)),
    "ema": ("EMA medicines, designations and safety", date(2018, 12, 1)),
    "labels": ("drug labels", date(2017, 1, 1)),
    "ddi": ("drug interactions", date(2016, 1, 1)),
}


# dated vocabulary series kept for their changes: step name -> source; the vocab step loads
# them too (they are vocabulary files), these steps let ``--source`` pick one
VOCAB_SERIES = {
    "drugcentral_history": ("drugcentral_history", "DrugCentral drug-target revisions"),
    "atc": ("who_atc", "WHO ATC classification"),
}
VOCAB_CHECKPOINTS = 3  # dictionary rebuilds: one up to the last few release dates, then each


def vocab_checkpoints(folder: Path, until: date | None) -> list[date | None]:
    """The dates to rebuild the dictionary at. Every rebuild compares names before and after
    (``track.dictionary``), but a whole rebuild costs tens of seconds, so the oldest releases
    are taken in one go and only the last ``VOCAB_CHECKPOINTS`` dates one by one."""
    days = sorted({r.release_date for r in vocab_releases(folder)})
    if until is not None:
        days = [d for d in days if d <= until]
    return [*days[-VOCAB_CHECKPOINTS:]] or [until]


def plan(data: Path) -> list[Step]:
    """Every step a data root holds, dictionary first, then by first snapshot date."""
    steps = [Step("vocab", "dictionary vocabularies", date.min, (data / "vocab",))]
    releases = vocab_releases(data / "vocab") if (data / "vocab").is_dir() else []
    for name, (source, title) in VOCAB_SERIES.items():
        days = [r.release_date for r in releases if r.spec.name == source]
        if days:
            steps.append(Step(name, title, min(days), (data / "vocab",)))
    ct = data / "ctgov"
    for folder in sorted((ct / "tvec").glob("*")) if (ct / "tvec").is_dir() else []:
        day = date_in_name(folder.name)
        if day is not None:
            steps.append(Step("tvec", f"T-VEC trials of {day}", day, (folder,)))
    covid = sorted((ct / "tsv-daily-covid-2020").glob("*.tar.xz"))
    if covid:
        steps.append(Step("covid", "COVID-19 TSV series", date(2020, 4, 6), tuple(covid)))
    xml = sorted((ct / "xml-2023").glob("*.tar.xz"))
    if xml:
        steps.append(Step("xml2023", "AllPublicXML subset", date(2023, 2, 3), tuple(xml)))
    tigit = ct / "v2-daily-tigit-2026" / "tigit_versions.jsonl.xz"
    if tigit.exists():
        steps.append(Step("tigit", "TIGIT API v2 series", date(2026, 2, 3), (tigit,), True))
    for name, (title, first) in PROFILE_STEPS.items():
        steps.append(Step(name, title, first, (data,)))
    return sorted(steps, key=lambda s: (s.name != "vocab", s.first, s.name))


def replay(
    engine: Engine,
    data: Path,
    *,
    sources: Sequence[str] = (),
    until: date | None = None,
    hook: ReleaseHook | None = None,
    on_step: Callable[[Step], None] | None = None,
    on_release: Callable[[ReleaseReport], None] | None = None,
) -> list[StepResult]:
    """Run the plan's steps (those named in ``sources``, or all) up to ``until``."""
    import time

    steps = [s for s in plan(data) if not sources or s.name in sources]
    unknown = set(sources) - {s.name for s in plan(data)}
    if unknown:
        raise ValueError(
            f"no snapshots of {', '.join(sorted(unknown))} under {data}; "
            f"known: {', '.join(sorted({s.name for s in plan(data)}))}"
        )
    out: list[StepResult] = []
    for step in steps:
        if until is not None and step.first > until:
            continue
        if on_step is not None:
            on_step(step)
        result = StepResult(step)
        t0 = time.perf_counter()
        if step.name == "vocab":
            for checkpoint in vocab_checkpoints(step.paths[0], until):
                vocab = load_vocab(engine, step.paths[0], hook=hook, until=checkpoint)
                result.releases += vocab.releases
        elif step.name in VOCAB_SERIES:
            source = VOCAB_SERIES[step.name][0]
            vocab = load_vocab(engine, step.paths[0], hook=hook, until=until, sources=(source,))
            result.releases = vocab.releases
        elif step.name in PROFILE_STEPS:
            summary = load_profile(engine, data, groups=(step.name,), hook=hook, until=until)
            result.releases = summary.releases
        else:
            rep = load_ctgov(
                engine,
                list(step.paths),
                as_of=None if step.replay or step.name == "covid" else step.first,
                replay=step.replay,
                until=until,
                on_release=on_release,
            )
            result.releases = rep.releases
        result.seconds = time.perf_counter() - t0
        out.append(result)
    refresh_statistics(engine)
    return out
