"""Reading EMA's table downloads: CSV or XLSX, title rows before the header, value clean-up.

EMA's "medicines output" downloads (https://www.ema.europa.eu/en/medicines/download-medicine-data)
open with a few title rows ("Content type:", "Output generated at:", the agency's address) before
the header row, so the header is found by its column names, not by its position. CSV cells may
hold line breaks inside quotes, so CSV records are assembled from physical lines by quote parity
and each record keeps the number of the line it starts on. XLSX rows are numbered as in Excel.

Cells are returned keyed by their header, lower-cased with whitespace collapsed
(``"Species\\n(veterinary)"`` -> ``"species (veterinary)"``), so that parsers can name the
columns of every layout the same way.
"""

from __future__ import annotations

import bz2
import calendar
import csv
import gzip
import html
import io
import itertools
import lzma
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from drugradar.sources.base import JSONDict, Rejected

Cell = str | int | float | datetime | date | None

MAX_RECORD_LINES = 200  # a quoted CSV field longer than this is taken to be unterminated
HEADER_SEARCH_ROWS = 40  # title rows EMA puts before the header, with room to spare


@dataclass(frozen=True, slots=True)
class Row:
    """One data row of a table: cells by normalised header, and where it came from."""

    file_name: str
    line: int
    cells: dict[str, Cell]
    raw: str
    labels: dict[str, str]  # normalised header -> the header as the file writes it

    def get(self, *names: str) -> Cell:
        """The first of ``names`` the table has (layouts name a column differently)."""
        for name in names:
            if name in self.cells:
                return self.cells[name]
        return None

    def has(self, *names: str) -> bool:
        return any(name in self.cells for name in names)

    def label(self, *names: str) -> str:
        """The column's header as the file writes it (for ``Rejected.field``)."""
        for name in names:
            if name in self.labels:
                return self.labels[name]
        return names[0]


def norm_header(value: object) -> str:
    return " ".join(str(value).split()).lower() if value is not None else ""


# ---- reading ----------------------------------------------------------------------------------


def open_stream(path: Path) -> io.BufferedIOBase:
    """The file's bytes, decompressed on the fly for ``.gz``, ``.bz2`` and ``.xz``."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    if path.suffix == ".bz2":
        return bz2.open(path, "rb")
    if path.suffix == ".xz":
        return lzma.open(path, "rb")
    return path.open("rb")


def _is_xlsx(path: Path) -> bool:
    return path.name.lower().endswith((".xlsx", ".xlsm"))


def read_table(path: Path, required: Sequence[Sequence[str]]) -> Iterator[Row | Rejected]:
    """Every data row under the header: the first row holding, for each group in ``required``,
    one of its (normalised) column names. Rows above the header are title rows and are skipped;
    blank rows are skipped; a file without such a header yields one ``Rejected``."""
    xlsx = _is_xlsx(path)
    rows = _xlsx_rows(path, required) if xlsx else _csv_rows(path)
    header: list[str] | None = None
    labels: dict[str, str] = {}
    for item in rows:
        if isinstance(item, Rejected):
            yield item
            continue
        line, values, raw = item
        if header is None:
            if _is_header(values, required):
                header = [norm_header(v) for v in values]
                labels = {norm_header(v): " ".join(str(v).split()) for v in values if v}
            elif line > HEADER_SEARCH_ROWS:
                break
            continue
        if all(_blank(v) for v in values):
            continue
        if xlsx and len(values) < len(header):
            values = values + [None] * (len(header) - len(values))  # Excel drops empty tails
        if len(values) < len(header) or not all(_blank(v) for v in values[len(header) :]):
            yield Rejected(
                path.name, line, f"expected {len(header)} columns, found {len(values)}", raw=raw
            )
            continue
        cells: dict[str, Cell] = {}
        for name, value in zip(header, values, strict=False):
            if name and name not in cells:
                cells[name] = value
        yield Row(path.name, line, cells, raw, labels)
    if header is None:
        wanted = ", ".join(repr(group[0]) for group in required)
        yield Rejected(path.name, None, f"no header row with the columns {wanted} was found")


def _is_header(values: Sequence[Cell], required: Sequence[Sequence[str]]) -> bool:
    names = {norm_header(v) for v in values}
    return all(any(n in names for n in group) for group in required)


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Cell], str] | Rejected]:
    for line, record, utf8, closed in _csv_records(path):
        if not utf8:
            yield Rejected(path.name, line, "record is not valid UTF-8", raw=record)
            continue
        if not closed:
            yield Rejected(path.name, line, "unterminated quoted field", raw=record[:2000])
            continue
        try:
            fields = next(csv.reader(io.StringIO(record)), [])
        except csv.Error as exc:
            yield Rejected(path.name, line, f"not valid CSV: {exc}", raw=record)
            continue
        yield line, list(fields), record


def _csv_records(path: Path) -> Iterator[tuple[int, str, bool, bool]]:
    """``(first line, text, is UTF-8, quotes closed)`` of each CSV record, which may span lines."""
    buf: list[str] = []
    start, quotes, utf8 = 0, 0, True
    with open_stream(path) as fh:
        for n, raw in enumerate(fh, start=1):
            raw = raw.rstrip(b"\r\n")
            try:
                line, ok = raw.decode("utf-8"), True
            except UnicodeDecodeError:
                line, ok = raw.decode("utf-8", "replace"), False
            if n == 1:
                line = line.removeprefix("\ufeff")
            if not buf:
                start, quotes, utf8 = n, 0, True
            buf.append(line)
            quotes += line.count('"')
            utf8 = utf8 and ok
            if quotes % 2 == 0 or len(buf) >= MAX_RECORD_LINES:
                yield start, "\n".join(buf), utf8, quotes % 2 == 0
                buf = []
    if buf:
        yield start, "\n".join(buf), utf8, False


def _xlsx_rows(
    path: Path, required: Sequence[Sequence[str]] | None
) -> Iterator[tuple[int, list[Cell], str] | Rejected]:
    """Rows of the first sheet with a header in its first rows (EMA's sheet, not a sheet someone
    added to the workbook), streamed with ``read_only``; with ``required=None``, the first rows
    of every sheet (where the title rows are)."""
    import openpyxl  # imported here: only the XLSX layouts need it

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        yield Rejected(path.name, None, f"not a readable XLSX workbook: {exc}")
        return
    try:
        for ws in wb.worksheets:
            rows = _sheet_rows(ws)
            head = [r for r in (next(rows, None) for _ in range(HEADER_SEARCH_ROWS)) if r]
            if required is not None and not any(_is_header(v, required) for _, v in head):
                continue
            for n, values in head:
                yield n, values, _xlsx_raw(values)
            if required is None:
                continue
            for n, values in rows:
                yield n, values, _xlsx_raw(values)
            return
    finally:
        wb.close()


def _sheet_rows(ws: Any) -> Iterator[tuple[int, list[Cell]]]:
    for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        yield n, values


def _xlsx_raw(values: list[Cell]) -> str:
    return "\t".join("" if v is None else _cell_text(v) for v in values)


def _cell_text(value: Cell) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


_GENERATED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def generated_at(path: Path) -> date | None:
    """The date in EMA's "Output generated at:" title cell, when the file still has it."""
    if _is_xlsx(path):
        rows: Iterator[tuple[int, list[Cell], str] | Rejected] = _xlsx_rows(path, None)
    else:
        rows = _csv_rows(path)
    for item in rows:
        if isinstance(item, Rejected):
            continue
        line, values, _ = item
        if line > HEADER_SEARCH_ROWS:
            break
        for label, value in itertools.pairwise(values):
            m = _GENERATED.search(str(value))
            if norm_header(label) == "output generated at:" and m:
                try:
                    return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
                except ValueError:
                    return None
    return None


# ---- values -----------------------------------------------------------------------------------


def text(value: Cell, *, trailing_comma: bool = False) -> str | None:
    """The cell as text: HTML entities (``&nbsp;``, ``&lt;``) decoded, no-break spaces made plain,
    ends stripped; ``None`` when empty. ``trailing_comma`` drops the ``", "`` the old EPAR export
    appends to multi-valued cells."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = html.unescape(_cell_text(value)).replace("\xa0", " ").strip()
    if trailing_comma:
        s = s.rstrip(", \t").strip()
    return s or None


def long_text(value: Cell) -> str | None:
    """Free text (an indication): as ``text``, with runs of whitespace made one space."""
    s = text(value, trailing_comma=True)
    return " ".join(s.split()) if s else None


def split_list(value: str | None, pattern: str = r"\s*;\s*") -> list[str]:
    """Sorted distinct non-empty parts of a multi-valued cell."""
    if not value:
        return []
    return sorted({p.strip() for p in re.split(pattern, value) if p.strip() and p.strip() != "-"})


_DMY = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def parse_date(value: Cell) -> tuple[str | None, bool]:
    """``(ISO date or None, understood)``: ``dd/mm/yyyy`` (also inside the old export's
    ``", ,   02/07/2018, , "``), ISO, or an Excel datetime. Excel datetimes of the 2019 EPAR
    export are UTC instants of midnight in Amsterdam (``2019-11-13 23:00`` is 14 November), so
    they are read in EMA's local time."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, True
    if isinstance(value, datetime):
        return amsterdam_date(value).isoformat(), True
    if isinstance(value, date):
        return value.isoformat(), True
    s = str(value)
    found = {(int(d), int(m), int(y)) for d, m, y in _DMY.findall(s)}
    found |= {(int(d), int(m), int(y)) for y, m, d in _ISO.findall(s)}
    leftover = _ISO.sub("", _DMY.sub("", s)).strip(" ,;-")
    if len(found) != 1 or leftover:
        return None, False
    d, m, y = found.pop()
    try:
        return date(y, m, d).isoformat(), True
    except ValueError:
        return None, False


def _last_sunday_1am(year: int, month: int) -> datetime:
    d = date(year, month, calendar.monthrange(year, month)[1])
    d -= timedelta(days=(d.weekday() - 6) % 7)
    return datetime(d.year, d.month, d.day, 1)


def amsterdam_date(value: datetime) -> date:
    """The calendar date in Amsterdam of a UTC datetime (EU summer time rules since 1981)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    end_month = 10 if value.year >= 1996 else 9
    summer = _last_sunday_1am(value.year, 3) <= value < _last_sunday_1am(value.year, end_month)
    return (value + timedelta(hours=2 if summer else 1)).date()


def yes_no(value: Cell) -> tuple[bool | None, bool]:
    """``(True/False/None, understood)`` for the ``yes``/``no`` flag columns."""
    s = text(value)
    if s is None:
        return None, True
    low = s.lower()
    if low in ("yes", "y", "true", "1"):
        return True, True
    if low in ("no", "n", "false", "0"):
        return False, True
    return None, False


def put_date(data: JSONDict, key: str, row: Row, *names: str) -> None:
    """``data[key]`` = the ISO date; ``None`` when the column is absent or empty. A value that is
    not a date also gives ``None``, and is kept verbatim in ``data[key + "_raw"]``."""
    value = row.get(*names)
    iso, ok = parse_date(value)
    data[key] = iso
    if not ok:
        data[key + "_raw"] = text(value)


def put_flag(data: JSONDict, key: str, row: Row, *names: str) -> None:
    """``data[key]`` = the yes/no flag, ``None`` when the table has no such column (a missing
    column must not read as "no"); an unknown value is ``None`` plus ``data[key + "_raw"]``."""
    flag, ok = yes_no(row.get(*names))
    data[key] = flag
    if not ok:
        data[key + "_raw"] = text(row.get(*names))


def slug(value: str | None) -> str | None:
    """``"Application withdrawn"`` -> ``"application_withdrawn"``."""
    if not value:
        return None
    s = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    return s or None


def url_id(url: str | None) -> str | None:
    """A stable id from an EMA page address: its path after ``/en/medicines/``
    (``https://www.ema.europa.eu/en/medicines/dhpc/keppra`` -> ``dhpc/keppra``)."""
    if not url:
        return None
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return None
    path = parsed.path.strip("/")
    for prefix in ("en/medicines/", "en/"):
        if path.startswith(prefix):
            path = path[len(prefix) :]
            break
    return path or None
