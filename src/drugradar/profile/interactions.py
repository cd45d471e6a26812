"""Drug–drug interactions: one ``interaction`` row per source pair whose two drugs are known,
a checker over a list of drugs, and a drug's interaction summary.

Sources (``sources/ddi.py`` and one module each): ``ddinter``, ``ansm_ddi``,
``onc_high_priority``, ``onc_non_interruptive``, ``merged_pddi``, ``drugbank4_ddi``,
``credible_meds_ddi``. Every current record names an unordered pair (``drug_a``/``drug_b``).

Linking one side of a pair (a name, and the source's ids when it gives some):

1. DrugBank ids (ONC, DrugBank 4, CredibleMeds, merged PDDI) through ``drug_xref`` (namespace
   ``drugbank``): an id the DrugBank vocabulary lists is taken from there (DrugCentral maps some
   DrugBank ids to a neighbour: DB00945, aspirin, to salicylic acid), else from DrugCentral when
   it names one drug only; the side's ids must all land on ONE drug. But when the name resolves
   exactly (or as a salt) to other drugs, the NAME wins: the sources' ids are sometimes wrong
   (CredibleMeds numbers the ids of consecutive rows upwards: "DIGOXIN" DB00390, DB00391 —
   sulpiride —, DB00392…; the merged PDDI gives levosulpiride sulpiride's id), and when the
   dictionary holds a substance twice (DrugBank's "Timolol" and UNII's "timolol") the name
   lands where the resolver, DDInter (names only) and the person checking a list land.
2. The name (``common.link_names``: exact, salt, combination, partial; never fuzzy), every name
   of every source resolved in ONE batch; a name ending in a route or formulation in
   parentheses ("Timolol (ophthalmic)", "Paclitaxel (protein-bound)") is also tried without
   it. A combination name gives one row per drug.
3. RxNorm ids (ANSM, from its mapping tables) through ``drug_xref`` (namespace ``rxnorm``, from
   DrugCentral), when the (French) name resolves to nothing ("warfarine"): after the name,
   because DrugCentral gives some prodrugs their parent's RxNorm id (fosphenytoin ->
   phenytoin, levodopa -> dopamine).

An id a source gives to 3 or more differently written drugs is a class id (ANSM maps 15
insulins to one RxNorm id) and is not used.

A record gives one row per (drug of side a, drug of side b) with the two drugs different,
``drug_a < drug_b`` (the source's names swapped with them). A side that links to nothing (an
ANSM class kept as a name, "ALCOOL (BOISSON OU EXCIPIENT)", a DDInter name the dictionary does
not know) leaves the record without a row and its name in ``unlinked_name`` (counted by
records), so it is reported, never silently dropped.

Row fields: ``level`` (our scale, ``ddi.LEVELS``) and ``severity`` (the source's own word), as
the record gives them; ``mechanism``; ``management`` (the advice, else the source's free
``text``); ``lang``. The merged PDDI bundles statements of 14 sources per pair and has no
severity of its own: its row takes them from the statements at the record's (strongest)
level — ``severity`` "<source>: <word>" for each ("KEGG: contraindication"), ``mechanism``
and ``management`` (the advice ``label``, else the ``evidence_statement``) from the first of
those statements that has one, English sources before the French formulary (then
``lang`` is ``fr``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, and_, or_, select

from drugradar.dictionary.build import SourceRow
from drugradar.nogc import no_gc
from drugradar.profile.common import (
    Link,
    Row,
    keep_unlinked,
    link_names,
    prov,
    records,
    replace,
)
from drugradar.resolve import Resolver
from drugradar.sources.ddi import LEVEL_RANK, LEVELS, norm_name
from drugradar.store.schema import drug, drug_xref, interaction, source_record

SOURCES = (
    "ddinter",
    "ansm_ddi",
    "onc_high_priority",
    "onc_non_interruptive",
    "merged_pddi",
    "drugbank4_ddi",
    "credible_meds_ddi",
)
# (id kind in the records = drug_xref namespace, the xref source trusted first)
ID_ROUTES = (("drugbank", "drugbank"), ("rxnorm", "rxnorm"))
_NAME_KEYS = ("drug_a", "drug_b")
NONE = "none"  # the level of a pair no source lists
_FRENCH = "French National Formulary (Fr.)"
_NO_TEXT = {"not available", "(see summary)", "unclassified"}


# -- build ---------------------------------------------------------------------------------
def build(conn: Connection, resolver: Resolver) -> dict[str, int]:
    """Rebuild ``interaction`` (and this builder's ``unlinked_name`` rows) from the current
    records of the DDI sources."""
    with no_gc():
        return _build(conn, resolver)


def _build(conn: Connection, resolver: Resolver) -> dict[str, int]:
    by_source = {s: list(records(conn, s)) for s in SOURCES}
    xrefs = {ns: _xref_map(conn, ns, trusted) for ns, trusted in ID_ROUTES}
    names = {row.data[k] for rows in by_source.values() for row in rows for k in _NAME_KEYS}
    names |= {s for s in map(_strip_form, names) if s}
    links = link_names(resolver, names)  # every name at once: resolving is the slow part

    out: list[Row] = []
    stats: Counter[str] = Counter()
    for source, rows in by_source.items():
        linker = _SideLinker(links, xrefs, _class_ids(rows))
        unlinked: Counter[str] = Counter()
        for row in rows:
            d = row.data
            names_ab = (d["drug_a"], d["drug_b"])
            drugs = [
                linker.link(d["drug_a"], d.get("ids_a")),
                linker.link(d["drug_b"], d.get("ids_b")),
            ]
            for name, found in zip(names_ab, drugs, strict=True):
                if not found:
                    unlinked[name] += 1
            if not drugs[0] or not drugs[1]:
                continue
            base = _fields(source, d) | prov(row)
            before = len(out)
            for da in drugs[0]:
                for db in drugs[1]:
                    if da == db:
                        continue
                    na, nb = names_ab
                    if db < da:
                        da, db, na, nb = db, da, nb, na
                    out.append(
                        {"drug_a": da, "drug_b": db, "name_a": na[:400], "name_b": nb[:400]} | base
                    )
            stats["records_same_drug" if len(out) == before else "records_linked"] += 1
            stats[f"interaction.{source}"] += len(out) - before
        stats["records"] += len(rows)
        for how, n in linker.how.items():
            stats[f"sides_by_{how}"] += n
        stats["unlinked_name"] += keep_unlinked(conn, source, unlinked)
    stats["interaction"] = replace(conn, interaction, SOURCES, out)
    return dict(stats)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


_FORM_WORDS = frozenset(
    {
        "ophthalmic", "otic", "topical", "cutaneous", "dermal", "transdermal", "oral", "nasal",
        "intranasal", "inhalation", "inhaled", "vaginal", "rectal", "intravenous",
        "subcutaneous", "intramuscular", "systemic", "liposomal", "protein-bound", "rapid",
        "acting", "and",
    }
)  # fmt: skip
_TRAILING_PARENS = re.compile(r"^(.+?)\s*\(([^()]+)\)$")


def _strip_form(name: str) -> str | None:
    """``'Timolol (ophthalmic)'`` -> ``'Timolol'``: DDInter tells forms of one substance apart
    with a trailing route or formulation, which does not change the substance. Other
    parentheses ("sodium (oxybate de)", "ALCOOL (BOISSON OU EXCIPIENT)") are left alone."""
    m = _TRAILING_PARENS.match(name.strip())
    if not m:
        return None
    words = re.split(r"[\s,]+", m.group(2).strip().lower())
    return m.group(1) if all(w in _FORM_WORDS for w in words) else None


def _class_ids(rows: Sequence[SourceRow]) -> set[tuple[str, str]]:
    """``(kind, id)`` a source gives to 3 or more differently written drugs: an id of a class
    rather than of a substance (ANSM maps 15 insulins to one RxNorm id): not used to link."""
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        for side in ("a", "b"):
            for kind, values in (row.data.get(f"ids_{side}") or {}).items():
                for v in values:
                    seen[kind, v].add(row.data[f"drug_{side}"])
    return {k for k, v in seen.items() if len(v) >= 3}


class _SideLinker:
    """The drugs one side of a pair names, by the rules of the module docstring (memoised:
    a source names the same few thousand drugs again and again)."""

    def __init__(
        self,
        links: dict[str, list[Link]],
        xrefs: dict[str, dict[str, str]],
        class_ids: set[tuple[str, str]],
    ) -> None:
        self.links, self.xrefs, self.class_ids = links, xrefs, class_ids
        self.memo: dict[tuple[Any, ...], tuple[list[str], str]] = {}
        self.how: Counter[str] = Counter()

    def _by_id(self, kind: str, values: Sequence[str]) -> str | None:
        xref = self.xrefs[kind]
        found = {xref[v] for v in values if v in xref and (kind, v) not in self.class_ids}
        return found.pop() if len(found) == 1 else None

    def link(self, name: str, ids: dict[str, list[str]] | None) -> list[str]:
        ids = ids or {}
        key = (name, *(tuple(ids.get(kind) or ()) for kind, _ in ID_ROUTES))
        hit = self.memo.get(key)
        if hit is None:
            hit = self.memo[key] = self._link(name, ids)
        self.how[hit[1]] += 1
        return hit[0]

    def _link(self, name: str, ids: dict[str, list[str]]) -> tuple[list[str], str]:
        by_name = self.links.get(name.strip()) or []
        stripped = _strip_form(name)
        if not by_name and stripped:
            by_name = self.links.get(stripped.strip()) or []
        named = _unique(link.drug_id for link in by_name)
        db = self._by_id("drugbank", ids.get("drugbank") or ())
        if db:
            if named and db not in named and by_name[0].match_kind in ("exact", "salt"):
                return named, "name_over_drugbank_id"  # the source's id is wrong (see docstring)
            return [db], "drugbank_id"
        if named:
            return named, "name"
        rx = self._by_id("rxnorm", ids.get("rxnorm") or ())
        if rx:
            return [rx], "rxnorm_id"
        return [], "unlinked"


def _xref_map(conn: Connection, namespace: str, trusted: str) -> dict[str, str]:
    """``value -> drug id`` of one namespace: the trusted source's mapping where it has the
    value (it names one drug there), else the value's only drug; ambiguous values left out."""
    x = drug_xref.c
    q = (
        select(x.value, x.drug_id, x.source)
        .join(drug, drug.c.id == x.drug_id)
        .where(x.namespace == namespace, drug.c.retired.is_(False))
    )
    trusted_to: dict[str, set[str]] = defaultdict(set)
    any_to: dict[str, set[str]] = defaultdict(set)
    for value, did, source in conn.execute(q):
        any_to[value].add(did)
        if source == trusted:
            trusted_to[value].add(did)
    out: dict[str, str] = {}
    for value, dids in any_to.items():
        pick = trusted_to.get(value) or dids
        if len(pick) == 1:
            out[value] = next(iter(pick))
    return out


def _fields(source: str, d: dict[str, Any]) -> Row:
    """The row's level, severity, mechanism, management and language from one record."""
    if source == "merged_pddi":
        return _merged_fields(d)
    return {
        "level": d["level"],
        "severity": _cut(d.get("severity"), 200),
        "mechanism": d.get("mechanism"),
        "management": d.get("management") or d.get("text"),
        "lang": d.get("lang"),
    }


def _merged_fields(d: dict[str, Any]) -> Row:
    level = d["level"]
    top = [st for st in d.get("sources_detail", []) if st.get("level") == level]
    top.sort(key=lambda st: st.get("source") == _FRENCH)  # English first, order kept otherwise
    words: list[str] = []
    for st in top:
        word = st.get("severity")
        if word is None and st.get("contraindication"):
            word = "contraindication"
        elif word is None and st.get("precaution"):
            word = "precaution"
        words.append(f"{st['source']}: {word}" if word else st["source"])
    mechanism = _first(top, ("mechanism", "effect"))
    management, lang = None, "en"
    for st in top:
        text = _text(st.get("label")) if st.get("source") != "NDF-RT" else None
        text = text or _text(st.get("evidence_statement"))
        if text:
            management, lang = text, "fr" if st.get("source") == _FRENCH else "en"
            break
    return {
        "level": level,
        "severity": _cut("; ".join(_unique(words)), 200),
        "mechanism": mechanism,
        "management": management,
        "lang": lang,
    }


def _text(value: Any) -> str | None:
    if isinstance(value, str) and len(value) > 1 and value.strip().lower() not in _NO_TEXT:
        return value.strip()
    return None


def _first(statements: list[dict[str, Any]], keys: Sequence[str]) -> str | None:
    for key in keys:
        for st in statements:
            text = _text(st.get(key))
            if text:
                return text
    return None


def _cut(value: Any, n: int) -> str | None:
    return value[:n] if isinstance(value, str) else None


# -- reading -------------------------------------------------------------------------------
@dataclass(slots=True)
class PairResult:
    """Two drugs and what the sources say of them together (``level`` ``"none"``: nothing)."""

    drug_a: str
    drug_b: str
    name_a: str
    name_b: str
    level: str
    agree: bool
    sources: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "drug_a": self.drug_a,
            "drug_b": self.drug_b,
            "name_a": self.name_a,
            "name_b": self.name_b,
            "level": self.level,
            "agree": self.agree,
            "sources": self.sources,
        }


def _rank(level: str) -> int:
    return LEVEL_RANK.get(level, len(LEVELS))


def _per_source(rows: Iterable[Any], first: str) -> list[dict[str, Any]]:
    """One statement per source (its most severe row on the pair), names on ``first``'s side
    first; most severe source first."""
    best: dict[str, Any] = {}
    for r in rows:
        cur = best.get(r.source)
        if cur is None or (_rank(r.level), r.source_record_id) < (
            _rank(cur.level),
            cur.source_record_id,
        ):
            best[r.source] = r
    out = []
    for r in best.values():
        na, nb = (r.name_a, r.name_b) if r.drug_a == first else (r.name_b, r.name_a)
        out.append(
            {
                "source": r.source,
                "level": r.level,
                "severity": r.severity,
                "mechanism": r.mechanism,
                "management": r.management,
                "lang": r.lang,
                "name_a": na,
                "name_b": nb,
                "licence": r.licence,
                "source_record_id": r.source_record_id,
                "source_date": r.source_date,
            }
        )
    out.sort(key=lambda s: (_rank(s["level"]), s["source"]))
    return out


def _agree(levels: Iterable[str]) -> bool:
    """Sources agree when those that grade the pair give one level (``unknown`` grades none:
    DrugBank lists pairs without a severity)."""
    return len({lv for lv in levels if lv != "unknown"}) <= 1


def _names(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    q = select(drug.c.id, drug.c.preferred_name).where(drug.c.id.in_(list(ids)))
    return {i: n for i, n in conn.execute(q)}


def check(conn: Connection, drug_ids: Sequence[str]) -> list[PairResult]:
    """Every pair of ``drug_ids`` (in the order given), most severe first; pairs no source
    lists come last with level ``"none"`` ("no interaction known" is an answer too)."""
    ids = _unique(d for d in drug_ids if d)
    if len(ids) < 2:
        return []
    names = _names(conn, ids)
    c = interaction.c
    found: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in conn.execute(select(interaction).where(c.drug_a.in_(ids), c.drug_b.in_(ids))):
        found[r.drug_a, r.drug_b].append(r)
    out: list[tuple[tuple[int, int, int], PairResult]] = []
    n = 0
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            rows = found.get((min(a, b), max(a, b)), [])
            per = _per_source(rows, a)
            level = min((s["level"] for s in per), key=_rank, default=NONE)
            res = PairResult(
                a, b, names.get(a, a), names.get(b, b), level, _agree(s["level"] for s in per), per
            )
            out.append(((_rank(level) if per else len(LEVELS) + 1, -len(per), n), res))
            n += 1
    return [res for _, res in sorted(out, key=lambda t: t[0])]


def summary(conn: Connection, drug_id: str, top: int = 10) -> dict[str, Any]:
    """How many drugs interact with ``drug_id`` at each level (a partner counts once, at its
    most severe level over the sources), and the ``top`` most severe partners."""
    c = interaction.c
    q = select(interaction).where(or_(c.drug_a == drug_id, c.drug_b == drug_id))
    by_partner: dict[str, list[Any]] = defaultdict(list)
    for r in conn.execute(q):
        by_partner[r.drug_b if r.drug_a == drug_id else r.drug_a].append(r)
    names = _names(conn, list(by_partner))
    partners = []
    for pid, rows in by_partner.items():
        per = _per_source(rows, drug_id)
        level = min((s["level"] for s in per), key=_rank)
        partners.append(
            {
                "drug_id": pid,
                "name": names.get(pid, pid),
                "level": level,
                "agree": _agree(s["level"] for s in per),
                "sources": [s["source"] for s in per],
            }
        )
    partners.sort(key=lambda p: (_rank(p["level"]), -len(p["sources"]), p["name"].lower()))
    by_level = Counter(p["level"] for p in partners)
    by_source = Counter(s for p in partners for s in p["sources"])
    return {
        "drug_id": drug_id,
        "partners": len(partners),
        "by_level": {lv: by_level.get(lv, 0) for lv in LEVELS},
        "by_source": dict(sorted(by_source.items())),
        "top": partners[:top],
    }


def pairs_by_name(conn: Connection, name: str, sources: Sequence[str] = SOURCES) -> set[str]:
    """The partner names (as the sources give them) of the drug called ``name`` in the current
    records of ``sources``, matched on the records' normalised keys (ANSM's fold accents)."""
    keys = {norm_name(name), norm_name(name, fold=True)}
    sr = source_record.c
    likes = []
    for key in keys:
        esc = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        likes += [
            sr.record_id.like(f"{esc}|%", escape="\\"),
            sr.record_id.like(f"%|{esc}", escape="\\"),
        ]
    q = select(sr.record_id, sr.data).where(
        and_(sr.source.in_(list(sources)), sr.removed.is_(False), or_(*likes))
    )
    out: set[str] = set()
    for record_id, data in conn.execute(q):
        d = orjson.loads(data)
        a, _, b = record_id.partition("|")
        if a in keys:
            out.add(d["drug_b"])
        if b in keys:
            out.add(d["drug_a"])
    return out
