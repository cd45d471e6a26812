"""The label profile: drug labels, their sections and the drugs they are the label of.

Built from the current records of the label sources (``spl_labels``, ``openfda_labels``, the
partial extracts ``openfda_label_rows``, ``openfda_adverse_by_brand``, ``onsides_tac2017`` and
``onsides_pediatric``; record shape in ``sources.spl``):

- ``label``: one row per current record, ``id`` = its record id (an SPL set id; the partial
  extracts' ids carry a prefix). A set id held both by ``spl_labels`` and by ``openfda_labels``
  (the same label read from XML and from openFDA) is one label: the copy with the higher
  (version, effective date) is kept, SPL XML on a tie.
- ``label_section``: the record's sections in document order (``position`` 0..n), text as the
  source gives it (plain text, never HTML).
- ``label_drug``: what the label is the label of. Each active ingredient is linked by the first
  of: its UNII in ``drug_xref`` (namespace ``unii``) or ``salt_form``, its active moiety's UNII,
  its name, its moiety's name (names through ``common.link_names``, never fuzzy); a combination
  product links each ingredient. A label none of whose ingredients links (or that names none)
  falls back to its generic names, then its brand names. A label that still links nothing but
  carries a set id takes the drugs of another label of the same set id (``match_kind``
  ``set_id``; OnSIDES-PED names its labels by set id only). ``name`` is what matched: the UNII,
  the name, or the set id.

``sections_of`` puts a drug's monograph together from its labels; ``route_of`` lists its routes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, insert, select

from drugradar.profile.common import Link, Row, iso, keep_unlinked, link_names, prov, records
from drugradar.profile.common import replace as replace_rows
from drugradar.resolve import Resolver
from drugradar.sources import label_sections as ls
from drugradar.store.schema import drug, drug_xref, label, label_drug, label_section, salt_form
from drugradar.store.sync import chunks

# In the order a monograph prefers them when all else is equal (complete labels first; the
# adverse reactions by brand extract is cut at 2,500 characters, so it comes last).
SOURCES = (
    "spl_labels",
    "openfda_labels",
    "openfda_label_rows",
    "onsides_tac2017",
    "onsides_pediatric",
    "openfda_adverse_by_brand",
)
_SOURCE_RANK = {s: i for i, s in enumerate(SOURCES)}
# Which drug a UNII names when the dictionary gives it to several (duplicate entries of one
# substance): the one the UNII's own record made, then DrugBank's, then DrugCentral's.
_XREF_SOURCE_RANK = {"unii": 0, "drugbank": 1, "drugcentral": 2}
UNII, SET_ID = "unii", "set_id"


@dataclass(slots=True)
class _Label:
    """One label being linked: its record and what was found for it."""

    source: str
    record_id: str
    data: dict[str, Any]
    links: dict[str, tuple[str, str]] = field(default_factory=dict)  # drug -> (name, kind)
    unlinked: set[str] = field(default_factory=set)

    def add(self, drug_id: str, name: str, kind: str) -> None:
        self.links.setdefault(drug_id, (name, kind))


def _text(value: Any) -> str:
    return str(value or "").replace("\x00", "")


def _rank(data: Mapping[str, Any], source: str) -> tuple[int, str, int]:
    """The copy of a set id to keep: highest version, then newest, then SPL XML."""
    version = data.get("version")
    return (
        version if isinstance(version, int) else -1,
        str(data.get("effective_date") or ""),
        -_SOURCE_RANK.get(source, len(SOURCES)),
    )


def _current(conn: Connection) -> tuple[list[_Label], dict[str, Any], int]:
    """Every current label record, one per record id; (labels, their source rows, dropped)."""
    best: dict[str, tuple[_Label, Any]] = {}
    dropped = 0
    for source in SOURCES:
        for row in records(conn, source):
            item = _Label(source, row.record_id, row.data)
            prev = best.get(row.record_id)
            if prev is not None:
                dropped += 1
                if _rank(prev[0].data, prev[0].source) >= _rank(row.data, source):
                    continue
            best[row.record_id] = (item, row)
    ordered = sorted(best.values(), key=lambda p: p[0].record_id)
    return [p[0] for p in ordered], {p[0].record_id: p[1] for p in ordered}, dropped


# ---------------------------------------------------------------- linking


def _unii_drugs(conn: Connection, uniis: Iterable[str]) -> dict[str, str]:
    """UNII -> drug: a substance UNII in ``drug_xref``, else a salt form's UNII."""
    wanted = sorted({u for u in uniis if u})
    found: dict[str, tuple[int, str, str]] = {}
    for batch in chunks(wanted, 2000):
        rows = conn.execute(
            select(drug_xref.c.value, drug_xref.c.drug_id, drug_xref.c.source)
            .join(drug, drug.c.id == drug_xref.c.drug_id)
            .where(
                drug_xref.c.namespace == UNII,
                drug_xref.c.value.in_(batch),
                drug.c.retired.is_(False),
            )
        )
        for value, drug_id, source in rows:
            key = (_XREF_SOURCE_RANK.get(source, len(_XREF_SOURCE_RANK)), source, drug_id)
            if value not in found or key < found[value]:
                found[value] = key
    out = {u: k[2] for u, k in found.items()}
    rest = [u for u in wanted if u not in out]
    for batch in chunks(rest, 2000):
        rows = conn.execute(
            select(salt_form.c.unii, salt_form.c.drug_id)
            .join(drug, drug.c.id == salt_form.c.drug_id)
            .where(salt_form.c.unii.in_(batch), drug.c.retired.is_(False))
        )
        out.update({u: d for u, d in rows})
    return out


def _ingredients(data: Mapping[str, Any]) -> list[dict[str, str | None]]:
    """The label's active ingredients; UNIIs no ingredient carries (openFDA does not say
    which is which) are ingredients of their own, without a name."""
    out: list[dict[str, str | None]] = []
    seen: set[str] = set()
    for a in data.get("active_ingredients") or []:
        item = {k: (a.get(k) or None) for k in ("name", "unii", "moiety", "moiety_unii")}
        out.append(item)
        seen.update(u for u in (item["unii"], item["moiety_unii"]) if u)
    out += [
        {"name": None, "unii": u, "moiety": None, "moiety_unii": None}
        for u in data.get("uniis") or []
        if u and u not in seen
    ]
    return out


def _names(data: Mapping[str, Any], key: str) -> list[str]:
    return [n.strip() for n in data.get(key) or [] if isinstance(n, str) and n.strip()]


def _link(conn: Connection, resolver: Resolver, labels: Sequence[_Label]) -> None:
    """Fill each label's ``links`` (and ``unlinked`` names)."""
    by_unii = _unii_drugs(
        conn,
        (
            u
            for lab in labels
            for a in _ingredients(lab.data)
            for u in (a["unii"], a["moiety_unii"])
            if u
        ),
    )
    # UNIIs first; the names every label may still need, resolved in one batch.
    pending: list[tuple[_Label, list[dict[str, str | None]]]] = []
    wanted: set[str] = set()
    for lab in labels:
        open_ = []
        for a in _ingredients(lab.data):
            hit = next((u for u in (a["unii"], a["moiety_unii"]) if u and u in by_unii), None)
            if hit:
                lab.add(by_unii[hit], hit, UNII)
            elif a["name"] or a["moiety"]:
                open_.append(a)
                wanted.update(n for n in (a["name"], a["moiety"]) if n)
        pending.append((lab, open_))
        wanted.update(_names(lab.data, "generic_names"))
        wanted.update(_names(lab.data, "brand_names"))
    resolved = link_names(resolver, wanted)

    def links(name: str | None) -> list[Link]:
        return resolved.get(name.strip(), []) if name else []

    for lab, open_ in pending:
        for a in open_:
            name = next((n for n in (a["name"], a["moiety"]) if links(n)), None)
            if name is None:
                lab.unlinked.add(str(a["name"] or a["moiety"]))
                continue
            for ln in links(name):
                lab.add(ln.drug_id, name, ln.match_kind)
        if lab.links:
            continue
        for key in ("generic_names", "brand_names"):
            for name in _names(lab.data, key):
                for ln in links(name):
                    lab.add(ln.drug_id, name, ln.match_kind)
            if lab.links:
                lab.unlinked.clear()
                break
        else:
            lab.unlinked.update(_names(lab.data, "generic_names"))
            lab.unlinked.update(_names(lab.data, "brand_names"))
    # A label that names nothing that links takes the drugs of its set id's other labels.
    by_set: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    for lab in labels:
        set_id = lab.data.get("set_id")
        if set_id and lab.links:
            for drug_id in lab.links:
                by_set[set_id].setdefault(drug_id, (set_id, SET_ID))
    for lab in labels:
        set_id = lab.data.get("set_id")
        if not lab.links and set_id in by_set:
            lab.links = dict(by_set[set_id])
            lab.unlinked.clear()


# ---------------------------------------------------------------- rows


def _label_row(lab: _Label, row: Any) -> Row:
    d = lab.data
    version = d.get("version")
    return {
        "id": lab.record_id,
        "set_id": (d.get("set_id") or None) and str(d["set_id"])[:80],
        "version": None if version is None else str(version)[:20],
        "effective_date": iso(d.get("effective_date")),
        "title": _text(d.get("title")) or None,
        "labeler": (_text(d.get("labeler")) or None) and _text(d.get("labeler"))[:400],
        "brand_names": orjson.dumps(_names(d, "brand_names")).decode(),
        "routes": orjson.dumps(_names(d, "routes")).decode(),
        "partial": bool(d.get("partial")),
        **prov(row),
    }


def _section_rows(lab: _Label) -> list[Row]:
    out = []
    for pos, s in enumerate(lab.data.get("sections") or []):
        level = s.get("level")
        out.append(
            {
                "label_id": lab.record_id,
                "position": pos,
                "key": str(s.get("key") or ls.UNCLASSIFIED_KEY)[:80],
                "code": (s.get("code") or None) and str(s["code"])[:20],
                "title": _text(s.get("title")) or None,
                "level": level if isinstance(level, int) and level > 0 else 1,
                "parent_code": (s.get("parent_code") or None) and str(s["parent_code"])[:20],
                "text": _text(s.get("text")),
            }
        )
    return out


def build(conn: Connection, resolver: Resolver) -> dict[str, int]:
    """Rebuild ``label``, ``label_section`` and ``label_drug`` from the label sources."""
    labels, rows, dropped = _current(conn)
    _link(conn, resolver, labels)
    mine = select(label.c.id).where(label.c.source.in_(SOURCES)).scalar_subquery()
    conn.execute(delete(label_drug).where(label_drug.c.label_id.in_(mine)))
    conn.execute(delete(label_section).where(label_section.c.label_id.in_(mine)))
    n_labels = replace_rows(
        conn, label, SOURCES, [_label_row(lab, rows[lab.record_id]) for lab in labels]
    )
    sections = [s for lab in labels for s in _section_rows(lab)]
    drugs = [
        {"label_id": lab.record_id, "drug_id": d, "name": name[:1000], "match_kind": kind}
        for lab in labels
        for d, (name, kind) in sorted(lab.links.items())
    ]
    for batch in chunks(sections, 2000):
        conn.execute(insert(label_section), batch)
    for batch in chunks(drugs, 2000):
        conn.execute(insert(label_drug), batch)
    unlinked: dict[str, Counter[str]] = {s: Counter() for s in SOURCES}
    for lab in labels:
        unlinked[lab.source].update(n for n in lab.unlinked if n.strip())
    n_unlinked = sum(keep_unlinked(conn, s, c) for s, c in unlinked.items())
    return {
        "label": n_labels,
        "label_section": len(sections),
        "label_drug": len(drugs),
        "labels_linked": sum(1 for lab in labels if lab.links),
        "labels_unlinked": sum(1 for lab in labels if not lab.links),
        "duplicate_set_ids": dropped,
        "unlinked": n_unlinked,
    }


# ---------------------------------------------------------------- reading


def _key_texts(sections: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per section key of one label: the first section's title and code and the whole text.

    A section's text is its own text followed by its subsections' (title, then text), except
    subsections that have a key of their own (Pregnancy inside Use in Specific Populations,
    Mechanism of Action inside Clinical Pharmacology): those are entries of their own. A
    subsection without a key of its own (``spl_unclassified``) is never an entry of its own.
    Several sections with one key (Warnings and Precautions of an old-format label) are joined.
    """
    out: dict[str, dict[str, Any]] = {}
    parents: list[tuple[int, str]] = []  # (level, key) of the enclosing sections
    for i, sec in enumerate(sections):
        key, level = str(sec["key"]), int(sec["level"] or 1)
        while parents and parents[-1][0] >= level:
            parents.pop()
        nested = bool(parents)
        inside_same = any(k == key for _, k in parents)
        parents.append((level, key))
        if inside_same or (nested and key == ls.UNCLASSIFIED_KEY):
            continue
        pieces = [str(sec["text"] or "")]
        j, skip_below = i + 1, None
        while j < len(sections) and int(sections[j]["level"] or 1) > level:
            sub = sections[j]
            sub_level = int(sub["level"] or 1)
            if skip_below is not None and sub_level > skip_below:
                j += 1
                continue
            skip_below = None
            if sub["key"] not in (key, ls.UNCLASSIFIED_KEY):
                skip_below = sub_level
            else:
                pieces += [str(sub["title"] or ""), str(sub["text"] or "")]
            j += 1
        text = "\n\n".join(p for p in pieces if p)
        if not text:
            continue
        entry = out.setdefault(key, {"title": sec["title"], "code": sec["code"], "parts": []})
        entry["parts"].append(text)
    return {
        k: {"title": v["title"], "code": v["code"], "text": "\n\n".join(v["parts"])}
        for k, v in out.items()
    }


def _title(key: str, code: str | None, title: str | None) -> str:
    if title:
        return title
    sec = ls.BY_CODE.get(code or "")
    return sec.display if sec else key.replace("_", " ").capitalize()


def _label_order(row: Any) -> tuple[Any, ...]:
    """Best label first: complete over partial, the drug's own label over a combination's,
    newest effective date (undated last), then by source and id (deterministic)."""
    when: date | None = row.effective_date
    return (
        bool(row.partial),
        row.n_drugs > 1,
        (0, -when.toordinal()) if when else (1, 0),
        _SOURCE_RANK.get(row.source, len(SOURCES)),
        row.id,
    )


def sections_of(conn: Connection, drug_id: str) -> list[dict[str, Any]]:
    """The drug's monograph: per section key, in reading order, the text of the best label
    that has it, with ``label_id``, ``source``, ``effective_date`` and ``partial``."""
    ids = select(label_drug.c.label_id).where(label_drug.c.drug_id == drug_id)
    n_drugs = (
        select(label_drug.c.label_id, func.count().label("n"))
        .where(label_drug.c.label_id.in_(ids))
        .group_by(label_drug.c.label_id)
        .subquery()
    )
    labels = conn.execute(
        select(
            label.c.id,
            label.c.source,
            label.c.effective_date,
            label.c.partial,
            n_drugs.c.n.label("n_drugs"),
        ).join(n_drugs, n_drugs.c.label_id == label.c.id)
    ).all()
    if not labels:
        return []
    ordered = sorted(labels, key=_label_order)
    by_label: dict[str, list[Any]] = defaultdict(list)
    s = label_section.c
    rows = conn.execute(
        select(s.label_id, s.position, s.key, s.code, s.title, s.level, s.text)
        .where(s.label_id.in_(ids))
        .order_by(s.label_id, s.position)
    )
    for r in rows:
        by_label[r.label_id].append(r._mapping)
    chosen: dict[str, dict[str, Any]] = {}
    for lab in ordered:
        for key, entry in _key_texts(by_label.get(lab.id, [])).items():
            if key in chosen:
                continue
            chosen[key] = {
                "key": key,
                "code": entry["code"],
                "title": _title(key, entry["code"], entry["title"]),
                "text": entry["text"],
                "label_id": lab.id,
                "source": lab.source,
                "effective_date": lab.effective_date,
                "partial": bool(lab.partial),
            }
    return [chosen[k] for k in sorted(chosen, key=ls.sort_key)]


def route_of(conn: Connection, drug_id: str) -> list[str]:
    """The routes the drug's labels give, sorted."""
    rows = conn.execute(
        select(label.c.routes)
        .join(label_drug, label_drug.c.label_id == label.c.id)
        .where(label_drug.c.drug_id == drug_id)
    ).scalars()
    return sorted({r for value in rows for r in orjson.loads(value) if isinstance(r, str)})
