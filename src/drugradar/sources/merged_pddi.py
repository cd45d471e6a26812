"""Merged PDDI: potential drug–drug interactions merged from 14 public sources (DIKB, Pitt).

File: ``merged_pddi/postprocessed-dataset-not-conservative.tsv.bz2`` (streamed), tab-separated,
CRLF, header of 32 columns: ``drug1`` (DrugBank URI), ``object`` (name), ``drug2``,
``precipitant``, …, ``severity``, ``uri``, ``source``, …, ``DrugClass1``, ``DrugClass2``,
``drug1ID``, ``drug2ID``; the string ``None`` means empty. 271,723 rows; ``source`` names the
original source: Drugbank, NDF-RT, French National Formulary (Fr.) and (Eng. - TESTING), HIV,
HEP, OSCAR, ONC-HighPriority, ONC-NonInteruptive, CredibleMeds, DDI-Corpus-2011/2013,
NLM-Corpus, PK-Corpus, and KEGG — whose rows have an empty ``source`` (it is inferred from
their ``http://rest.kegg.jp/ddi/`` uri, ``source_inferred: true``) and names missing their
first letter ("henobarbital"). 52,104 rows are empty placeholders (``drug2`` = "Kegg", nothing
else) and are rejected, as are rows without a source or a drug name, and a drug with itself.
Code: https://github.com/dbmi-pitt/public-PDDI-analysis
Release date: not stated; the newest retrieval its README lists (French ANSM) is
2016-12-17, so it is dated 2017-01-01 (``RELEASE_DATE``).

Licences differ per source and the README names none: DrugBank rows are non-commercial
(CC BY-NC, as the DrugBank 4 pairs in ``public_pddi``), NDF-RT (US VA) is public domain;
every other source is "not stated" here — check the original before reuse.

Names: a drug with a DrugBank id is named as the English-language rows most often name that id
(else as the French rows do), so "SIMVASTATINE" (French rows), "imvastatin" (KEGG) and
"Simvastatin" are one drug; a KEGG name no other row gives its id stays truncated
(``names_repaired: false``). A drug without id keeps its own name. ``_`` is read as a space.

Record: ``record_id`` = ``"<a>|<b>"``, those two names by ``ddi.norm_name``, sorted; one record
per pair, merging every row of every source. ``data``: ``drug_a``, ``drug_b`` (those names,
the most frequent spelling), ``ids_a``/``ids_b`` = ``{"drugbank": [...]}``, ``severity``
``None`` (per source, below), ``level`` (the strongest of ``sources_detail``), ``sources``
(sorted source names), ``sources_detail``: sorted, de-duplicated list of statements, each with
(keys left out when empty) ``source``, ``source_inferred``, ``licence`` (only where known, see
above), ``object``, ``precipitant`` (verbatim: object = affected drug, precipitant = the one
causing it), ``object_id``, ``precipitant_id``, ``severity`` (verbatim), ``level``,
``contraindication``/``precaution`` (KEGG flags), ``label``, ``mechanism`` (``ddiPkMechanism``),
``effect`` (``effectConcept``), ``evidence``, ``evidence_statement``, ``ddi_type``, ``uri``,
``homepage``, ``who_annotated``, ``class_object``/``class_precipitant`` (``DrugClass1``/``2``),
``names_repaired``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec
from drugradar.sources.ddi import (
    ONC_HIGH_PRIORITY_LEVEL,
    ONC_NON_INTERRUPTIVE_LEVEL,
    Release,
    ansm_level,
    is_drugbank_id,
    norm_name,
    pair_key,
    strongest,
    subfolder,
    text_lines,
)

FILE = "postprocessed-dataset-not-conservative.tsv.bz2"
RELEASE_DATE = date(2017, 1, 1)
KEGG = "KEGG"
FRENCH = "French National Formulary (Fr.)"
LICENCES = {
    "Drugbank": "CC BY-NC 4.0 (non-commercial, DrugBank)",
    "NDF-RT": "public domain (US Veterans Health Administration)",
}
# column -> key in sources_detail (columns not listed are always empty in the real data)
_TEXT_COLS = {
    "label": "label",
    "ddiPkMechanism": "mechanism",
    "effectConcept": "effect",
    "evidence": "evidence",
    "evidenceStatement": "evidence_statement",
    "ddiType": "ddi_type",
    "uri": "uri",
    "homepage": "homepage",
    "whoAnnotated": "who_annotated",
    "DrugClass1": "class_object",
    "DrugClass2": "class_precipitant",
}
_NDFRT = {"critical": "major", "significant": "moderate"}
_OSCAR = {"3": "major", "2": "moderate", "1": "minor"}
_FRENCH_ABBR = {"CI": "contraindicated", "AD": "major", "PE": "moderate", "PC": "minor"}
_FRENCH_EN = (  # (words in the English severity, level); typos of the real data included
    (("contraindication", "contrandication", "c0ntraindication"), "contraindicated"),
    (("not recommended", "nor recommended", "not recommeded"), "major"),
    (("precaution",), "moderate"),
    (("take into account", "tale into account"), "minor"),
)


def _value(v: str) -> str | None:
    v = v.strip()
    return None if v in ("", "None") else v


def _french_en_level(severity: str) -> str:
    low = severity.lower()
    found = [lvl for words, lvl in _FRENCH_EN if any(w in low for w in words)]
    return strongest(found)


def source_level(source: str, severity: str | None, row: dict[str, str]) -> str:
    """One statement's level on our scale, by its source's own severity scheme (see ``ddi``)."""
    if source == "ONC-HighPriority":
        return ONC_HIGH_PRIORITY_LEVEL
    if source == "ONC-NonInteruptive":
        return ONC_NON_INTERRUPTIVE_LEVEL
    if source == KEGG:
        if row.get("contraindication") == "True":
            return "contraindicated"
        return "moderate" if row.get("precaution") == "True" else "unknown"
    if severity is None:
        return "unknown"
    if source == "NDF-RT":
        return _NDFRT.get(severity.lower(), "unknown")
    if source == "OSCAR":
        return _OSCAR.get(severity, "unknown")
    if source == "French National Formulary (Fr.)":
        return _FRENCH_ABBR.get(severity) or ansm_level(severity) or "unknown"
    if source == "French National Formulary (Eng. - TESTING)":
        return _french_en_level(severity)
    return "unknown"


PLACEHOLDER = "placeholder"  # a row that is not a statement at all: skipped, not quarantined


def _check(row: dict[str, str]) -> tuple[str, str]:
    """``(field, reason)`` of a row's first problem, ``('', '')`` when it is sound."""
    if _value(row["drug1"]) is None and row["drug2"] == "Kegg":
        return PLACEHOLDER, "empty placeholder row: no drug names, ids or source"
    for col in ("object", "precipitant"):
        if _value(row[col]) is None:
            return col, f"missing drug name in {col}"
    if _value(row["source"]) is None and not row["uri"].startswith("http://rest.kegg.jp/"):
        return "source", "empty source, and the uri is not KEGG's: origin unknown"
    for col in ("drug1ID", "drug2ID"):
        v = row[col].strip()
        if v and not is_drugbank_id(v):
            return col, f"malformed DrugBank id {v[:60]!r} in {col}"
    return "", ""


def _statement(row: dict[str, str]) -> dict[str, Any]:
    source = _value(row["source"]) or KEGG
    severity = _value(row["severity"])
    st: dict[str, Any] = {
        "source": source,
        "licence": LICENCES.get(source),
        "object": row["object"].strip(),
        "precipitant": row["precipitant"].strip(),
        "object_id": row["drug1ID"].strip() or None,
        "precipitant_id": row["drug2ID"].strip() or None,
        "severity": severity,
        "level": source_level(source, severity, row),
    }
    if _value(row["source"]) is None:
        st["source_inferred"] = True
    for col in ("contraindication", "precaution"):
        if row[col] == "True":
            st[col] = True
    for col, key in _TEXT_COLS.items():
        st[key] = _value(row[col])
    return {k: v for k, v in st.items() if v is not None}


def _display(name: str) -> str:
    return name.replace("_", " ").strip()


def _norm(name: str) -> str:
    return norm_name(_display(name))


def _canonical(votes: dict[str, list[dict[str, int]]]) -> dict[str, str]:
    """DrugBank id -> the name English-language rows give it most (else the French rows')."""
    out = {}
    for db_id, tiers in votes.items():
        counts = tiers[0] or tiers[1]
        if counts:
            out[db_id] = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return out


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per drug pair, with every source's statement about it."""
    statements: list[dict[str, Any]] = []
    votes: dict[str, list[dict[str, int]]] = {}  # DrugBank id -> [English, French] name counts
    for path in paths:
        header: list[str] | None = None
        for n, text, raw in text_lines(path):
            if text is None:
                yield Rejected(
                    path.name, n, "line is not valid UTF-8", raw=raw.decode("utf-8", "replace")
                )
                continue
            if not text.strip():
                continue
            cols = text.split("\t")
            if header is None:
                header = cols
                missing = {"object", "precipitant", "source", "drug1ID", "drug2ID"} - set(cols)
                if missing:
                    yield Rejected(path.name, n, f"header lacks {sorted(missing)}: file skipped")
                    break
                continue
            if len(cols) != len(header):
                yield Rejected(
                    path.name,
                    n,
                    f"expected {len(header)} tab-separated columns, found {len(cols)}",
                    raw=text,
                )
                continue
            row = dict(zip(header, cols, strict=True))
            field, reason = _check(row)
            if field == PLACEHOLDER:  # the dataset's 52,104 empty KEGG rows: nothing to keep
                continue
            if reason:
                yield Rejected(path.name, n, reason, field=field, raw=text[:2000])
                continue
            st = _statement(row)
            st["_where"] = (path.name, n)
            statements.append(st)
            if st["source"] == KEGG:
                continue  # its names lack their first letter
            tier = 1 if st["source"] == FRENCH else 0
            for side in ("object", "precipitant"):
                db_id = st.get(f"{side}_id")
                if db_id:
                    counts = votes.setdefault(db_id, [{}, {}])[tier]
                    name = _display(st[side])
                    counts[name] = counts.get(name, 0) + 1
    canon = _canonical(votes)
    for st in statements:
        found = [canon.get(st.get(f"{side}_id") or "") for side in ("object", "precipitant")]
        if st["source"] == KEGG:
            st["names_repaired"] = all(found)
        st["_names"] = [
            f or _display(st[s]) for f, s in zip(found, ("object", "precipitant"), strict=True)
        ]
    yield from _records(statements)


def _detail_key(st: dict[str, Any]) -> tuple[str, str, str, bytes]:
    return (st["source"], st["object"], st["precipitant"], orjson.dumps(st, option=_SORTED))


_SORTED = orjson.OPT_SORT_KEYS


def _records(statements: list[dict[str, Any]]) -> Iterator[Parsed]:
    pairs: dict[str, list[tuple[bool, dict[str, Any]]]] = {}
    for st in statements:
        obj, pre = st.pop("_names")
        a, b = _norm(obj), _norm(pre)
        fname, line = st.pop("_where")
        if a == b:
            yield Rejected(
                fname, line, "object and precipitant name the same drug", field="precipitant"
            )
            continue
        key, swapped = pair_key(a, b)
        st["_sides"] = (pre, obj) if swapped else (obj, pre)
        pairs.setdefault(key, []).append((swapped, st))
    for key, items in pairs.items():
        spell: list[dict[str, int]] = [{}, {}]
        ids: list[set[str]] = [set(), set()]
        unique: dict[bytes, dict[str, Any]] = {}
        for swapped, st in items:
            for i, name in enumerate(st.pop("_sides")):
                spell[i][name] = spell[i].get(name, 0) + 1
            oid, pid = st.get("object_id"), st.get("precipitant_id")
            for i, v in enumerate((pid, oid) if swapped else (oid, pid)):
                if v:
                    ids[i].add(v)
            unique.setdefault(orjson.dumps(st, option=_SORTED), st)
        detail = sorted(unique.values(), key=_detail_key)
        data = {
            "drug_a": min(spell[0].items(), key=lambda kv: (-kv[1], kv[0]))[0],
            "drug_b": min(spell[1].items(), key=lambda kv: (-kv[1], kv[0]))[0],
            "ids_a": {"drugbank": sorted(ids[0])} if ids[0] else {},
            "ids_b": {"drugbank": sorted(ids[1])} if ids[1] else {},
            "severity": None,
            "level": strongest(st["level"] for st in detail),
            "sources": sorted({st["source"] for st in detail}),
            "sources_detail": detail,
        }
        yield Record(key, data)


SPEC = SourceSpec(
    name="merged_pddi",
    licence="mixed per source (DrugBank rows CC BY-NC); sources_detail",
    title="Merged PDDI (14 public drug–drug interaction sources)",
    parse=parse,
)


def releases(folder: Path) -> list[Release]:
    """The merged file is one release, dated ``RELEASE_DATE`` (its name carries no date)."""
    path = subfolder(folder, "merged_pddi") / FILE
    return [(SPEC, path.name, (path,), RELEASE_DATE)] if path.exists() else []
