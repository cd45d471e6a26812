"""The command line: thin commands over the core library."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, select

from drugradar.devstatus.build import highest_phase, status_of
from drugradar.dictionary import load_vocab
from drugradar.dictionary.ingest import ReleaseReport
from drugradar.dictionary.load import ReleaseHook
from drugradar.model import Drug
from drugradar.model.event import Materiality
from drugradar.profile.load import load_profile
from drugradar.profile.view import profile_of
from drugradar.resolve import Resolver
from drugradar.sources.ctgov_api import API_URL, Client, Query
from drugradar.sources.registry import PROFILE_GROUPS, Release
from drugradar.stats import collect
from drugradar.store import make_engine, migrate
from drugradar.store.repository import get_drug
from drugradar.store.schema import quarantine
from drugradar.track.catalogue import FAMILIES
from drugradar.track.query import EventFilter, list_events
from drugradar.track.query import as_dict as event_dict
from drugradar.track.replay import Step, replay
from drugradar.trials.load import load_ctgov
from drugradar.trials.query import unresolved_interventions
from drugradar.trials.sync import sync_ctgov

app = typer.Typer(help="drugradar: open drug R&D intelligence.", no_args_is_help=True)
load_app = typer.Typer(help="Load public data into the database.", no_args_is_help=True)
app.add_typer(load_app, name="load")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
DEFAULT_DATA = Path("../shared/data")


class _State:
    db: str | None = None


state = _State()


@app.callback()
def _main(
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Database URL (default: $DRUGRADAR_DB or sqlite:///drugradar.db)"
        ),
    ] = None,
) -> None:
    state.db = db


def _engine() -> Engine:
    engine = make_engine(state.db)
    migrate(engine)
    return engine


class _ProgressHook(ReleaseHook):
    def __init__(self, progress: Progress, what: str = "dictionary") -> None:
        self.progress = progress
        self.what = what
        self.task = TaskID(0)

    def start(self, release: Release) -> Callable[[int], None]:
        self.task = self.progress.add_task(f"{release.spec.name}: {release.label}", total=None)
        return lambda n: self.progress.advance(self.task, n)

    def done(self, report: ReleaseReport) -> None:
        desc = f"{report.source}: {report.label} — {report.status}"
        if report.status == "done":
            desc += (
                f" ({report.n_records:,} records: +{report.n_added:,} ~{report.n_changed:,}"
                f" -{report.n_removed:,}; {report.n_quarantined:,} quarantined)"
            )
        elif report.message:
            desc += f" ({report.message})"
        self.progress.update(self.task, description=desc, total=1, completed=1)

    def building(self) -> None:
        self.task = self.progress.add_task(f"building the {self.what}", total=None)


@load_app.command("vocab")
def load_vocab_cmd(
    data: Annotated[Path, typer.Option("--data", help="The vocab/ folder")] = DEFAULT_DATA
    / "vocab",
    force: Annotated[bool, typer.Option(help="Reload files already loaded")] = False,
) -> None:
    """Load UNII, DrugBank, DrugCentral and DrugBank targets, then build the dictionary."""
    if not data.is_dir():
        err.print(f"The folder {data} does not exist: pass --data pointing at shared/data/vocab.")
        raise typer.Exit(2)
    engine = _engine()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        summary = load_vocab(engine, data, force=force, hook=_ProgressHook(progress))
    console.print(
        f"Loaded {summary.n_loaded:,} records from "
        f"{sum(r.status == 'done' for r in summary.releases)} releases "
        f"({sum(r.status == 'skipped' for r in summary.releases)} skipped, "
        f"{summary.n_quarantined:,} rows quarantined)."
    )
    if summary.rebuilt:
        parts = [
            f"{name} +{c.inserted:,} ~{c.updated:,} -{c.deleted:,}"
            for name, c in summary.tables.items()
        ]
        console.print("Dictionary updated: " + "; ".join(parts))
    else:
        console.print("Dictionary unchanged.")


@load_app.command("profile")
def load_profile_cmd(
    data: Annotated[Path, typer.Option("--data", help="The shared data root")] = DEFAULT_DATA,
    only: Annotated[
        str, typer.Option(help="Comma-separated groups: fda, ema, labels, ddi")
    ] = "fda,ema,labels,ddi",
    force: Annotated[bool, typer.Option(help="Reload files already loaded")] = False,
) -> None:
    """Load Drugs@FDA, the Orange Book, EMA tables, labels and interactions; build the profile."""
    groups = tuple(g.strip() for g in only.split(",") if g.strip())
    unknown = sorted(set(groups) - set(PROFILE_GROUPS))
    if unknown:
        err.print(f"Unknown group {', '.join(unknown)}: choose from {', '.join(PROFILE_GROUPS)}.")
        raise typer.Exit(2)
    if not data.is_dir():
        err.print(f"The folder {data} does not exist: pass --data pointing at shared/data.")
        raise typer.Exit(2)
    engine = _engine()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        summary = load_profile(
            engine, data, groups=groups, force=force, hook=_ProgressHook(progress, "profile")
        )
    console.print(
        f"Loaded {summary.n_loaded:,} records from "
        f"{sum(r.status == 'done' for r in summary.releases)} releases "
        f"({sum(r.status == 'skipped' for r in summary.releases)} skipped, "
        f"{summary.n_quarantined:,} rows quarantined)."
    )
    for group, counts in summary.built.items():
        parts = ", ".join(f"{k} {v:,}" for k, v in counts.items())
        console.print(f"Built {group}: {parts}")
    if summary.status_rows:
        console.print(f"Status matrix refreshed from approvals: {summary.status_rows:,} rows.")


@load_app.command("ctgov")
def load_ctgov_cmd(
    paths: Annotated[list[Path], typer.Argument(help="JSON/JSONL, XML (file, folder, tar) or TSV")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Snapshot date YYYY-MM-DD (version files)")
    ] = None,
    replay: Annotated[
        bool, typer.Option(help="Replay every snapshot day of a JSONL version series")
    ] = False,
    force: Annotated[bool, typer.Option(help="Reload files already loaded")] = False,
) -> None:
    """Load ClinicalTrials.gov studies and link their interventions to drugs."""
    for p in paths:
        if not p.exists():
            err.print(f"The path {p} does not exist.")
            raise typer.Exit(2)
    when = date.fromisoformat(as_of) if as_of else None
    engine = _engine()
    with err.status("loading trials"):
        rep = load_ctgov(engine, paths, as_of=when, replay=replay, force=force)
    r = rep.release
    if r.status == "skipped":
        console.print(f"Skipped: {r.message}.")
        return
    console.print(
        f"{rep.format}, {len(rep.releases)} release(s): {r.n_records:,} studies read "
        f"(+{r.n_added:,} new, ~{r.n_changed:,} changed,"
        f" {r.n_older:,} older than stored), {r.n_quarantined:,} quarantined; "
        f"{rep.trials_built:,} trials built, {rep.linked:,} of {rep.interventions:,} "
        f"interventions linked to drugs; {rep.status_rows:,} development-status rows."
    )
    if rep.unknown_values:
        console.print(
            "Values no mapping knew (kept verbatim): "
            + ", ".join(f"{k} ×{n}" for k, n in sorted(rep.unknown_values.items()))
        )


sync_app = typer.Typer(help="Pull updates from live public sources.", no_args_is_help=True)
app.add_typer(sync_app, name="sync")


@sync_app.command("ctgov")
def sync_ctgov_cmd(
    since: Annotated[str | None, typer.Option(help="Studies updated since YYYY-MM-DD")] = None,
    cond: Annotated[str | None, typer.Option(help="Condition query")] = None,
    intr: Annotated[str | None, typer.Option(help="Intervention query")] = None,
    spons: Annotated[str | None, typer.Option(help="Sponsor query")] = None,
    term: Annotated[str | None, typer.Option("--query", help="Free-text query")] = None,
    status: Annotated[list[str] | None, typer.Option(help="Overall status filter")] = None,
    base_url: Annotated[str, typer.Option(help="API base URL")] = API_URL,
    page_size: Annotated[int, typer.Option(help="Studies per page (≤ 1000)")] = 1000,
    resume: Annotated[bool, typer.Option(help="Resume an interrupted sync")] = True,
) -> None:
    """Fetch studies from ClinicalTrials.gov API v2 (incremental, resumable) and link them."""
    query = Query(
        cond=cond,
        intr=intr,
        spons=spons,
        term=term,
        status=list(status or []),
        updated_since=date.fromisoformat(since) if since else None,
        page_size=page_size,
    )
    rep = sync_ctgov(_engine(), query, Client(base_url), resume=resume)
    start = " (resumed from a saved page)" if rep.resumed_from else ""
    console.print(
        f"Synced {rep.pages:,} pages{start}: {rep.studies:,} studies, +{rep.added:,} new, "
        f"~{rep.changed:,} changed, {rep.quarantined:,} quarantined, {rep.linked:,} "
        "interventions linked."
    )


@sync_app.command("labels")
def sync_labels_cmd(
    name: Annotated[str, typer.Argument(help="A drug name or drugradar id (DR…)")],
    base_url: Annotated[str, typer.Option(help="openFDA base URL")] = "https://api.fda.gov",
    api_key: Annotated[str | None, typer.Option(envvar="OPENFDA_API_KEY")] = None,
) -> None:
    """Fetch the drug's labels from openFDA, store them and rebuild the label tables."""
    from drugradar.profile.sync import sync_labels
    from drugradar.sources.openfda_api import Client as FdaClient
    from drugradar.sources.openfda_api import OpenFdaError

    engine = _engine()
    d = _find_drug(engine, name)
    try:
        done = sync_labels(engine, d.id, FdaClient(base_url, api_key=api_key))
    except OpenFdaError as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    r = done.report
    console.print(
        f"{escape(d.preferred_name)}: {r.n_records:,} labels from openFDA (+{r.n_added:,} new, "
        f"~{r.n_changed:,} changed, {r.n_quarantined:,} quarantined); label tables rebuilt."
    )


@app.command()
def unresolved(limit: Annotated[int, typer.Option(help="Rows to show")] = 30) -> None:
    """Trial interventions that look like drugs but match no drug, most frequent first."""
    table = Table("name", "trials", "type", title="Unresolved drug interventions")
    for name, n, types in unresolved_interventions(_engine(), limit):
        table.add_row(escape(name), str(n), types)
    console.print(table)


@app.command()
def resolve(
    name: Annotated[str, typer.Argument(help="Any drug name: INN, brand, code, salt, typo")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    threshold: Annotated[float, typer.Option(help="Fuzzy score threshold (0-100)")] = 85.0,
) -> None:
    """Find the drug a name means, and say which alias matched."""
    res = Resolver(_engine(), threshold=threshold).resolve(name)
    if as_json:
        sys.stdout.write(orjson.dumps(res.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    console.print(res.message)
    if len(res.matches) > 1:
        table = Table("drug id", "preferred name", "matched alias", "type", "score", "source")
        for m in res.matches:
            table.add_row(
                m.drug_id, m.preferred_name, m.matched_alias, m.alias_type, f"{m.score:g}", m.source
            )
        console.print(table)
    if not res.matches:
        raise typer.Exit(1)


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="A drug name or drugradar id (DR…)")],
    all_names: Annotated[bool, typer.Option("--all-names", help="List every name")] = False,
) -> None:
    """Show a drug: names, forms, modality, targets, classes and indications, with sources."""
    engine = _engine()
    d = get_drug(engine, name)
    if d is None:
        res = Resolver(engine).resolve(name)
        if not res.best:
            console.print(res.message)
            raise typer.Exit(1)
        if res.ambiguous:
            console.print(res.message)
        d = get_drug(engine, res.best.drug_id)
    assert d is not None
    console.print(f"[bold]{escape(d.preferred_name)}[/bold] ({d.id})")
    console.print(f"Modality: {d.modality.value} — {escape(d.modality_rule)}")
    console.print("Identifiers: " + "; ".join(f"{k} {', '.join(v)}" for k, v in d.xrefs.items()))
    by_type: dict[str, list[str]] = {}
    for s in d.synonyms:
        names = by_type.setdefault(s.alias_type.value, [])
        if s.name not in names:
            names.append(s.name)
    for t, names in by_type.items():
        shown = names if all_names else names[:8]
        more = f" (+{len(names) - len(shown)} more)" if len(names) > len(shown) else ""
        console.print(f"  {t}: {escape('; '.join(shown))}{more}")
    if d.salt_forms:
        console.print("Salt / hydrate forms: " + escape("; ".join(f.name for f in d.salt_forms)))
    table = Table("target", "gene", "action", "source", "licence", title="Targets")
    for dt in d.targets:
        table.add_row(
            escape(dt.target.name or dt.target.id),
            dt.target.gene_symbol or "",
            dt.action_type or "",
            dt.provenance.source,
            dt.provenance.licence,
        )
    if d.targets:
        console.print(table)
    if d.indications:
        console.print(
            "Indications (DrugCentral): " + escape("; ".join(i.name for i in d.indications))
        )
    epc = [c.name for c in d.classes if c.class_type in {"EPC", "MoA"}]
    if epc:
        console.print("Pharmacologic classes: " + escape("; ".join(epc)))
    atc = [f"{c.class_source_id} ({c.name})" for c in d.classes if c.class_type == "ATC"]
    if atc:
        console.print("WHO ATC (non-commercial use, with attribution): " + escape("; ".join(atc)))


def _find_drug(engine: Engine, name: str) -> Drug:
    """The drug with this id, else the best match for this name; exits when there is none."""
    d = get_drug(engine, name)
    if d is None:
        best = Resolver(engine).resolve(name).best
        d = get_drug(engine, best.drug_id) if best else None
    if d is None:
        err.print(f"No drug matches '{name}'.")
        raise typer.Exit(1)
    return d


@app.command("drug")
def drug_cmd(
    name: Annotated[str, typer.Argument(help="A drug name or drugradar id (DR…)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = True,
) -> None:
    """The drug's profile as JSON: names, modality, targets, status, approvals, designations,
    patents, exclusivities, label sections, interactions, safety, organizations, trials — every
    fact with its sources."""
    engine = _engine()
    d = _find_drug(engine, name)
    profile = profile_of(engine, d.id)
    sys.stdout.write(orjson.dumps(profile, option=orjson.OPT_INDENT_2).decode() + "\n")


@app.command()
def status(
    name: Annotated[str, typer.Argument(help="A drug name or drugradar id (DR…)")],
    limit: Annotated[int, typer.Option(help="Rows to show")] = 40,
) -> None:
    """The drug's development status: indication × country × organization, phase, activity."""
    engine = _engine()
    d = _find_drug(engine, name)
    rows = status_of(engine, d.id)
    hp = highest_phase(engine, d.id)
    console.print(
        f"[bold]{escape(d.preferred_name)}[/bold] ({d.id}): highest phase "
        f"{hp['highest_phase'] or '—'} (active rows), {hp['highest_phase_ever'] or '—'} (ever); "
        f"{len(rows)} status rows"
    )
    table = Table("indication", "country", "organization", "phase", "since", "activity", "sources")
    for r in rows[:limit]:
        srcs = list(r["sources"])  # type: ignore[call-overload]
        table.add_row(
            escape(str(r["indication"])),
            escape(str(r["country"])),
            escape(str(r["organization"])),
            str(r["phase"]),
            str(r["phase_since"] or ""),
            str(r["activity"]),
            ", ".join(srcs[:3]) + (f" +{len(srcs) - 3}" if len(srcs) > 3 else ""),
        )
    console.print(table)


@app.command()
def interactions(
    names: Annotated[list[str], typer.Argument(help="Two or more drug names")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Check every pair of a list of drugs: most severe first, with which sources agree."""
    from drugradar.profile.interactions import check

    if len(names) < 2:
        err.print("Name at least two drugs to check.")
        raise typer.Exit(2)
    engine = _engine()
    drugs = [_find_drug(engine, n) for n in names]
    with engine.connect() as conn:
        pairs = check(conn, [d.id for d in drugs])
    if as_json:
        out = [asdict(p) for p in pairs]
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    table = Table("pair", "level", "sources agree", "sources")
    for p in pairs:
        data = asdict(p)
        srcs = "; ".join(f"{s['source']}: {s['level']}" for s in data["sources"])
        table.add_row(
            escape(f"{data['name_a']} + {data['name_b']}"),
            str(data["level"]),
            "—" if not data["sources"] else ("yes" if data["agree"] else "no"),
            escape(srcs or "no interaction known"),
        )
    console.print(table)


@app.command()
def stats() -> None:
    """Print what the database holds."""
    s = collect(_engine())
    table = Table("what", "count", title="drugradar dictionary")
    table.add_row("drugs", f"{s.drugs:,}")
    table.add_row("names (synonyms)", f"{s.synonyms:,}")
    for t, n in sorted(s.synonyms_by_type.items(), key=lambda x: -x[1]):
        table.add_row(f"  {t}", f"{n:,}")
    table.add_row("salt / hydrate forms", f"{s.salt_forms:,}")
    for m, n in sorted(s.modalities.items(), key=lambda x: -x[1]):
        table.add_row(f"  modality: {m}", f"{n:,}")
    table.add_row("targets", f"{s.targets:,}")
    table.add_row("drug-target links", f"{s.drug_targets:,}")
    table.add_row("drug indications", f"{s.indications:,}")
    table.add_row("pharmacologic classes", f"{s.classes:,}")
    table.add_row("diseases (MeSH)", f"{s.diseases:,}")
    table.add_row("trials", f"{s.trials:,}")
    table.add_row("trial-drug links", f"{s.trial_drug_links:,}")
    table.add_row("development-status rows", f"{s.status_rows:,}")
    table.add_row("quarantined rows", f"{s.quarantined:,}")
    console.print(table)
    rel = Table("source", "releases", "newest", "records read", title="loaded releases")
    for src, f, d, n in s.releases:
        rel.add_row(src, f, d, f"{n:,}")
    console.print(rel)


@app.command("replay")
def replay_cmd(
    data: Annotated[Path, typer.Argument(help="The shared data root")] = DEFAULT_DATA,
    source: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these steps: vocab, drugcentral_history, atc, tvec, covid, tigit, fda…"
        ),
    ] = None,
    until: Annotated[str | None, typer.Option(help="Stop after this date, YYYY-MM-DD")] = None,
) -> None:
    """Load every dated snapshot under DATA in date order, storing what changed as events.
    Killed, it resumes where it stopped."""
    if not data.is_dir():
        err.print(f"The folder {data} does not exist: pass the shared data root.")
        raise typer.Exit(2)
    try:
        stop = date.fromisoformat(until) if until else None
    except ValueError:
        err.print("--until takes a date written YYYY-MM-DD.")
        raise typer.Exit(2) from None
    engine = _engine()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        hook = _ProgressHook(progress, "profile tables")
        task = TaskID(0)

        def on_step(step: Step) -> None:
            nonlocal task
            task = progress.add_task(f"{step.name}: {step.title}", total=None)

        def on_release(rep: ReleaseReport) -> None:
            progress.update(task, description=f"{rep.source}: {rep.label} — {rep.status}")
            progress.advance(task)

        try:
            results = replay(
                engine,
                data,
                sources=source or (),
                until=stop,
                hook=hook,
                on_step=on_step,
                on_release=on_release,
            )
        except ValueError as exc:
            err.print(str(exc))
            raise typer.Exit(2) from None
    table = Table("step", "releases", "loaded", "skipped", "events", "seconds")
    for r in results:
        table.add_row(
            r.step.name,
            str(len(r.releases)),
            str(sum(x.status in ("done", "resumed") for x in r.releases)),
            str(sum(x.status == "skipped" for x in r.releases)),
            f"{sum(x.n_events for x in r.releases):,}",
            f"{r.seconds:.1f}",
        )
    console.print(table)


@app.command("events")
def events_cmd(
    since: Annotated[str | None, typer.Option(help="From this as-of date, YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this as-of date, YYYY-MM-DD")] = None,
    drug: Annotated[str | None, typer.Option(help="Only events about this drug (any name)")] = None,
    family: Annotated[
        list[str] | None, typer.Option(help="Event family (dev_status, clinical_trial…)")
    ] = None,
    type_: Annotated[list[str] | None, typer.Option("--type", help="Event type")] = None,
    trial: Annotated[str | None, typer.Option(help="Only events of this NCT id")] = None,
    min_materiality: Annotated[
        str, typer.Option("--min-materiality", help="low, medium or high")
    ] = "low",
    baseline: Annotated[bool, typer.Option(help="Include first-seen records")] = False,
    limit: Annotated[int, typer.Option(help="Events to show")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """The stored change events, newest first: what changed, from what to what, and where."""
    try:
        level = Materiality(min_materiality)
        since_d = date.fromisoformat(since) if since else None
        until_d = date.fromisoformat(until) if until else None
    except ValueError:
        err.print("Dates are YYYY-MM-DD and materiality is one of low, medium, high.")
        raise typer.Exit(2) from None
    unknown = [f for f in family or [] if f not in FAMILIES]
    if unknown:
        err.print(f"Unknown event family {unknown[0]!r}; families are {', '.join(FAMILIES)}.")
        raise typer.Exit(2)
    engine = _engine()
    concern = ("drug", _find_drug(engine, drug).id) if drug else None
    found = list_events(
        engine,
        EventFilter(
            since=since_d,
            until=until_d,
            concern=concern,
            families=tuple(family or ()),
            types=tuple(type_ or ()),
            min_materiality=level,
            entity=("trial", trial.upper()) if trial else None,
            include_baseline=baseline,
            limit=limit,
        ),
    )
    if as_json:
        sys.stdout.write(
            orjson.dumps([event_dict(e) for e in found], option=orjson.OPT_INDENT_2).decode() + "\n"
        )
        return
    table = Table("as of", "family", "type", "materiality", "what changed", "sources")
    for ev in found:
        table.add_row(
            ev.as_of.isoformat(),
            ev.family,
            ev.type,
            ev.materiality.value,
            escape(ev.summary),
            ", ".join(sorted({f"{s.source}:{s.record_id}" for s in ev.sources}))[:80],
        )
    console.print(table)
    console.print(f"{len(found)} event(s).")


@app.command("quarantine")
def quarantine_cmd(limit: Annotated[int, typer.Option(help="Rows to show")] = 20) -> None:
    """List rows that were set aside during loads, with file, line and reason."""
    engine = _engine()
    q = quarantine.c
    table = Table("source", "file", "line", "record", "field", "reason")
    with engine.connect() as conn:
        for r in conn.execute(select(quarantine).order_by(q.id).limit(limit)):
            table.add_row(
                r.source, r.file_name, str(r.line or ""), r.record_id or "", r.field or "", r.reason
            )
    console.print(table)


@app.command()
def upgrade() -> None:
    """Create or upgrade the database schema (every command also does this)."""
    _engine()
    console.print("Schema is up to date.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[
        int | None, typer.Option(help="Server processes (default: 2 on two cores or more)")
    ] = None,
) -> None:
    """Serve the web app and the JSON API (docs at /docs, OpenAPI at /openapi.json)."""
    import uvicorn

    if workers is None:  # one process answers one page at a time: two use both cores
        workers = 2 if (os.cpu_count() or 1) >= 2 else 1

    from drugradar.config import database_url

    _engine().dispose()  # the schema is brought up to date before serving
    os.environ["DRUGRADAR_DB"] = database_url(state.db)  # the app factory reads it
    os.environ["DRUGRADAR_SERVER_PROCESSES"] = str(workers)  # each takes its share of limits
    uvicorn.run(
        "drugradar.api.app:serving_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


@app.command()
def worker(
    threads: Annotated[int, typer.Option(help="Worker threads of this consumer")] = 2,
    queue: Annotated[
        str | None,
        typer.Option(
            help="redis://host:port/db or sqlite:///file (default: $DRUGRADAR_REDIS_URL, "
            "else the SQLite file $DRUGRADAR_HUEY_DB or drugradar-queue.db)"
        ),
    ] = None,
) -> None:
    """Run the schedules: digests every minute, live source syncs daily or weekly
    ($DRUGRADAR_SYNC, e.g. ``ctgov=daily,labels=weekly``). Several workers may run at once."""
    from drugradar.config import database_url
    from drugradar.worker import WorkerConfigError, run_worker

    _engine().dispose()  # the schema is brought up to date before the consumer starts
    try:
        run_worker(database_url(state.db), workers=threads, huey_url=queue)
    except WorkerConfigError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None


def _register_alerts() -> None:
    from drugradar.cli_alerts import alerts_app, keys_app, users_app

    app.add_typer(alerts_app, name="alerts")
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")


_register_alerts()


def main() -> None:
    try:
        app()
    except Exception as exc:  # one clear sentence, not a traceback
        err.print(f"drugradar: {type(exc).__name__}: {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
