"""Drug labels in openFDA's JSON shape, and partial label extracts, as label records.

openFDA serves each SPL label as one JSON object (``/drug/label.json``; schema in
``fda/labels/openfda_druglabel_schema.json``): ``set_id``, ``id`` (the SPL document id),
``version`` and ``effective_time`` (``'YYYYMMDD'``) as strings, one list of strings per
section field (``boxed_warning``, ``adverse_reactions``…; the ``*_table`` fields repeat the
section's tables as HTML and are not read) and an ``openfda`` block of lists (``brand_name``,
``generic_name``, ``manufacturer_name``, ``route``, ``unii``, ``substance_name``,
``product_ndc``, ``application_number``, ``product_type``, ``spl_set_id``, ``pharm_class_*``…).
``map_label`` turns one such object into a record of the shape ``spl.label_data`` defines (see
``spl``), so a label read from the live API (``openfda_api``), from openFDA's bulk download
(``drug-label-0001-of-0013.json.zip``, https://open.fda.gov/apis/drug/label/download/) or
from SPL XML reads the same way. Each openFDA field is one section (level 1, ``title`` None,
``name`` = the field name), in the order of a prescribing information (``label_sections``).
From the ``openfda`` block: ``brand_names``, ``generic_names``, ``routes``, ``product_ndcs``,
``uniis``, ``dosage_forms``, ``application_numbers`` (upper case), ``labeler`` (the manufacturer
names joined by ``"; "``), ``document_type`` (``product_type`` + ``" LABEL"``, as SPL says it),
``active_ingredients`` from ``substance_name`` (a UNII paired only when there is one of each:
openFDA does not say which UNII is which substance), and ``openfda``: the whole block, each
list sorted. ``products``, ``title``, ``labeler_duns`` and ``marketing_categories`` stay empty.

Sources (each its own ``SourceSpec``; ``record_id`` prefixed so that a partial extract never
takes the place of a whole label):

- ``openfda_labels``: openFDA label JSON (API pages, bulk files ``{"meta", "results": [...]}``,
  JSON lines, zipped or gzipped): ``record_id`` = the set id, ``partial`` False, ``as_of`` =
  the effective date; a set id twice in a release keeps its highest version.
- ``openfda_label_rows``: ``openfda_section_extracts/databricks_clean_drug_table_openfda_labels
  .csv.gz``, 235 openFDA labels (mostly OTC) flattened to one CSV row each: ``id, set_id,
  brand_name, generic_name, manufacturer_name, product_ndc, route, substance_name`` (lists
  joined by ``", "``), six sections with whitespace collapsed (``active_ingredient``,
  ``purpose``, ``indications_and_usage``, ``warnings``, ``dosage_and_administration``,
  ``inactive_ingredient``; a missing one is the text ``null``), ``effective_time, version``
  and ``brand_name`` again. Each row goes through ``map_label``; ``record_id`` =
  ``openfda_flat:<set id>``, ``partial`` True.
- ``openfda_adverse_by_brand``: ``kevinkingslin_adverse_reactions_by_brand.json.gz``, one
  JSON object ``{brand: adverse_reactions text}`` (1,444 brands as FAERS reports name them, text
  cut at 2,500 characters; 1,100 texts are empty and yield nothing — no label was found for
  them). ``record_id`` = ``openfda_ar_brand:<brand>``; ``brand_names`` = [brand]; one
  ``adverse_reactions`` section; extra key ``truncated`` (the text is 2,500 characters long).
- ``onsides_tac2017``: ``onsides_tac2017/demner-fushman-{train,test}-labels.json.gz``, the TAC
  2017 adverse reaction corpus (200 labels, 99 test + 101 train) as OnSIDES reformatted it:
  one item per (label, section), label named by brand: ``record_id`` = ``onsides_tac2017:
  <label_id>``, sections ``adverse reactions`` / ``warnings and precautions`` / ``boxed
  warnings`` with their text verbatim (annotation offsets point into it); extra keys
  ``corpora`` (["train"] or ["test"]) and ``adverse_events``.
- ``onsides_pediatric``: ``onsides_tac2017/fda-pediatric-special-populations-annot.json.gz``,
  OnSIDES-PED: the pediatric part (``SP``) of Use in Specific Populations of 343 labels, named by
  set id, lower-cased text: ``record_id`` = ``onsides_ped:<set id>``, one ``pediatric_use``
  section, ``adverse_events``.

``adverse_events`` (OnSIDES, manually annotated, mapped to MedDRA), sorted:
``[{"section", "mention", "meddra_pt", "meddra_pt_id", "meddra_llt", "meddra_llt_id", "start",
"length", "annotator"}]``: our section key, the words as written, the MedDRA preferred term and
lowest level term with their codes (int; None where unmapped), the mention's character offset
and length in the section text (None for a few discontinuous mentions) and ``'human'`` (TAC) or
None. The files write ids as floats, as strings and as ``NaN``: they are normalised; an
annotation that still cannot be read (OnSIDES-PED writes a mention mapped to two terms with the
code ``"1, 0, 0, 1, 8, 6, 5, 1"``) is rejected on its own and the label kept without it.

Releases (``releases``): per folder and source, dated by a date in the file or folder name, else
the ``SOURCE`` note beside the files (OnSIDES: the commit date), else the newest
``effective_time`` the rows carry (flattened rows), else the file's mtime (the adverse
reactions by brand file carries no date at all).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from drugradar.sources import label_sections as ls
from drugradar.sources.base import JSONDict, Parsed, Record, Rejected, SourceSpec, date_in_name
from drugradar.sources.spl import (
    distinct,
    effective_date,
    is_uuid,
    label_data,
    labels_folder,
    source_file_date,
)

OPENFDA_LICENCE = "CC0 1.0 (openFDA); label text public domain (FDA)"
ONSIDES_LICENCE = "MIT (OnSIDES, Tatonetti Lab); label text public domain (FDA)"
ROWS_PREFIX = "openfda_flat:"
BRAND_PREFIX = "openfda_ar_brand:"
TAC_PREFIX = "onsides_tac2017:"
PED_PREFIX = "onsides_ped:"
AR_TRUNCATED_AT = 2500
META_FIELDS = frozenset({"id", "set_id", "version", "effective_time", "openfda"})
# openFDA block fields holding codes: a flattened row joins them with ", " and may be split back.
_CODE_LISTS = frozenset(
    {
        "application_number",
        "package_ndc",
        "product_ndc",
        "route",
        "rxcui",
        "spl_id",
        "spl_set_id",
        "unii",
        "upc",
        "nui",
        "original_packager_product_ndc",
    }
)
OPENFDA_BLOCK_FIELDS = _CODE_LISTS | {
    "brand_name",
    "generic_name",
    "manufacturer_name",
    "substance_name",
    "product_type",
    "dosage_form",
    "is_original_packager",
    "pharm_class_cs",
    "pharm_class_epc",
    "pharm_class_moa",
    "pharm_class_pe",
    "rxstring",
    "rxtty",
}
ONSIDES_SECTIONS = {
    "adverse reactions": "adverse_reactions",
    "warnings and precautions": "warnings_and_cautions",
    "boxed warnings": "boxed_warning",
    "sp": "pediatric_use",
}


class BadLabel(ValueError):
    """A label object that cannot be read; ``field`` names the culprit."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.field = field


# ---------------------------------------------------------------- (a) one openFDA label


def _strings(value: Any, field: str) -> list[str]:
    """openFDA fields are lists of strings; a bare string is taken as a list of one."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise BadLabel(f"field {field!r} is not a list of strings", field)


def _section(key: str, field: str, text: str) -> JSONDict:
    return {
        "key": key,
        "code": ls.code_for_key(key),
        "name": field,
        "title": None,
        "level": 1,
        "parent_code": None,
        "text": text,
    }


def _sections(obj: dict[str, Any]) -> list[JSONDict]:
    out = []
    for field, value in obj.items():
        if field in META_FIELDS or field.endswith("_table"):
            continue
        text = "\n\n".join(t.strip() for t in _strings(value, field) if t.strip())
        if text:
            sec = ls.openfda_section(field)
            entry = _section(ls.key_for_openfda_field(field), field, text)
            entry["code"] = sec.code if sec else None
            out.append(entry)
    return sorted(out, key=lambda s: (*ls.sort_key(s["key"]), s["name"]))


def _document_type(product_types: list[str]) -> str | None:
    """openFDA ``HUMAN PRESCRIPTION DRUG`` -> SPL's ``HUMAN PRESCRIPTION DRUG LABEL``."""
    if not product_types:
        return None
    pt = product_types[0].strip().upper()
    return pt if pt.endswith("LABEL") else f"{pt} LABEL"


def map_label(
    obj: Any, *, source: str = "openfda", partial: bool = False, prefix: str = ""
) -> tuple[str, JSONDict, date]:
    """``(record id, data, effective date)`` of one openFDA label object; ``BadLabel`` if it
    cannot be read. ``prefix`` goes before the set id in the record id (partial extracts)."""
    if not isinstance(obj, dict):
        raise BadLabel("label is not a JSON object")
    block = obj.get("openfda") or {}
    if not isinstance(block, dict):
        raise BadLabel("field 'openfda' is not an object", "openfda")
    of = {k: _strings(v, f"openfda.{k}") for k, v in block.items()}
    set_id = obj.get("set_id") or next(iter(of.get("spl_set_id", [])), None)
    if not isinstance(set_id, str) or not is_uuid(set_id.strip()):
        raise BadLabel(f"missing or malformed set_id {set_id!r}", "set_id")
    set_id = set_id.strip().lower()
    raw_time = obj.get("effective_time")
    when = effective_date(raw_time) if isinstance(raw_time, str) else None
    if when is None:
        raise BadLabel(f"missing or malformed effective_time {raw_time!r}", "effective_time")
    raw_version = obj.get("version")
    version = None
    if raw_version is not None:
        if not str(raw_version).strip().isdigit():
            raise BadLabel(f"malformed version {raw_version!r}", "version")
        version = int(str(raw_version).strip())
    doc_id = obj.get("id")
    if doc_id is not None and not isinstance(doc_id, str):
        raise BadLabel(f"malformed id {doc_id!r}", "id")
    names, uniis = distinct(of.get("substance_name", [])), distinct(of.get("unii", []))
    pair = len(names) == 1 and len(uniis) == 1
    labelers = distinct(of.get("manufacturer_name", []))
    data = label_data(
        source,
        partial=partial,
        set_id=set_id,
        document_id=doc_id.strip().lower() if doc_id else None,
        version=version,
        effective_time=raw_time,
        effective_date=when.isoformat(),
        document_type=_document_type(of.get("product_type", [])),
        labeler="; ".join(labelers) or None,
        brand_names=distinct(of.get("brand_name", [])),
        generic_names=distinct(of.get("generic_name", [])),
        dosage_forms=distinct(of.get("dosage_form", [])),
        routes=distinct(of.get("route", [])),
        product_ndcs=distinct(of.get("product_ndc", [])),
        application_numbers=distinct(a.upper() for a in of.get("application_number", [])),
        uniis=uniis,
        active_ingredients=[
            {"name": n, "unii": uniis[0] if pair else None, "moiety": None, "moiety_unii": None}
            for n in names
        ],
        sections=_sections(obj),
        openfda={k: sorted(v) for k, v in sorted(of.items())} or None,
    )
    return prefix + set_id, data, when


def label_record(
    obj: Any,
    file_name: str,
    line: int | None,
    *,
    source: str = "openfda",
    partial: bool = False,
    prefix: str = "",
    raw: str | None = None,
) -> Record | Rejected:
    """``map_label`` as a ``Record`` (``as_of`` = effective date) or a ``Rejected``."""
    try:
        rid, data, when = map_label(obj, source=source, partial=partial, prefix=prefix)
    except BadLabel as exc:
        sid = obj.get("set_id") if isinstance(obj, dict) else None
        return Rejected(
            file_name,
            line,
            str(exc),
            field=exc.field,
            record_id=prefix + sid if isinstance(sid, str) else None,
            raw=raw if raw is not None else _raw(obj),
        )
    return Record(rid, data, raw=raw, as_of=when)


def _raw(obj: Any) -> str:
    return orjson.dumps(obj, default=str).decode()[:2000]


Located = tuple[Parsed, str, int | None]  # an item with the file and line it came from


def _newest_per_id(items: Iterable[Located]) -> Iterator[Parsed]:
    """Records of one id several times: keep the highest (version, effective date), reject the
    others where they were read, with the reason."""
    best: dict[str, tuple[Record, str, int | None]] = {}
    for item, name, line in items:
        if isinstance(item, Rejected):
            yield item
            continue
        prev = best.get(item.record_id)
        if prev is None:
            best[item.record_id] = (item, name, line)
            continue
        newer = _rank(item) > _rank(prev[0])
        keep, (drop, dname, dline) = (
            ((item, name, line), prev) if newer else (prev, (item, name, line))
        )
        best[item.record_id] = keep
        yield Rejected(
            dname,
            dline,
            f"set id {drop.data['set_id']} appears again; version {keep[0].data['version']} of "
            f"{keep[0].data['effective_date']} is kept, version {drop.data['version']} of "
            f"{drop.data['effective_date']} is not read",
            field="version",
            record_id=drop.record_id,
            raw=drop.raw,
        )
    for rec, _, _ in best.values():
        yield rec


def _rank(rec: Record) -> tuple[int, str]:
    return (rec.data["version"] or -1, rec.data["effective_date"] or "")


# ---------------------------------------------------------------- JSON with line numbers

_DECODER = json.JSONDecoder()
_WS = re.compile(r"\s*")


class _Scanner:
    """Walks a JSON text's top-level array (or object, or ``{"results": [...]}``) item by item,
    telling each item's line; a syntax error raises ``ValueError`` with its line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self._line, self._at = 1, 0

    def line(self, pos: int) -> int:
        if pos < self._at:
            return self.text.count("\n", 0, pos) + 1
        self._line += self.text.count("\n", self._at, pos)
        self._at = pos
        return self._line

    def _skip(self) -> str:
        self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]
        return self.text[self.pos : self.pos + 1]

    def _fail(self, what: str) -> ValueError:
        return ValueError(f"not valid JSON at line {self.line(self.pos)}: {what}")

    def _value(self) -> Any:
        try:
            value, self.pos = _DECODER.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON at line {exc.lineno}: {exc.msg}") from None
        return value

    def items(self) -> Iterator[tuple[int, str | None, Any]]:
        """``(line, key or None, value)``: array elements, or object members."""
        first = self._skip()
        if first == "[":
            yield from self._array()
        elif first == "{":
            yield from self._object()
        else:
            raise self._fail("expected an array or an object")

    def _array(self) -> Iterator[tuple[int, str | None, Any]]:
        self.pos += 1
        if self._skip() == "]":
            self.pos += 1
            return
        while True:
            self._skip()
            start = self.pos
            yield self.line(start), None, self._value()
            sep = self._skip()
            self.pos += 1
            if sep == "]":
                return
            if sep != ",":
                raise self._fail("expected ',' or ']'")

    def _object(self) -> Iterator[tuple[int, str | None, Any]]:
        self.pos += 1
        if self._skip() == "}":
            self.pos += 1
            return
        while True:
            if self._skip() != '"':
                raise self._fail("expected a member name")
            start = self.pos
            key = self._value()
            if self._skip() != ":":
                raise self._fail("expected ':'")
            self.pos += 1
            if key == "results" and self._skip() == "[":
                yield from self._array()
            else:
                self._skip()
                yield self.line(start), key, self._value()
            sep = self._skip()
            self.pos += 1
            if sep == "}":
                return
            if sep != ",":
                raise self._fail("expected ',' or '}'")


def _read_text(path: Path) -> Iterator[tuple[str, str]]:
    """``(name, text)`` of a JSON file, gunzipped, or of each JSON member of a zip."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as zf:
            for member in sorted(zf.namelist()):
                if member.lower().endswith((".json", ".jsonl")):
                    yield f"{path.name}:{member}", zf.read(member).decode("utf-8")
        return
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        yield path.name, fh.read().decode("utf-8")


def json_items(path: Path) -> Iterator[tuple[str, int | None, str | None, Any] | Rejected]:
    """``(name, line, key, value)`` for each top-level item of a JSON (or JSON lines) file;
    an unreadable file or line is one ``Rejected``."""
    try:
        texts = list(_read_text(path))
    except (OSError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        yield Rejected(path.name, None, f"file could not be read: {exc}")
        return
    for name, text in texts:
        if _is_json_lines(name, text):
            for n, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        yield name, n, None, json.loads(line)
                    except json.JSONDecodeError as exc:
                        yield Rejected(name, n, f"line is not valid JSON: {exc.msg}", raw=line)
            continue
        scanner = _Scanner(text)
        try:
            for line_no, key, value in scanner.items():
                yield name, line_no, key, value
        except ValueError as exc:
            yield Rejected(name, _line_of(str(exc)), str(exc))


def _line_of(message: str) -> int | None:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


def _is_json_lines(name: str, text: str) -> bool:
    """A ``.jsonl`` file, or one whose first line is a whole JSON object with more after it."""
    if name.lower().endswith(".jsonl"):
        return True
    first, _, rest = text.strip().partition("\n")
    if not first.startswith("{") or not rest.strip():
        return False
    try:
        return isinstance(json.loads(first), dict)
    except json.JSONDecodeError:
        return False


def _finite(value: Any) -> Any:
    """``NaN`` (which the OnSIDES files write) is no value."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


# ---------------------------------------------------------------- openFDA label JSON files


def parse_label_json(paths: Sequence[Path]) -> Iterator[Parsed]:
    """Every label object in openFDA JSON files (bulk download, API pages, JSON lines)."""

    def items() -> Iterator[Located]:
        for path in paths:
            for item in json_items(path):
                if isinstance(item, Rejected):
                    yield item, item.file_name, item.line
                    continue
                name, line, key, value = item
                if key is not None and key != "results":
                    continue  # "meta" and the like
                yield label_record(value, name, line), name, line

    yield from _newest_per_id(items())


# ---------------------------------------------------------------- flattened openFDA rows


def _row_to_label(row: dict[str, str]) -> JSONDict:
    """A flattened CSV row back into openFDA's label JSON shape."""
    obj: JSONDict = {}
    block: dict[str, list[str]] = {}
    for col, value in row.items():
        value = value.strip()
        if value.lower() == "null":  # the flattened table writes a missing section so
            value = ""
        if col in META_FIELDS:
            obj[col] = value or None
        elif col in OPENFDA_BLOCK_FIELDS:
            parts = value.split(", ") if col in _CODE_LISTS else [value]
            block[col] = [p.strip() for p in parts if p.strip()]
        elif ls.openfda_section(col) is not None and value:
            obj[col] = [value]
    obj["openfda"] = block
    return obj


def parse_label_rows(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One partial label ``Record`` per row of a flattened openFDA label table (CSV)."""
    for path in paths:
        yield from _newest_per_id((item, path.name, line) for item, line in _label_rows(path))


_BAD_BYTES = re.compile("[\udc80-\udcff]")


def _label_rows(path: Path) -> Iterator[tuple[Parsed, int | None]]:
    """Each row of a flattened table, with the line it starts on."""
    name = path.name
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as fh:
            text = fh.read().decode("utf-8", "surrogateescape")
    except OSError as exc:
        yield Rejected(name, None, f"file could not be read: {exc}"), None
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    start = 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if header is None:
                header = [f.strip() for f in fields]
                missing = {"set_id", "effective_time"} - set(header)
                if missing:
                    yield Rejected(name, line, f"header lacks column(s) {sorted(missing)}"), line
                    return
                continue
            if not any(f.strip() for f in fields):
                continue
            yield _label_row(header, fields, name, line), line
    except csv.Error as exc:
        yield Rejected(name, start, f"CSV is malformed: {exc}"), start


def _label_row(header: list[str], fields: list[str], name: str, line: int) -> Parsed:
    raw = ",".join(fields)
    if _BAD_BYTES.search(raw):
        raw = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")[:2000]
        return Rejected(name, line, "row is not valid UTF-8", raw=raw)
    raw = raw[:2000]
    if len(fields) != len(header):
        return Rejected(name, line, f"expected {len(header)} columns, found {len(fields)}", raw=raw)
    row: dict[str, str] = {}
    for col, value in zip(header, fields, strict=True):
        if col in row and row[col].strip() != value.strip():
            return Rejected(
                name,
                line,
                f"the two {col!r} columns disagree ({row[col]!r} and {value!r})",
                field=col,
                record_id=ROWS_PREFIX + fields[header.index("set_id")].strip(),
                raw=raw,
            )
        row.setdefault(col, value)
    return label_record(
        _row_to_label(row),
        name,
        line,
        source="openfda_label_rows",
        partial=True,
        prefix=ROWS_PREFIX,
        raw=raw,
    )


# ---------------------------------------------------------------- adverse reactions by brand


def parse_adverse_by_brand(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One partial ``Record`` per brand with a non-empty adverse reactions text."""
    for path in paths:
        seen: dict[str, tuple[int | None, str]] = {}
        for item in json_items(path):
            if isinstance(item, Rejected):
                yield item
                continue
            name, line, brand, text = item
            if brand is None:
                yield Rejected(name, line, "expected one JSON object {brand: text}, found an array")
                return
            rid = BRAND_PREFIX + brand
            if not isinstance(text, str):
                yield Rejected(
                    name, line, f"text of {brand!r} is not a string", field=brand, record_id=rid
                )
                continue
            if not brand.strip():
                yield Rejected(name, line, "empty brand name", field="brand", raw=text[:2000])
                continue
            if brand in seen:
                if seen[brand][1] != text:
                    yield Rejected(
                        name,
                        line,
                        f"brand {brand!r} appears again (line {seen[brand][0]}) with another text",
                        field=brand,
                        record_id=rid,
                        raw=text[:2000],
                    )
                continue
            seen[brand] = (line, text)
            if text.strip():
                yield _brand_record(rid, brand, text)


def _brand_record(rid: str, brand: str, text: str) -> Record:
    data = label_data(
        "openfda_adverse_by_brand",
        partial=True,
        brand_names=[brand.strip()],
        sections=[_section("adverse_reactions", "adverse_reactions", text.strip())],
        extra={"truncated": len(text) >= AR_TRUNCATED_AT},
    )
    return Record(rid, data)


# ---------------------------------------------------------------- OnSIDES annotations


def _meddra_id(value: Any) -> int | None:
    value = _finite(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"MedDRA code {value!r} is not a number") from None
    if not number.is_integer():
        raise ValueError(f"MedDRA code {value!r} is not a whole number")
    return int(number)


def _offset(value: Any) -> int | None:
    value = _finite(value)
    return None if value is None else int(float(value))


def _term(value: Any) -> str | None:
    value = _finite(value)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"term {value!r} is not a string")
    return value


def _adverse_event(item: Any, section: str) -> JSONDict:
    """``[mention, pt, pt_id, llt, llt_id, start, length(, annotator)]`` -> a dict."""
    if not isinstance(item, list) or len(item) not in (7, 8):
        raise ValueError("an annotation is not a list of 7 or 8 values")
    mention = item[0]
    if not isinstance(mention, str) or not mention.strip():
        raise ValueError(f"annotation mention {mention!r} is not a text")
    return {
        "section": section,
        "mention": mention,
        "meddra_pt": _term(item[1]),
        "meddra_pt_id": _meddra_id(item[2]),
        "meddra_llt": _term(item[3]),
        "meddra_llt_id": _meddra_id(item[4]),
        "start": _offset(item[5]),
        "length": _offset(item[6]),
        "annotator": _term(item[7]) if len(item) == 8 else None,
    }


def _event_order(ae: JSONDict) -> list[Any]:
    return [(ae[k] is None, ae[k] if ae[k] is not None else "") for k in _AE_KEYS]


_AE_KEYS = ("section", "start", "length", "mention", "meddra_pt_id", "meddra_llt_id")


def _onsides_items(
    paths: Sequence[Path], set_ids: bool, prefix: str
) -> Iterator[tuple[str, int | None, str, JSONDict, list[JSONDict]] | Rejected]:
    """``(file, line, label id, section entry, annotations)`` per readable OnSIDES item; an
    unreadable annotation is rejected on its own, the rest of the item is kept."""
    for path in paths:
        for item in json_items(path):
            if isinstance(item, Rejected):
                yield item
                continue
            name, line, key, obj = item
            if key is not None or not isinstance(obj, dict):
                yield Rejected(name, line, "item is not a JSON object in a top-level array")
                continue
            label, sname, text = (
                obj.get("label_id"),
                obj.get("section_name"),
                obj.get("section_text"),
            )
            ok = isinstance(label, str) and (is_uuid(label.strip()) if set_ids else label.strip())
            if not ok:
                what = "label_id is not a set id" if set_ids else "missing label_id"
                yield Rejected(name, line, f"{what}: {label!r}", field="label_id", raw=_raw(obj))
                continue
            assert isinstance(label, str)
            label = label.strip().lower() if set_ids else label.strip()
            rid = prefix + label
            if not isinstance(sname, str) or not sname.strip():
                yield Rejected(
                    name, line, "missing section_name", field="section_name", record_id=rid
                )
                continue
            if not isinstance(text, str) or not text.strip():
                yield Rejected(
                    name, line, "missing section_text", field="section_text", record_id=rid
                )
                continue
            skey = ONSIDES_SECTIONS.get(sname.strip().lower(), ls.slug(sname))
            events = obj.get("adverse_events") or []
            if not isinstance(events, list):
                yield Rejected(
                    name,
                    line,
                    "adverse_events is not a list",
                    field="adverse_events",
                    record_id=rid,
                    raw=_raw(obj),
                )
                continue
            annotations = []
            for n, event in enumerate(events, start=1):
                try:
                    annotations.append(_adverse_event(event, skey))
                except (ValueError, TypeError) as exc:
                    yield Rejected(
                        name,
                        line,
                        f"annotation {n} of section {sname!r} is left out: {exc}",
                        field="adverse_events",
                        record_id=rid,
                        raw=_raw(event),
                    )
            yield name, line, label, _section(skey, sname, text), annotations


def _onsides_records(
    items: Iterator[tuple[str, int | None, str, JSONDict, list[JSONDict]] | Rejected],
    *,
    source: str,
    prefix: str,
    set_ids: bool,
) -> Iterator[Parsed]:
    """Group OnSIDES items by label into one partial record each."""
    labels: dict[str, JSONDict] = {}
    for item in items:
        if isinstance(item, Rejected):
            yield item
            continue
        name, line, label, section, annotations = item
        key = label
        rec = labels.setdefault(key, {"sections": {}, "events": [], "corpora": set()})
        if section["key"] in rec["sections"]:
            yield Rejected(
                name,
                line,
                f"section {section['name']!r} of label {label!r} appears again; the first "
                "one is kept",
                field="section_name",
                record_id=prefix + key,
            )
            continue
        rec["sections"][section["key"]] = section
        rec["events"].extend(annotations)
        m = re.search(r"-(train|test)-", name)
        if m:
            rec["corpora"].add(m.group(1))
    for key, rec in labels.items():
        sections = sorted(rec["sections"].values(), key=lambda s: ls.sort_key(s["key"]))
        extra: JSONDict = {"adverse_events": sorted(rec["events"], key=_event_order)}
        if not set_ids:
            extra["corpora"] = sorted(rec["corpora"])
        data = label_data(
            source,
            partial=True,
            set_id=key if set_ids else None,
            brand_names=[] if set_ids else [key],
            sections=sections,
            extra=extra,
        )
        yield Record(prefix + key, data)


def parse_onsides_tac(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One partial ``Record`` per TAC 2017 label (brand), its sections and annotations."""
    items = _onsides_items(paths, False, TAC_PREFIX)
    return _onsides_records(items, source="onsides_tac2017", prefix=TAC_PREFIX, set_ids=False)


def parse_onsides_pediatric(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One partial ``Record`` per OnSIDES-PED label (set id): its pediatric section."""
    items = _onsides_items(paths, True, PED_PREFIX)
    return _onsides_records(items, source="onsides_pediatric", prefix=PED_PREFIX, set_ids=True)


# ---------------------------------------------------------------- specs and releases

LABELS_SPEC = SourceSpec(
    name="openfda_labels",
    licence=OPENFDA_LICENCE,
    title="openFDA drug labels (JSON)",
    parse=parse_label_json,
    snapshot=False,  # API results are a query's answer, not every label
)
ROWS_SPEC = SourceSpec(
    name="openfda_label_rows",
    licence="CC0 1.0 (openFDA label data, flattened by a third party)",
    title="openFDA labels, flattened rows (partial)",
    parse=parse_label_rows,
)
ADVERSE_SPEC = SourceSpec(
    name="openfda_adverse_by_brand",
    licence="CC0 1.0 (openFDA label text, extracted by a third party)",
    title="openFDA adverse reactions sections by brand (partial)",
    parse=parse_adverse_by_brand,
)
TAC_SPEC = SourceSpec(
    name="onsides_tac2017",
    licence=ONSIDES_LICENCE,
    title="TAC 2017 annotated label sections (OnSIDES)",
    parse=parse_onsides_tac,
)
PEDIATRIC_SPEC = SourceSpec(
    name="onsides_pediatric",
    licence=ONSIDES_LICENCE,
    title="OnSIDES-PED annotated pediatric label sections",
    parse=parse_onsides_pediatric,
)
SPECS = (LABELS_SPEC, ROWS_SPEC, ADVERSE_SPEC, TAC_SPEC, PEDIATRIC_SPEC)


def _newest_effective_time(path: Path) -> date | None:
    dates = [r.as_of for r, _ in _label_rows(path) if isinstance(r, Record) and r.as_of]
    return max(dates) if dates else None


def _dated(folder: Path, files: Sequence[Path], fallback: Callable[[], date | None]) -> date:
    """Release date: a date in the file or folder name, else in the folder's ``SOURCE`` note,
    else ``fallback()`` (a date the data carries), else the newest file's mtime."""
    for p in (*files, folder):
        found = date_in_name(p.name)
        if found:
            return found
    found = source_file_date(folder) or fallback()
    if found:
        return found
    return date.fromtimestamp(max(p.stat().st_mtime for p in files))


def _kind(path: Path) -> SourceSpec | None:
    name = path.name.lower()
    if not name.endswith((".json", ".json.gz", ".jsonl", ".jsonl.gz", ".zip", ".csv", ".csv.gz")):
        return None
    if "demner-fushman" in name:
        return TAC_SPEC
    if "pediatric" in name and "annot" in name:
        return PEDIATRIC_SPEC
    if "adverse_reactions_by_brand" in name:
        return ADVERSE_SPEC
    if ".csv" in name and "openfda_labels" in name:
        return ROWS_SPEC
    if name.startswith("drug-label"):
        return LABELS_SPEC
    return None


def releases(folder: Path) -> list[tuple[SourceSpec, str, tuple[Path, ...], date]]:
    """Every openFDA-shaped and OnSIDES release under ``folder`` (``fda/labels`` or a parent),
    oldest first: per folder, one release per source (the TAC train and test files together)."""
    root = labels_folder(folder)
    groups: dict[tuple[Path, str], list[Path]] = {}
    specs = {s.name: s for s in SPECS}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        spec = _kind(path)
        if spec is not None:
            groups.setdefault((path.parent, spec.name), []).append(path)
    out = []
    for (sub, name), files in groups.items():
        spec = specs[name]
        label = str(sub.relative_to(root)) if sub != root else root.name
        if len(files) == 1:
            label = f"{label}/{files[0].name}"
        first = files[0]

        def fallback(f: Path = first, rows: bool = spec is ROWS_SPEC) -> date | None:
            return _newest_effective_time(f) if rows else None

        out.append((spec, label, tuple(files), _dated(sub, files, fallback)))
    return sorted(out, key=lambda r: (r[3], r[0].name, r[1]))
