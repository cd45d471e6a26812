"""A drug's profile laid out like a reference article: a summary sentence built from facts,
then sections (used for, how it works, how it is given, side effects, contraindications,
interactions), each with the sources it rests on and their dates; then the R&D status table
and a timeline.

Everything here is plain data from ``profile_of``; the template escapes every text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drugradar.model.devstatus import INACTIVE, Activity
from drugradar.track.query import source_url
from drugradar.web.format import phase_label

Row = dict[str, Any]
EXCERPT = 900  # characters of a label section shown before "read more"


@dataclass(frozen=True, slots=True)
class Cite:
    source: str
    record: str | None
    date: Any
    licence: str | None = None
    url: str | None = None


@dataclass(slots=True)
class Passage:
    """A label section quoted in a section of the article."""

    title: str
    head: str
    rest: str
    cite: Cite


@dataclass(slots=True)
class Section:
    key: str
    title: str
    items: list[Row] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    cites: list[Cite] = field(default_factory=list)
    note: str | None = None

    def cite(self, c: Cite) -> None:
        """One citation per source and date (many records of one release read as one)."""
        if all((c.source, c.date) != (o.source, o.date) for o in self.cites):
            self.cites.append(c)

    @property
    def empty(self) -> bool:
        return not self.items and not self.passages


def _prov(p: Row | None) -> Cite | None:
    if not p:
        return None
    return Cite(
        str(p.get("source")),
        p.get("source_record_id"),
        p.get("source_date"),
        p.get("licence"),
        source_url(str(p.get("source")), str(p.get("source_record_id") or "")),
    )


def _fact_cite(fact: Row) -> Cite | None:
    srcs = fact.get("sources") or []
    if not srcs:
        return None
    s = srcs[0]
    return Cite(
        str(s["source"]),
        s.get("record"),
        s.get("date"),
        s.get("licence"),
        source_url(str(s["source"]), str(s.get("record") or "")),
    )


def _passage(sec: Row) -> Passage:
    text = str(sec.get("text") or "").strip()
    head, rest = text, ""
    if len(text) > EXCERPT:
        cut = text.rfind(" ", 0, EXCERPT)
        cut = cut if cut > EXCERPT // 2 else EXCERPT
        head, rest = text[:cut], text[cut:]
    cite = Cite(
        str(sec.get("source")),
        sec.get("label_id"),
        sec.get("effective_date"),
        None,
        source_url(str(sec.get("source")), str(sec.get("label_id") or "")),
    )
    return Passage(str(sec.get("title") or sec.get("key")), head, rest, cite)


def _label(profile: Row, *keys: str) -> list[Passage]:
    by_key = {s["key"]: s for s in profile.get("label") or []}
    return [_passage(by_key[k]) for k in keys if k in by_key]


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def main_indication(profile: Row) -> tuple[str | None, str | None]:
    """The indication of the most advanced live program (its phase), else DrugCentral's first."""
    for row in profile.get("status") or []:
        if Activity(str(row["activity"])) not in INACTIVE and row.get("indication"):
            return str(row["indication"]), str(row["phase"])
    inds = profile.get("indications") or []
    return (str(inds[0]["name"]), None) if inds else (None, None)


def first_approval(profile: Row) -> Row | None:
    firsts = [
        a
        for a in profile.get("approvals") or []
        if a.get("kind") in ("original", "authorisation") and a.get("date")
    ]
    return min(firsts, key=lambda a: str(a["date"])) if firsts else None


def summary_sentence(profile: Row) -> str:
    """One sentence from facts: what it is, who develops it, first approval, main indication."""
    name = str(profile["preferred_name"])
    modality = str(profile.get("modality") or "unknown")
    classes = [c["name"] for c in profile.get("classes") or [] if c.get("class_type") == "EPC"]
    kind = classes[0].lower() if classes else None
    what = modality if modality != "unknown" else "drug"
    if kind and modality != "unknown":
        what = f"{modality} ({kind})"
    elif kind:
        what = kind
    parts = [f"{name} is {_article(what)} {what}"]
    orgs = [
        o["name"]
        for o in profile.get("organizations") or []
        if {"originator", "developer"} & set(o["roles"])
    ][:2]
    if orgs:
        parts.append(f"developed by {' and '.join(orgs)}")
    first = first_approval(profile)
    if first:
        where = (
            f"{first['agency']}, {first['product']}" if first.get("product") else first["agency"]
        )
        parts.append(f"first approved on {first['date']} ({where})")
    indication, phase = main_indication(profile)
    if indication and phase and phase != "APPROVED" and not first:
        parts.append(f"in {phase_label(phase)} for {indication}")
    elif indication:
        parts.append(f"mainly for {indication}")
    if not orgs and not first and not indication:
        return parts[0] + "."
    return ", ".join(parts) + "."


def used_for(profile: Row) -> Section:
    sec = Section("used-for", "What it is used for")
    seen: set[str] = set()
    for a in profile.get("approvals") or []:
        text = a.get("indication") or (a.get("detail") if a.get("agency") == "EMA" else None)
        if text and a.get("kind") in ("original", "authorisation") and text not in seen:
            seen.add(text)
            sec.items.append({"text": text, "what": f"{a['agency']} approval ({a['product']})"})
            if c := _fact_cite(a):
                sec.cite(c)
    for ind in profile.get("indications") or []:
        if ind["name"] not in seen:
            seen.add(ind["name"])
            sec.items.append({"text": ind["name"], "what": "indication"})
            if c := _prov(ind.get("provenance")):
                sec.cite(c)
    for d in profile.get("designations") or []:
        sec.items.append(
            {"text": d.get("condition") or "", "what": f"{d['agency']} {d['kind']} designation"}
        )
        if c := _fact_cite(d):
            sec.cite(c)
    sec.passages = _label(profile, "indications_and_usage")
    for p in sec.passages:
        sec.cite(p.cite)
    return sec


def how_it_works(profile: Row) -> Section:
    sec = Section("how-it-works", "How it works")
    targets: dict[str, Row] = {}
    for t in profile.get("targets") or []:
        tgt = t["target"]
        row = targets.setdefault(
            tgt["id"],
            {
                "symbol": tgt.get("gene_symbol"),
                "name": tgt.get("name"),
                "organism": tgt.get("organism"),
                "actions": [],
            },
        )
        if t.get("action_type") and t["action_type"].lower() not in row["actions"]:
            row["actions"].append(t["action_type"].lower())
        if c := _prov(t.get("provenance")):
            sec.cite(c)
    sec.items = list(targets.values())
    classes = [c for c in profile.get("classes") or [] if c.get("class_type") in ("MoA", "EPC")]
    for cls in profile.get("classes") or []:
        if (prov := _prov(cls.get("provenance"))) is not None:
            sec.cite(prov)
    sec.note = ", ".join(c["name"] for c in classes) or None
    sec.passages = _label(profile, "mechanism_of_action")
    for p in sec.passages:
        sec.cite(p.cite)
    return sec


def how_given(profile: Row) -> Section:
    sec = Section("how-given", "How it is given")
    sec.items = [{"text": r.lower()} for r in profile.get("routes") or []]
    for d in profile.get("doses") or []:
        where = f", {d['route']}" if d.get("route") else ""
        note = f"; {d['note']}" if d.get("note") else ""
        sec.items.append(
            {
                "text": f"WHO defined daily dose: {d['ddd']} {d['unit']}{where}",
                "what": f"ATC {d['atc']}{note}; a unit for comparing use, not a prescribing dose",
            }
        )
        if c := _fact_cite(d):
            sec.cite(c)
    sec.passages = _label(profile, "dosage_and_administration", "dosage_forms_and_strengths")
    for p in sec.passages:
        sec.cite(p.cite)
    return sec


def side_effects(profile: Row) -> Section:
    sec = Section("side-effects", "Side effects")
    sec.passages = _label(profile, "boxed_warning", "adverse_reactions", "warnings_and_cautions")
    for p in sec.passages:
        sec.cite(p.cite)
    for s in profile.get("safety") or []:
        sec.items.append(
            {
                "text": s.get("title") or s.get("kind"),
                "what": f"{s['agency']} {s['kind']}",
                "date": s.get("date"),
                "url": s.get("url"),
            }
        )
        if c := _fact_cite(s):
            sec.cite(c)
    return sec


def contraindications(profile: Row) -> Section:
    sec = Section("contraindications", "Contraindications")
    sec.passages = _label(profile, "contraindications")
    for p in sec.passages:
        sec.cite(p.cite)
    return sec


def timeline(profile: Row) -> list[Row]:
    """Events, trials, approvals, designations, patents and exclusivities, newest first."""
    items: list[Row] = []
    for ev in profile.get("timeline") or []:
        src = (ev.get("sources") or [{}])[0]
        items.append(
            {
                "date": ev.get("event_date") or ev.get("as_of"),
                "kind": ev.get("family", "event").replace("_", " "),
                "text": ev.get("summary"),
                "source": src.get("source"),
                "url": src.get("url"),
                "materiality": ev.get("materiality"),
            }
        )
    for t in profile.get("trials") or []:
        items.append(
            {
                "date": t.get("last_update_posted"),
                "kind": "trial",
                "text": f"{t['nct_id']} ({phase_label(t.get('phase'))}, "
                f"{str(t.get('overall_status') or '').replace('_', ' ').lower()}): "
                f"{t.get('brief_title') or ''}",
                "source": "ctgov",
                "url": f"https://clinicaltrials.gov/study/{t['nct_id']}",
            }
        )
    for a in profile.get("approvals") or []:
        items.append(
            {
                "date": a.get("date"),
                "kind": "approval",
                "text": f"{a['agency']} {a['kind']} {a.get('application') or ''} "
                f"({a.get('product') or ''}): {a.get('status') or ''}",
                "source": (a.get("sources") or [{}])[0].get("source"),
            }
        )
    for d in profile.get("designations") or []:
        items.append(
            {
                "date": d.get("date"),
                "kind": "designation",
                "text": f"{d['agency']} {d['kind']} designation: {d.get('condition') or ''}",
                "source": (d.get("sources") or [{}])[0].get("source"),
                "url": d.get("url"),
            }
        )
    for p in profile.get("patents") or []:
        items.append(
            {
                "date": p.get("expires"),
                "kind": "patent expiry",
                "text": f"US patent {p['patent']} ({p['application']}) expires",
                "source": (p.get("sources") or [{}])[0].get("source"),
            }
        )
    for e in profile.get("exclusivities") or []:
        items.append(
            {
                "date": e.get("expires"),
                "kind": "exclusivity expiry",
                "text": f"Exclusivity {e['code']} ({e.get('kind') or ''}, {e['application']}) ends",
                "source": (e.get("sources") or [{}])[0].get("source"),
            }
        )
    return sorted(items, key=lambda i: str(i["date"] or ""), reverse=True)


def status_source_link(ref: str) -> tuple[str, str | None]:
    """A status row's source reference (``NCT…`` or ``source:record``) and its link."""
    if ref.startswith("NCT"):
        return ref, f"https://clinicaltrials.gov/study/{ref}"
    source, _, record = ref.partition(":")
    return ref, source_url(source, record) if record else None


def sources_used(profile: Row, sections: list[Section]) -> set[str]:
    used = {c.source for s in sections for c in s.cites}
    for row in profile.get("status") or []:
        for ref in row.get("sources") or []:
            used.add("ctgov" if str(ref).startswith("NCT") else str(ref).partition(":")[0])
    for ev in profile.get("timeline") or []:
        used.update(s["source"] for s in ev.get("sources") or [])
    used.update((profile.get("interactions") or {}).get("by_source") or {})
    return used


def article(profile: Row) -> Row:
    sections = [
        used_for(profile),
        how_it_works(profile),
        how_given(profile),
        side_effects(profile),
        contraindications(profile),
    ]
    return {
        "summary": summary_sentence(profile),
        "sections": sections,
        "timeline": timeline(profile),
        "sources": sources_used(profile, sections),
    }
