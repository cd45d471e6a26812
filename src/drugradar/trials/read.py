"""What the reader process runs (``drugradar.background``): studies read from any
ClinicalTrials.gov format, made into storable records where they are read.

Kept apart from ``trials.load`` so the reader imports only the readers (~0.1 s), not the store,
the resolver and the rest (~1 s before its first study).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from drugradar.model.trial import Trial
from drugradar.sources import ctgov_common as cg
from drugradar.sources import ctgov_v2
from drugradar.sources.base import Parsed, Record, Rejected, dump_json, raw_columns, text_hash
from drugradar.sources.ctgov_v2 import NotGrouped


def _studies(
    fmt: str,
    paths: list[Path],
    as_of: date | None,
    days: Sequence[date] | None,
    skip: frozenset[date],
    until: date | None,
    grouped: bool = False,
) -> Iterator[cg.StudyDoc | Rejected | NotGrouped]:
    from drugradar.sources import ctgov_tsv, ctgov_xml

    if fmt == "v2-json" and days is not None:
        return ctgov_v2.read_series(paths, days)
    if fmt == "v2-json":
        return ctgov_v2.read(paths, as_of, grouped=grouped)
    if fmt == "xml":
        return ctgov_xml.read(paths)
    return ctgov_tsv.read(paths, skip, until)


def read_records(
    fmt: str,
    paths: list[Path],
    as_of: date | None,
    days: Sequence[date] | None = None,
    skip: frozenset[date] = frozenset(),
    until: date | None = None,
    grouped: bool = False,
) -> Iterator[Parsed | NotGrouped]:
    """The studies a reader finds, as storable records made where they are read (the background
    process, for big inputs): plain data crosses between processes several times cheaper than
    Trial objects, and the content hash the store compares is computed there as well. A version
    that several days of a series share is converted once."""
    made: dict[int, _Made] = {}  # a series' shared versions
    series = days is not None or fmt == "tsv"  # readers that hand out one Trial several times
    for doc in _studies(fmt, paths, as_of, days, skip, until, grouped):
        if isinstance(doc, Rejected | NotGrouped):
            yield doc
            continue
        memo = made.get(id(doc.trial))
        if memo is None or memo.trial is not doc.trial:
            data = doc.trial.to_dict()
            text = dump_json(data)
            memo = _Made(doc.trial, data, text, text_hash(text), doc.raw, *raw_columns(doc.raw))
        elif memo.raw != doc.raw:  # the same study read from another line
            stored, packed = raw_columns(doc.raw)
            memo = memo._replace(raw=doc.raw, stored_raw=stored, packed=packed)
        if series:  # holding the trial keeps its id from being reused
            made[id(doc.trial)] = memo
        yield Record(
            doc.trial.nct_id,
            memo.data,
            raw=memo.stored_raw,  # packed here when long, not by the loader
            as_of=doc.as_of,
            digest=memo.digest,
            text=memo.text,
            raw_packed=memo.packed,
        )


class _Made(NamedTuple):
    """A study version made into what a record carries (shared by the days of a series)."""

    trial: Trial
    data: dict[str, Any]
    text: str
    digest: str
    raw: str | None  # the reader's raw text
    stored_raw: str | None  # as stored: the text, or None when packed
    packed: bytes | None
