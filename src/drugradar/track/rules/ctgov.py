"""ClinicalTrials.gov: two versions of a trial (the stored ``Trial`` dict) -> clinical_trial events.

Noise, declared here and nowhere else:
- ``IGNORED``: fields that change without meaning. The registry's ``versionHolder`` and the
  raw record never reach the parsed trial; ``last_update_posted`` alone is bookkeeping (the
  sponsor touched the record); derived MeSH terms and ancestors follow the conditions; arm
  groups, keywords, official title and the reader's ``unknown_values`` are not followed.
- Text is compared with whitespace collapsed and lists as sets (order means nothing).
- ``CARRIED``: what each file format carries. A field the old or the new version's format does
  not carry is not compared (a TSV row has no date types, no site statuses; when the two versions
  come from different formats only the fields every format writes the same way are compared), so
  a format switch or a parser upgrade adding a field never makes a false change. A key missing
  from a stored version (written before the parser knew the field) is not compared either.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any

from drugradar.model.event import Change, Materiality
from drugradar.resolve.orgs import org_key
from drugradar.track.catalogue import default_materiality
from drugradar.track.rules import JSON, Context, register

FAMILY = "clinical_trial"
IGNORED = frozenset(
    {
        "last_update_posted",
        "condition_meshes",
        "condition_ancestors",
        "arm_groups",
        "keywords",
        "official_title",
        "unknown_values",
        "source_format",
        "nct_id",
    }
)
ALL_FORMATS = frozenset(
    {
        "overall_status",
        "why_stopped",
        "phases",
        "has_results",
        "results_first_posted",
        "start_date",
        "primary_completion_date",
        "completion_date",
        "enrollment",
        "countries",
        "sites",
        "conditions",
        "interventions",
        "sponsor",
        "collaborators",
        "brief_title",
        "first_posted",
    }
)
CARRIED: dict[str, frozenset[str]] = {
    "v2-json": ALL_FORMATS | {"date_types", "enrollment_type"},
    "xml": ALL_FORMATS | {"date_types", "enrollment_type"},
    "tsv": ALL_FORMATS - {"why_stopped"},
}
# Compared when the two versions come from different formats: written alike by every reader.
CROSS_FORMAT = frozenset(
    {
        "overall_status",
        "phases",
        "has_results",
        "start_date",
        "primary_completion_date",
        "completion_date",
        "enrollment",
    }
)
STOPPED = frozenset({"TERMINATED", "WITHDRAWN", "SUSPENDED"})
_WS = re.compile(r"\s+")


def _text(value: Any) -> str | None:
    return _WS.sub(" ", value).strip() or None if isinstance(value, str) else None


def _day(value: str | None) -> date | None:
    """``2020-05`` -> 2020-05-01; None when absent or not a date."""
    if not value:
        return None
    parts = value.split("-")
    try:
        return date(
            int(parts[0]),
            int(parts[1]) if len(parts) > 1 else 1,
            int(parts[2]) if len(parts) > 2 else 1,
        )
    except (ValueError, IndexError):
        return None


def _comparable(ctx: Context, old: JSON, new: JSON) -> frozenset[str]:
    """The fields both versions carry (see the module docstring)."""
    fa, fb = old.get("source_format") or "", new.get("source_format") or ""
    carried = CARRIED.get(fa, frozenset()) & CARRIED.get(fb, frozenset())
    if fa != fb:
        carried &= CROSS_FORMAT
    return frozenset(f for f in carried if f in old and f in new) | (
        carried & {"date_types", "enrollment_type"}
    )


def _name(t: JSON) -> str:
    title = _text(t.get("acronym")) or _text(t.get("brief_title"))
    return f"{t.get('nct_id')} ({title[:80]})" if title else str(t.get("nct_id"))


def _change(type_: str, t: JSON, summary: str, **kw: Any) -> Change:
    kw.setdefault("materiality", default_materiality(FAMILY, type_))
    return Change(FAMILY, type_, "trial", str(t.get("nct_id")), summary, **kw)


@register("ctgov")
def trial_changes(ctx: Context, record_id: str, old: JSON | None, new: JSON | None) -> list[Change]:
    """The events between two versions of one trial."""
    if new is None:
        if old is None:
            return []
        return [_change("vanished", old, f"{_name(old)} is no longer in the source's snapshot")]
    if old is None:
        posted = _day(new.get("first_posted"))
        if not ctx.baseline and ctx.recent(posted):
            return [
                _change(
                    "posted",
                    new,
                    f"{_name(new)} was posted ({new.get('overall_status') or 'status not given'})",
                    new=new.get("overall_status"),
                    event_date=posted,
                )
            ]
        return [
            _change(
                "first_seen",
                new,
                f"{_name(new)} first seen",
                new=new.get("overall_status"),
                event_date=posted,
                baseline=True,
            )
        ]
    out: list[Change] = []
    if ctx.reappeared:
        out.append(_change("reappeared", new, f"{_name(new)} is back in the source's snapshot"))
    if ctx.baseline:
        return out
    fields = _comparable(ctx, old, new)
    for compare in _COMPARES:
        out += compare(old, new, fields)
    return out


def _status(old: JSON, new: JSON, fields: frozenset[str]) -> list[Change]:
    out: list[Change] = []
    if "overall_status" in fields and old.get("overall_status") != new.get("overall_status"):
        a, b = old.get("overall_status"), new.get("overall_status")
        why = _text(new.get("why_stopped"))
        mat = Materiality.HIGH if b in STOPPED else default_materiality(FAMILY, "status_changed")
        out.append(
            _change(
                "status_changed",
                new,
                f"{_name(new)}: status {a} -> {b}" + (f" (why stopped: {why})" if why else ""),
                field="overall_status",
                old=a,
                new=b,
                materiality=mat,
            )
        )
    elif "why_stopped" in fields and _text(old.get("why_stopped")) != _text(new.get("why_stopped")):
        a, b = _text(old.get("why_stopped")), _text(new.get("why_stopped"))
        out.append(
            _change(
                "why_stopped_changed",
                new,
                f"{_name(new)}: why stopped is now {b!r}",
                field="why_stopped",
                old=a,
                new=b,
            )
        )
    return out


def _phase(old: JSON, new: JSON, fields: frozenset[str]) -> list[Change]:
    a, b = sorted(old.get("phases") or []), sorted(new.get("phases") or [])
    if "phases" not in fields or a == b:
        return []
    return [
        _change(
            "phase_changed",
            new,
            f"{_name(new)}: phase {'/'.join(a) or 'not given'} -> {'/'.join(b) or 'not given'}",
            field="phases",
            old=a,
            new=b,
        )
    ]


def _results(old: JSON, new: JSON, fields: frozenset[str]) -> list[Change]:
    if "has_results" not in fields or bool(old.get("has_results")) == bool(new.get("has_results")):
        return []
    if new.get("has_results"):
        when = _day(new.get("results_first_posted"))
        return [
            _change(
                "results_posted",
                new,
                f"{_name(new)}: results posted" + (f" on {when.isoformat()}" if when else ""),
                field="has_results",
                old=False,
                new=True,
                event_date=when,
            )
        ]
    return [
        _change(
            "results_removed",
            new,
            f"{_name(new)}: results no longer shown",
            field="has_results",
            old=True,
            new=False,
        )
    ]


def _date_field(name: str, type_: str, label: str):  # type: ignore[no-untyped-def]
    def compare(old: JSON, new: JSON, fields: frozenset[str]) -> list[Change]:
        if name not in fields:
            return []
        a, b = old.get(name) or {}, new.get(name) or {}
        typed = "date_types" in fields
        va = {"date": a.get("date"), "type": a.get("type") if typed else None}
        vb = {"date": b.get("date"), "type": b.get("type") if typed else None}
        if va == vb:
            return []
        da, db = _day(va["date"]), _day(vb["date"])
        days = (db - da).days if da and db else None
        mat = (
            Materiality.MEDIUM
            if days is not None and abs(days) > 90 and type_ == "primary_completion_moved"
            else default_materiality(FAMILY, type_)
        )
        kind = f" ({vb['type'].lower()})" if vb["type"] else ""
        shift = f", {days:+d} days" if days else ""
        return [
            _change(
                type_,
                new,
                f"{_name(new)}: {label} {va['date'] or 'not given'} -> {vb['date'] or 'not given'}"
                f"{kind}{shift}",
                field=name,
                old=va if typed else va["date"],
                new=vb if typed else vb["date"],
                days_shifted=days,
                materiality=mat,
                event_date=db,
            )
        ]

    return compare


def _enrollment(old: JSON, new: JSON, fields: frozenset[str]) -> list[Change]:
    if "enrollment" not in fields:
        return []
    typed = "enrollment_type" in fields
    a = {"count": old.get("enrollment"), "type": old.get("enrollment_type") if typed else None}
    b = {"count": new.get("enrollment"), "type": new.get("enrollment_type") if typed else None}
    if a == b:
        return []
    ca, cb = a["count"], b["count"]
    big = isinstance(ca, int) and isinstance(cb, int) and ca > 0 and abs(cb - ca) / ca > 0.2
    kind = f" ({str(b['type']).lower()})" if b["type"] else ""
    return [
        _change(
            "enrollment_changed",
            new,
            f"{_name(new)}: enrollment {ca} -> {cb}{kind}",
            field="enrollment",
            old=a if typed else ca,
            new=b if typed else cb,
            materiality=Materiality.MEDIUM
            if big
            else default_materiality(FAMILY, "enrollment_changed"),
        )
    ]


def _set_field(name: str, type_: str, label: str, key):  # type: ignore[no-untyped-def]
    """Items added and removed, compared by ``key`` (order and spelling noise do not count)."""

    def compare(old: JSON, new: JSON, fields: frozenset[str]) -> list[Change]:
        if name not in fields:
            return []
        a = {key(x): x for x in old.get(name) or [] if key(x)}
        b = {key(x): x for x in new.get(name) or [] if key(x)}
        added = [_show(b[k]) for k in sorted(b.keys() - a.keys())]
        removed = [_show(a[k]) for k in sorted(a.keys() - b.keys())]
        if not added and not removed:
            return []
        parts = (
            [f"added {', '.join(added[:5])}" + ("…" if len(added) > 5 else "")] if added else []
        ) + (
            [f"removed {', '.join(removed[:5])}" + ("…" if len(removed) > 5 else "")]
            if removed
            else []
        )
        return [
            _change(
                type_,
                new,
                f"{_name(new)}: {label} " + "; ".join(parts),
                field=name,
                old={"removed": removed},
                new={"added": added},
            )
        ]

    return compare


def _few(items: list[str]) -> str:
    return ", ".join(items[:5]) + ("…" if len(items) > 5 else "")


def _show(x: Any) -> str:
    if isinstance(x, dict):
        if "facility" in x:
            return ", ".join(
                str(v) for v in (x.get("facility"), x.get("city"), x.get("country")) if v
            )
        return str(x.get("name") or "")
    return str(x)


def _text_key(x: Any) -> str:
    return (_text(x) or "").casefold()


def _intervention_key(x: Any) -> str:
    return _text_key(x.get("name")) if isinstance(x, dict) else ""


def _party_key(x: Any) -> str:
    name = x.get("name") if isinstance(x, dict) else None
    return org_key(name) if name else ""


def _site_key(x: Any) -> str:
    if not isinstance(x, dict):
        return ""
    return "|".join(_text_key(x.get(k)) for k in ("facility", "city", "country"))


def _sponsor(old: JSON, new: JSON, fields: frozenset[str]) -> list[Change]:
    if "sponsor" not in fields:
        return []
    a, b = old.get("sponsor") or {}, new.get("sponsor") or {}
    if _party_key(a) == _party_key(b):
        return []
    return [
        _change(
            "sponsor_changed",
            new,
            f"{_name(new)}: sponsor {a.get('name') or '-'} -> {b.get('name') or '-'}",
            field="sponsor",
            old=a.get("name"),
            new=b.get("name"),
        )
    ]


def _title(old: JSON, new: JSON, fields: frozenset[str]) -> list[Change]:
    a, b = _text(old.get("brief_title")), _text(new.get("brief_title"))
    if "brief_title" not in fields or a == b:
        return []
    return [
        _change(
            "title_changed",
            new,
            f"{new.get('nct_id')}: title changed to {b!r}",
            field="brief_title",
            old=a,
            new=b,
        )
    ]


_COMPARES = (
    _status,
    _phase,
    _results,
    _date_field("primary_completion_date", "primary_completion_moved", "primary completion"),
    _date_field("completion_date", "completion_moved", "completion"),
    _date_field("start_date", "start_moved", "start"),
    _enrollment,
    _set_field("countries", "countries_changed", "countries", _text_key),
    _set_field("sites", "sites_changed", "sites", _site_key),
    _set_field("conditions", "conditions_changed", "conditions", _text_key),
    _set_field("interventions", "interventions_changed", "interventions", _intervention_key),
    _sponsor,
    _set_field("collaborators", "collaborators_changed", "collaborators", _party_key),
    _title,
)


def reappeared(ctx: Context) -> Context:
    """The context for a trial back in a series' snapshot after leaving it."""
    return replace(ctx, reappeared=True)
