"""Any search as a file: CSV, JSON or XLSX, every result (not a page), read in batches.

CSV and JSON stream as they are read; XLSX (a zip) is written in openpyxl's write-only mode and
sent when complete. A cell that starts like a formula (``= + - @``) is written as text: in CSV
with a leading apostrophe (the usual guard against formula injection), in XLSX as a string cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from drugradar.api.jsonresp import dumps

COLUMNS = (
    "id",
    "preferred_name",
    "modality",
    "highest_phase",
    "highest_phase_ever",
    "matched_alias",
)
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA = ("=", "+", "-", "@")
XLSX_MAX_ROWS = 1_048_575  # a sheet's rows, less the header


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def csv_chunks(rows: Iterable[dict[str, Any]], every: int = 500) -> Iterator[bytes]:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    out.writerow(COLUMNS)
    for n, row in enumerate(rows, 1):
        out.writerow([_csv_cell(row.get(c)) for c in COLUMNS])
        if n % every == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def json_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    yield b"["
    for n, row in enumerate(rows):
        yield (b",\n" if n else b"\n") + dumps({c: row.get(c) for c in COLUMNS})
    yield b"\n]\n"


def xlsx_bytes(rows: Iterable[dict[str, Any]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("drugs")
    ws.append(list(COLUMNS))
    for n, row in enumerate(rows):
        if n >= XLSX_MAX_ROWS:
            break
        cells = []
        for c in COLUMNS:
            value = row.get(c)
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str) and value.startswith(_FORMULA):
                cell.data_type = "s"
            cells.append(cell)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
