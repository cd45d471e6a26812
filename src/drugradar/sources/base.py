"""What every source parser shares: records, quarantined rows, file reading, release dates.

A parser is pure: ``parse(paths) -> Iterator[Record | Rejected]``. It never touches the database;
``dictionary.ingest`` stores what it yields. Bad input is yielded as ``Rejected`` (file, line,
field, reason), never raised, so one malformed row cannot stop a load.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import zstandard

JSONDict = dict[str, Any]


def dump_json(data: Any) -> str:
    """``data`` as stored: JSON with sorted keys (equal data, equal text)."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


def text_hash(text: str) -> str:
    """The content hash of data stored as ``text`` (``dump_json``)."""
    return hashlib.sha1(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Record:
    """One source record: its id in the source and its parsed content (JSON-serialisable)."""

    record_id: str
    data: JSONDict
    raw: str | None = None  # the record as the source wrote it, kept for provenance
    as_of: date | None = None  # the record's own date, when it differs from the release's
    digest: str | None = None  # its content hash, when the reader computed it already
    text: str | None = None  # ``data`` as stored (sorted-key JSON), when the reader made it
    raw_packed: bytes | None = None  # ``raw`` packed (``pack_raw``) by the reader, instead

    def __reduce__(self) -> tuple[Any, ...]:
        """Sent to another process as its JSON text when it has one: several times cheaper to
        pickle than the nested dicts, and parsed back as fast."""
        rest = (self.raw, self.as_of, self.digest)
        if self.text is None:
            return (Record, (self.record_id, self.data, *rest, None, self.raw_packed))
        return (_from_text, (self.record_id, self.text, *rest, self.raw_packed))


def _from_text(
    record_id: str,
    text: str,
    raw: str | None,
    as_of: date | None,
    digest: str | None,
    raw_packed: bytes | None = None,
) -> Record:
    return Record(record_id, orjson.loads(text), raw, as_of, digest, text, raw_packed)


PACK_OVER = 2000  # characters of raw text beyond which it is stored packed
_packers = threading.local()  # a compressor per thread (one is not to be shared)


def pack_raw(text: str) -> bytes:
    """A record's raw text as stored when long: zstd at a fast level (a study's XML or JSON
    shrinks ~5x, at ~400 MB/s: three times zlib's fastest)."""
    packer = getattr(_packers, "zstd", None)
    if packer is None:
        packer = _packers.zstd = zstandard.ZstdCompressor(level=1)
    packed: bytes = packer.compress(text.encode())
    return packed


def unpack_raw(raw: str | None, packed: bytes | None) -> str | None:
    """The raw text of a stored record, from its ``raw`` and ``raw_packed`` columns."""
    return zstandard.decompress(bytes(packed)).decode() if packed is not None else raw


def raw_columns(raw: str | None) -> tuple[str | None, bytes | None]:
    """The ``raw`` and ``raw_packed`` columns for a raw text: packed when long."""
    if raw is not None and len(raw) > PACK_OVER:
        return None, pack_raw(raw)
    return raw, None


def stored_raw(record: Record) -> tuple[str | None, bytes | None]:
    """The ``raw`` and ``raw_packed`` columns to store for ``record`` (packed by its reader,
    or here)."""
    if record.raw_packed is not None:
        return None, record.raw_packed
    return raw_columns(record.raw)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row that could not be read; it goes to the quarantine table, the load goes on."""

    file_name: str
    line: int | None
    reason: str
    field: str | None = None
    record_id: str | None = None
    raw: str | None = None


Parsed = Record | Rejected


@dataclass(frozen=True, slots=True)
class Waiting:
    """Yielded by a parser whose reader (another process) has nothing ready yet: the store
    writes the records it holds meanwhile, instead of after the next ones (``ingest``)."""


WAITING = Waiting()


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A source the dictionary loads: its name, licence, the files of one release, its parser."""

    name: str
    licence: str
    title: str
    parse: Callable[[Sequence[Path]], Iterator[Parsed | Waiting]]
    snapshot: bool = True  # a release holds all records: those missing from it were removed
    # Called in the store's transaction with each group of new records as it is written (their
    # ``source_record`` rows, and the records themselves, in the same order), their events
    # saved: a loader builds its tables from them while the reader reads on.
    stored: Callable[[Any, list[JSONDict], list[Record]], None] | None = None


def open_bytes(path: Path) -> io.BufferedIOBase:
    """The file's bytes, gunzipped on the fly when it is ``.gz`` (never unpacked to disk)."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return path.open("rb")


def decoded_lines(path: Path) -> Iterator[tuple[int, str | None, bytes]]:
    """``(line number, text or None when not UTF-8, raw bytes)`` for each line of the file."""
    with open_bytes(path) as fh:
        for n, raw in enumerate(fh, start=1):
            raw = raw.rstrip(b"\r\n")
            try:
                yield n, raw.decode("utf-8"), raw
            except UnicodeDecodeError:
                yield n, None, raw


def csv_rows(
    path: Path, delimiter: str | None = None
) -> Iterator[tuple[int, list[str] | None, str]]:
    """``(line, fields or None when undecodable, raw text)`` for a CSV/TSV with quoted fields."""
    delim = delimiter
    for n, text, raw in decoded_lines(path):
        if text is None:
            yield n, None, raw.decode("utf-8", "replace")
            continue
        if delim is None:
            delim = ";" if text.count(";") > text.count(",") else ","
        try:
            fields = next(csv.reader([text], delimiter=delim))
        except (csv.Error, StopIteration):
            yield n, None, text
            continue
        yield n, fields, text


def header_rows(
    path: Path,
    delimiter: str,
    required: Sequence[str],
    clean: Callable[[str], str | None],
) -> Iterator[tuple[int, dict[str, str | None], str] | Rejected]:
    """The rows of a table with a header line, as ``(line, {lowercase column: clean(value)},
    raw)``; an undecodable or short row is a ``Rejected`` (the load goes on); a header lacking a
    ``required`` column raises (the file is not this table at all)."""
    header: list[str] | None = None
    for n, fields, raw in csv_rows(path, delimiter=delimiter):
        if fields is None:
            yield Rejected(path.name, n, "line is not valid UTF-8 or not a valid row", raw=raw)
            continue
        if header is None:
            header = [f.strip().lower() for f in fields]
            missing = [c for c in required if c not in header]
            if missing:
                raise ValueError(f"{path.name}: header lacks {', '.join(missing)}")
            continue
        if not raw.strip():
            continue
        if len(fields) != len(header):
            yield Rejected(
                path.name, n, f"expected {len(header)} columns, found {len(fields)}", raw=raw
            )
            continue
        yield n, {k: clean(v) for k, v in zip(header, fields, strict=True)}, raw


_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?:-(\d{2}))?(?!\d)")


def date_in_name(name: str) -> date | None:
    """``'drugbank_vocabulary_2023-08_x.csv.gz'`` -> 2023-08-01."""
    m = _DATE_IN_NAME.search(name)
    if not m:
        return None
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
    try:
        return date(y, mo, d)
    except ValueError:
        return None
