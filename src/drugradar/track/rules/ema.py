"""Event rules for EMA tables: medicines, orphan designations, DHPCs, referrals, PSUSAs, shortages.

Record shapes are in ``sources.ema_medicines``, ``sources.ema_designations`` and
``sources.ema_safety``. Every table is a full snapshot, but a record leaving one is not news
(EMA keeps withdrawn medicines and closed procedures in its tables, so a row that vanishes is
a table that changed, not a regulatory act): ``new is None`` gives nothing.

A record first seen after the baseline is news only when the date it states lies within the
news window (or after ``as_of``): EMA's tables are refreshed often and a medicine, designation
or DHPC dated years ago that appears for the first time was missing from an older table (the
old EPAR export never listed withdrawn applications), not new. Such events are still stored,
as ``baseline`` (kept for the timeline, never alerted); see ``stale``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from drugradar.model.event import Change, Materiality
from drugradar.track.catalogue import default_materiality
from drugradar.track.rules import JSON, Context, register

# ---- noise and vocabulary ---------------------------------------------------------------------

# The flags tracked as special_approval/ema_flag_changed, with the words a digest uses.
# ``accelerated_assessment`` and ``patient_safety`` are not flags of the authorisation (the
# first is how the application was assessed) and are not tracked.
FLAGS: dict[str, str] = {
    "conditional": "conditional approval",
    "exceptional_circumstances": "exceptional circumstances",
    "atmp": "advanced therapy (ATMP)",
    "additional_monitoring": "additional monitoring",
    "prime": "PRIME",
    "orphan": "orphan medicine",
    "biosimilar": "biosimilar",
    "generic": "generic or hybrid",
}

# Statuses that end an authorisation. The old EPAR export (2018-12, 2019-11 tables) knows only
# Authorised / Withdrawn / Refused / Suspended: its "Withdrawn" covers every end, which EMA's
# current download splits into lapsed, expired, revoked, not renewed (all 35 such moves between
# the 2019-11 and 2025-03 tables carry a withdrawal date before 2019-11).
ENDED = frozenset({"withdrawn", "lapsed", "expired", "revoked", "not_renewed"})
# Statuses from which "authorised" is a new authorisation (not a reinstatement).
BEFORE_APPROVAL = frozenset({"opinion", "opinion_under_re_examination", "refused"})
# A medicine's flags matter while it is authorised; a withdrawn medicine's flags are cleared
# with its authorisation and are not news.
LIVE = frozenset({"authorised", "suspended"})

# The date each status states (a key of the medicine record).
STATUS_DATE = {
    "authorised": "authorisation_date",
    "suspended": "suspension_date",
    "refused": "refusal_date",
    "application_withdrawn": "application_withdrawal_date",
    "opinion": "opinion_date",
    "opinion_under_re_examination": "opinion_date",
    **{s: "withdrawal_date" for s in ENDED},
}


def status_respelled(old: str | None, new: str | None) -> bool:
    """A move between "withdrawn" and a finer word for an ended authorisation (lapsed, expired,
    revoked, not renewed) is the old export's coarser vocabulary, not a change."""
    return old != new and old in ENDED and new in ENDED and "withdrawn" in (old, new)


def current_layout(data: JSON) -> bool:
    """Whether a medicine record comes from EMA's current download: only it carries the PRIME
    and advanced therapy columns (the old EPAR export leaves them None)."""
    return data.get("prime") is not None or data.get("atmp") is not None


def flag_noise(flag: str, old: JSON, new: JSON) -> bool:
    """A flag change that is not one: a side whose layout lacks the column (None), or "generic"
    becoming true where the current download's column is "Generic or hybrid" and the old
    export's was "Generic" (a hybrid medicine was never marked in the old one)."""
    before, after = old.get(flag), new.get(flag)
    if before is None or after is None or before == after:
        return True
    return flag == "generic" and after is True and current_layout(new) and not current_layout(old)


def stale(ctx: Context, when: date | None) -> bool:
    """A first-seen record's stated date lies before the news window (dates after ``as_of``
    are news: a release is dated by its folder, its rows may be newer; dates after the source's
    previous snapshot are news too, see ``Context.recent``)."""
    return when is not None and when <= ctx.as_of and not ctx.recent(when)


# ---- helpers ----------------------------------------------------------------------------------


def iso_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def name_hints(*groups: Iterable[Any]) -> list[tuple[str, str]]:
    """``("name", …)`` concerns, distinct ignoring case, first spelling kept."""
    out: dict[str, tuple[str, str]] = {}
    for group in groups:
        for value in group:
            if isinstance(value, str) and value.strip():
                name = " ".join(value.split())
                out.setdefault(name.lower(), ("name", name))
    return list(out.values())


def _split(value: Any) -> list[str]:
    """A verbatim substance cell split as the parser splits INNs (``;`` and `` / ``)."""
    if not isinstance(value, str):
        return []
    parts = value.replace(" / ", ";").split(";")
    return [p.strip() for p in parts if p.strip()]


def _change(
    family: str,
    type_: str,
    kind: str,
    entity: str,
    summary: str,
    concerns: list[tuple[str, str]],
    *,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    when: date | None = None,
    baseline: bool = False,
    materiality: Materiality | None = None,
) -> Change:
    return Change(
        family=family,
        type=type_,
        entity_kind=kind,
        entity_id=entity,
        summary=summary,
        field=field,
        old=old,
        new=new,
        materiality=materiality or default_materiality(family, type_),
        baseline=baseline,
        event_date=when,
        concerns=concerns,
    )


def _short(value: Any, limit: int = 90) -> str:
    s = " ".join(str(value or "").split())
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


# ---- medicines --------------------------------------------------------------------------------


def _status_type(old: str | None, new: str) -> str | None:
    """The approval event type of a status move (``old`` None: first seen), None for none."""
    if status_respelled(old, new):
        return None
    if new == "authorised":
        return "new_approval" if old is None or old in BEFORE_APPROVAL else "status_changed"
    if new in ENDED:
        return "status_changed" if old in ENDED else "withdrawn"
    if new in ("suspended", "refused"):
        return new
    return "status_changed"


def _status_date(type_: str, status: str, data: JSON) -> date | None:
    """The date the record states for a status (a reinstatement states none of its own)."""
    if type_ == "status_changed" and status == "authorised":
        return None
    return iso_date(data.get(STATUS_DATE.get(status, "")))


@register("ema_medicines")
def medicines(ctx: Context, record_id: str, old: JSON | None, new: JSON | None) -> list[Change]:
    """Authorisations, status moves and flag changes of one EMA medicine."""
    if ctx.baseline or new is None:
        return []
    entity = new.get("product_number") or record_id
    label = f"{new.get('name') or entity} ({entity})"
    # the substances; the medicine's own name only when it names none (a hint the store may
    # resolve as a brand)
    hints = name_hints(new.get("inns") or [], _split(new.get("active_substance")))
    hints = hints or name_hints([new.get("name")])
    status, raw = new.get("status"), new.get("status_raw") or new.get("status")
    if status in ("opinion", "opinion_under_re_examination") and new.get("opinion_status"):
        raw = f"{raw} ({new['opinion_status']})"
    published = iso_date(new.get("first_published"))
    # a status without its own date: the page revision that showed it dates it, roughly
    revised = iso_date(new.get("last_updated")) or published
    out: list[Change] = []

    def approval(was: str | None) -> None:
        when = iso_date(new.get("authorisation_date"))
        flags = [words for flag, words in FLAGS.items() if new.get(flag) is True]
        on = f" on {when.isoformat()}" if when else ""
        extra = f" ({', '.join(flags)})" if flags else ""
        since = f" (EU status was {was})" if was else ""
        out.append(
            _change(
                "approval",
                "new_approval",
                "medicine",
                entity,
                f"{label}: authorised in the EU{on}{extra}{since}",
                hints,
                new="authorised",
                when=when,
                baseline=old is None and stale(ctx, when or published),
            )
        )

    def moved(type_: str, before: str | None) -> None:
        when = _status_date(type_, str(status), new)
        was = f"{(old or {}).get('status_raw') or before} -> " if before else ""
        out.append(
            _change(
                "approval",
                type_,
                "medicine",
                entity,
                f"{label}: EU status {was}{raw}",
                hints,
                field="status",
                old=before,
                new=status,
                when=when,
                baseline=old is None and stale(ctx, when or revised),
            )
        )

    if old is None:
        if status in LIVE or status in ENDED:
            approval(None)  # it was authorised, whatever happened to it since
        type_ = _status_type(None, status) if status not in (None, "authorised") else None
        if type_ is not None:
            moved(type_, None)
        return out

    before = old.get("status")
    if before is not None and status is not None and before != status:
        type_ = _status_type(before, status)
        if type_ == "new_approval":
            approval(old.get("status_raw") or before)
        elif type_ is not None:
            moved(type_, before)
    if status in LIVE:
        for flag, words in FLAGS.items():
            if flag_noise(flag, old, new):
                continue
            state = "now" if new[flag] else "no longer"
            out.append(
                _change(
                    "special_approval",
                    "ema_flag_changed",
                    "medicine",
                    entity,
                    f"{label}: {state} {words}",
                    hints,
                    field=flag,
                    old=old[flag],
                    new=new[flag],
                )
            )
    return out


# ---- orphan designations ----------------------------------------------------------------------

GRANTED = frozenset({"positive", "withdrawn", "expired"})  # statuses of a designation once granted


@register("ema_orphan_designations")
def designations(ctx: Context, record_id: str, old: JSON | None, new: JSON | None) -> list[Change]:
    """A new orphan designation, and a designation's status moves (withdrawn, expired…)."""
    if ctx.baseline or new is None:
        return []
    entity = new.get("designation_number") or record_id
    substance = new.get("active_substance") or "?"
    label = f"Orphan designation {entity} ({_short(substance, 60)}; {_short(new.get('condition'))})"
    if new.get("designation_number") is None:
        label = f"Orphan designation application ({_short(substance, 60)}; "
        label += f"{_short(new.get('condition'))})"
    hints = name_hints(new.get("active_substances") or [])
    status, raw = new.get("status"), new.get("status_raw")
    designated = iso_date(new.get("designation_date"))
    updated = iso_date(new.get("last_updated"))
    out: list[Change] = []
    if old is None:
        if status in GRANTED:
            on = f" on {designated.isoformat()}" if designated else ""
            out.append(
                _change(
                    "special_approval",
                    "orphan_designation",
                    "designation",
                    entity,
                    f"{label}: designated{on}",
                    hints,
                    new="positive",
                    when=designated,
                    baseline=stale(ctx, designated or iso_date(new.get("first_published"))),
                )
            )
        if status is not None and status != "positive":
            refused = status == "negative"
            out.append(
                _change(
                    "special_approval",
                    "designation_changed",
                    "designation",
                    entity,
                    f"{label}: {raw}",
                    hints,
                    field="status",
                    new=status,
                    when=designated if refused else None,
                    baseline=stale(ctx, designated if refused else updated or designated),
                )
            )
        return out
    before = old.get("status")
    if before is not None and status is not None and before != status:
        out.append(
            _change(
                "special_approval",
                "designation_changed",
                "designation",
                entity,
                f"{label}: {old.get('status_raw') or before} -> {raw}",
                hints,
                field="status",
                old=before,
                new=status,
                when=designated if status == "negative" else None,
            )
        )
    return out


# ---- DHPC, referrals, PSUSA, shortages ----------------------------------------------------------


@register("ema_dhpc")
def dhpc(ctx: Context, record_id: str, old: JSON | None, new: JSON | None) -> list[Change]:
    """A new direct healthcare professional communication (edits to a known one are not news)."""
    if ctx.baseline or new is None or old is not None:
        return []
    when = iso_date(new.get("date"))
    substances = new.get("active_substances") or []
    hints = name_hints(substances) or name_hints(new.get("medicines") or [])
    about = ", ".join(new.get("types") or []) or "safety communication"
    what = new.get("medicine_name") or record_id
    subst = f" ({_short(', '.join(substances), 60)})" if substances else ""
    on = f" ({when.isoformat()})" if when else ""
    return [
        _change(
            "safety",
            "safety_communication",
            "dhpc",
            record_id,
            f"DHPC for {_short(what, 60)}{subst}: {about}{on}",
            hints,
            new=new.get("types") or [],
            when=when,
            baseline=stale(ctx, when or iso_date(new.get("first_published"))),
        )
    ]


# Dates a referral's status states (the latest the record has, in this order).
REFERRAL_DATES = ("decision_date", "opinion_date", "cmdh_position_date", "prac_recommendation_date")


@register("ema_referrals")
def referrals(ctx: Context, record_id: str, old: JSON | None, new: JSON | None) -> list[Change]:
    """A new referral procedure, and a referral's status moves."""
    if ctx.baseline or new is None:
        return []
    status, raw = new.get("status"), new.get("status_raw")
    kind = f", {new['referral_type']}" if new.get("referral_type") else ""
    label = f"EMA referral {_short(new.get('name') or record_id, 70)}{kind}"
    hints = name_hints(new.get("inns") or [])
    if old is None:
        started = iso_date(new.get("start_date"))
        if status is None:
            return []
        return [
            _change(
                "safety",
                "referral",
                "referral",
                record_id,
                f"{label}: {raw}",
                hints,
                new=status,
                when=started,
                baseline=stale(ctx, started or iso_date(new.get("first_published"))),
            )
        ]
    before = old.get("status")
    if before is None or status is None or before == status:
        return []
    when = next((d for d in (iso_date(new.get(k)) for k in REFERRAL_DATES) if d), None)
    return [
        _change(
            "safety",
            "referral",
            "referral",
            record_id,
            f"{label}: {old.get('status_raw') or before} -> {raw}",
            hints,
            field="status",
            old=before,
            new=status,
            when=when,
        )
    ]


# PSUSA outcomes that take medicines off the market: raised to high (withdrawals, suspensions).
PSUSA_HIGH = frozenset({"suspension", "revocation", "withdrawal"})


@register("ema_psusa")
def psusa(ctx: Context, record_id: str, old: JSON | None, new: JSON | None) -> list[Change]:
    """A PSUSA outcome published, or changed; an outcome page without an outcome is nothing."""
    if ctx.baseline or new is None:
        return []
    outcome = new.get("regulatory_outcome")
    before = old.get("regulatory_outcome") if old is not None else None
    if outcome is None or (old is not None and (before is None or before == outcome)):
        return []
    published = iso_date(new.get("first_published"))
    substance = _short(new.get("active_substance") or new.get("substances_in_scope"), 70)
    label = f"PSUSA {new.get('procedure_number') or record_id} ({substance})"
    high = str(outcome).strip().lower() in PSUSA_HIGH
    return [
        _change(
            "safety",
            "psusa_outcome",
            "psusa",
            record_id,
            f"{label}: {before + ' -> ' if before else 'outcome '}{outcome}",
            name_hints(new.get("active_substances") or []),
            field=None if old is None else "regulatory_outcome",
            old=before,
            new=outcome,
            when=published if old is None else None,
            baseline=old is None and stale(ctx, published),
            materiality=Materiality.HIGH if high else None,
        )
    ]


@register("ema_shortages")
def shortages(ctx: Context, record_id: str, old: JSON | None, new: JSON | None) -> list[Change]:
    """A shortage reported, and a shortage's status moves (ongoing -> resolved)."""
    if ctx.baseline or new is None:
        return []
    status, raw = new.get("status"), new.get("status_raw")
    forms = ", ".join(new.get("pharmaceutical_forms") or [])
    label = f"Shortage of {_short(new.get('name') or record_id, 60)}"
    label += f" ({_short(forms, 60)})" if forms else ""
    hints = name_hints(new.get("inns") or []) or name_hints([new.get("name")])
    if old is None:
        if status is None:
            return []
        started = iso_date(new.get("start_date"))
        return [
            _change(
                "safety",
                "shortage",
                "shortage",
                record_id,
                f"{label}: {raw}",
                hints,
                new=status,
                when=started,
                baseline=stale(ctx, started or iso_date(new.get("first_published"))),
            )
        ]
    before = old.get("status")
    if before is None or status is None or before == status:
        return []
    return [
        _change(
            "safety",
            "shortage",
            "shortage",
            record_id,
            f"{label}: {old.get('status_raw') or before} -> {raw}",
            hints,
            field="status",
            old=before,
            new=status,
            when=iso_date(new.get("last_updated")),
        )
    ]
