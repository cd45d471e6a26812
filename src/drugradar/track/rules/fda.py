"""Event rules for Drugs@FDA (approvals, supplements, marketing status) and the Orange Book
(patents, exclusivities).

Record shapes are in ``sources.drugsatfda`` and ``sources.orange_book``. Registered sources:
``fda_applications``, ``fda_submissions``, ``fda_marketing_status``, ``ob_patents``,
``ob_exclusivities``. ``fda_products`` has no rule: its fields (brand, strength, form, reference
drug) have no event type, and a new product is its application's news.

One original approval, two sources: a new application record (``fda_applications``, the only
sign in the layouts without a Submissions table) and an approved ``ORIG/1`` submission both
make ``approval/new_approval`` on ``application``/``NDA021436``, field None, ``new`` the
application id, so the store merges them into one event. An application re-typed ANDA <-> NDA
(one or two per release; 121 between the legacy 2016 and the 2019 files) shows as new under
its new id: nothing in its record tells it from a new one (the NDA -> BLA transition can be
told, see ``respelled_bla``). Drugs@FDA's Applications table also
lists tentatively approved applications and does not say which: its "new application" events
include them (the submission rule skips tentative ``ORIG``s; a product's move from "None
(Tentative Approval)" to a marketed status is the final approval, see ``marketing_changes``).

A first-seen record that states a date older than the news window (a supplement approved in
2014 that only the 2019 files list, a patent submitted years ago now listed for another
product) is stored as ``baseline``, kept for the timeline and never alerted (``stale``).

Records that leave Drugs@FDA make no event: the data does not say why (legacy rows the 2019
files reject, applications re-typed NDA -> BLA or ANDA <-> NDA), and withdrawn products stay
listed as "Discontinued". A record that leaves the Orange Book is delisted (patent) or expired
(exclusivity): its lists keep only what is in force.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from drugradar.model.event import Change, Materiality
from drugradar.sources.drugsatfda import MARKETING_STATUS
from drugradar.track.catalogue import default_materiality
from drugradar.track.rules import JSON, Context, register

# ---- noise and vocabulary ---------------------------------------------------------------------

# First digit of the numbers CDER gives biologics license applications (103xxx, 125xxx,
# 761xxx). A BLA numbered otherwise kept its NDA number when it was "deemed to be a BLA" on
# 2020-03-23 (95 applications, e.g. NDA017016 -> BLA017016): an identifier re-spelled.
BLA_NUMBER_STARTS = ("1", "7")

# Submission classes of an approval that adds an indication: efficacy supplements, and the
# original-application types for a new indication (6; 9 and 10, submitted as a distinct NDA).
NEW_INDICATION_CLASSES = frozenset({"EFFICACY", "TYPE 6", "TYPE 9", "TYPE 9- BLA", "TYPE 10"})

# Submission classes that say nothing: left out of a summary.
NOT_SAID = frozenset({"UNKNOWN", "N/A", "UNSPECIFIED"})

APPROVED = "AP"  # SubmissionStatus (the other is TA, tentative)
# MarketingStatus ids: Discontinued is the vocabulary's only end; "None (Tentative Approval)"
# a product not yet approved; the others (Rx, OTC, "For Further Manufacturing Use") marketed.
DISCONTINUED_ID, TENTATIVE_ID = 3, 4

# Orange Book exclusivity kinds a digest names in words (the others are shown as their code).
EXCLUSIVITY_KINDS = {
    "ODE": "orphan-drug exclusivity",
    "NCE": "new chemical entity exclusivity",
    "I": "new indication exclusivity",
    "NP": "new product exclusivity",
    "NPP": "new patient population exclusivity",
    "D": "new dosing schedule exclusivity",
    "PED": "pediatric exclusivity",
    "PC": "patent challenge (180-day) exclusivity",
    "CGT": "competitive generic therapy exclusivity",
    "GAIN": "QIDP (GAIN) exclusivity",
}


def respelled_bla(data: JSON) -> bool:
    """A BLA first seen under an NDA's number: the 2020 transition re-typed it, no approval."""
    no = str(data.get("appl_no") or "")
    return data.get("appl_type") == "BLA" and not no.startswith(BLA_NUMBER_STARTS)


def stale(ctx: Context, when: date | None) -> bool:
    """A first-seen record's stated date lies before the news window (dates after ``as_of``
    are news: a release is dated by its folder, its rows may be newer; dates after the source's
    previous snapshot are news too, see ``Context.recent``)."""
    return when is not None and when <= ctx.as_of and not ctx.recent(when)


def status_ids(data: JSON) -> frozenset[int]:
    """A product's marketing status ids, as a set (order and the layout's spelling of the text
    are noise; the TE codes, absent from layouts without a TE table, are not compared)."""
    ids = data.get("marketing_status_ids") or [data.get("marketing_status_id")]
    return frozenset(int(i) for i in ids if isinstance(i, int))


def _text(value: Any) -> str:
    """Whitespace-normalised text ('' for None): a re-spaced value is the same value."""
    return " ".join(str(value).split()) if value is not None else ""


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _shift(old: Any, new: Any) -> int | None:
    a, b = _day(old), _day(new)
    return (b - a).days if a and b else None


def _appl(data: JSON) -> str:
    """``NDA021436``: the application as Drugs@FDA's approval table spells it (the Orange
    Book's N/A letters are already NDA/ANDA in its records)."""
    return f"{data.get('appl_type')}{data.get('appl_no')}"


def _change(
    family: str,
    type_: str,
    kind: str,
    entity: str,
    summary: str,
    appl: str,
    *,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    days_shifted: int | None = None,
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
        days_shifted=days_shifted,
        materiality=materiality or default_materiality(family, type_),
        baseline=baseline,
        event_date=when,
        concerns=[("application", appl)],
    )


# ---- Drugs@FDA ----------------------------------------------------------------------------------


@register("fda_applications")
def application_changes(
    ctx: Context, record_id: str, old: JSON | None, new: JSON | None
) -> list[Change]:
    """A new application record is a new approval. Sponsor changes (transfers and re-spelled
    names alike) have no event type; removals say nothing (module docstring)."""
    if ctx.baseline or new is None or old is not None or ctx.reappeared or respelled_bla(new):
        return []
    appl = _appl(new)
    sponsor = _text(new.get("sponsor"))
    return [
        _change(
            "approval",
            "new_approval",
            "application",
            appl,
            f"{appl}" + (f" ({sponsor})" if sponsor else "") + ": new application in Drugs@FDA",
            appl,
            new=appl,
        )
    ]


def _submission_words(data: JSON) -> str:
    """``' (Efficacy; priority review; orphan)'``: what a digest says of a submission."""
    cls = _text(data.get("class_description") or data.get("class_code"))
    parts = [cls if cls.upper() not in NOT_SAID else ""]
    priority = _text(data.get("review_priority"))
    if priority.upper() in ("PRIORITY", "STANDARD"):
        parts.append(priority.lower() + " review")
    if data.get("orphan"):
        parts.append("orphan")
    words = "; ".join(p for p in parts if p)
    return f" ({words})" if words else ""


@register("fda_submissions")
def submission_changes(
    ctx: Context, record_id: str, old: JSON | None, new: JSON | None
) -> list[Change]:
    """An approval: a submission first seen approved, or tentative (TA) turned approved (AP).

    Only the status is compared: the legacy layout lacks or maps differently the review
    priority, class, notes and documents, and dates a submission by its latest approving
    action. AP -> TA is the legacy layout folding several actions, not a change.
    """
    if ctx.baseline or new is None or new.get("status") != APPROVED:
        return []
    if old is not None and old.get("status") == APPROVED:
        return []
    if old is None and ctx.reappeared:
        return []
    appl = _appl(new)
    kind, number = new.get("submission_type"), new.get("submission_no")
    when = _day(new.get("status_date"))
    was = "tentative" if old is not None else None
    on = f" on {when.isoformat()}" if when else ""
    words = _submission_words(new)
    common: dict[str, Any] = {"when": when, "baseline": old is None and stale(ctx, when)}
    if kind == "ORIG" and number == 1:
        after = " after a tentative approval" if was else ""
        return [
            _change(
                "approval",
                "new_approval",
                "application",
                appl,
                f"{appl}: original application approved{on}{after}{words}",
                appl,
                old=was,
                new=appl,
                **common,
            )
        ]
    indication = _text(new.get("class_code")).upper() in NEW_INDICATION_CLASSES
    label = "original" if kind == "ORIG" else "supplement"
    return [
        _change(
            "approval",
            "new_indication" if indication else "supplement",
            "submission",
            f"{appl}/{kind}/{number}",
            f"{appl}: {'efficacy ' if indication else ''}{label} {number} approved{on}{words}",
            appl,
            field="status",
            old=was,
            new="approved",
            **common,
        )
    ]


def _status_label(data: JSON, ids: frozenset[int]) -> str:
    """``'Prescription'``, ``'Over-the-counter + Prescription'``: the statuses in words."""
    own = data.get("marketing_status_id")
    words = {
        i: _text(data.get("marketing_status")) if i == own else MARKETING_STATUS.get(i, f"{i}")
        for i in ids
    }
    return " + ".join(sorted(w or str(i) for i, w in words.items()))


@register("fda_marketing_status")
def marketing_changes(
    ctx: Context, record_id: str, old: JSON | None, new: JSON | None
) -> list[Change]:
    """A product's marketing status changed.

    To Discontinued, the vocabulary's word for a product off the market: ``withdrawn``. From
    "None (Tentative Approval)" to a marketed status: the final approval, raised to high (an
    approval). A product first seen is its application's news (its ``new_approval``, or on an
    existing application its supplement, where the layout has a Submissions table); TE codes
    have no event type.
    """
    if ctx.baseline or old is None or new is None:
        return []
    before, after = status_ids(old), status_ids(new)
    if before == after or not before or not after:
        return []
    appl = _appl(new)
    product = f"{appl}/{new.get('product_no')}"
    was, now = _status_label(old, before), _status_label(new, after)
    summary = f"{appl} product {new.get('product_no')}: marketing status {was} -> {now}"
    kw: dict[str, Any] = {"field": "marketing_status", "old": was, "new": now}
    if after == {DISCONTINUED_ID}:
        return [_change("approval", "withdrawn", "product", product, summary, appl, **kw)]
    final = before == {TENTATIVE_ID} and TENTATIVE_ID not in after
    return [
        _change(
            "approval",
            "marketing_status_changed",
            "product",
            product,
            summary + (" (final approval)" if final else ""),
            appl,
            materiality=Materiality.HIGH if final else None,
            **kw,
        )
    ]


# ---- Orange Book --------------------------------------------------------------------------------


def _listing(record_id: str, data: JSON) -> tuple[str, str, str]:
    """``(application, entity id, words)`` of a patent or exclusivity record; the entity keeps
    the code as the Orange Book writes it (``6894051*PED``, ``ODE-40``)."""
    appl, product = _appl(data), data.get("product_no")
    written = record_id.rsplit("/", 1)[-1]
    return appl, f"{appl}/{product}/{written}", f"{appl} product {product}"


def _patent_name(data: JSON) -> str:
    no = data.get("patent_no")
    if data.get("pediatric_extension"):
        return f"pediatric extension of patent {no}"
    return f"patent {no}"


@register("ob_patents")
def patent_changes(
    ctx: Context, record_id: str, old: JSON | None, new: JSON | None
) -> list[Change]:
    """Listed (a new record, or a delisted or removed one back), delisted (the delist flag turns
    on, or the record leaves: one event, same ``new``, so the store merges the two), expiry
    moved (flagged or not: a patent whose delisting is requested stays listed meanwhile).

    Use codes and the substance/product flags have no event type. A patent that leaves after
    its expiry is housekeeping, like an exclusivity expiring (catalogue: low), so that
    ``delisted`` is lowered to low.
    """
    if ctx.baseline or (old is None and new is None):
        return []
    data = new if new is not None else old
    assert data is not None
    appl, entity, where = _listing(record_id, data)
    name = _patent_name(data)
    listed = new is not None and not new.get("delisted")
    was_listed = old is not None and not old.get("delisted") and not (ctx.reappeared and new)

    out: list[Change] = []
    if listed and not was_listed:
        assert new is not None
        when = _day(new.get("submission_date"))
        out.append(
            _change(
                "patent",
                "listed",
                "patent",
                entity,
                f"{name} listed in the Orange Book for {where} (expires {new.get('expires')})",
                appl,
                new=new.get("expires"),
                when=when,
                baseline=old is None and stale(ctx, when),
            )
        )
    elif was_listed and not listed:
        assert old is not None
        end = _day(old.get("expires"))
        expired = new is None and end is not None and end <= ctx.as_of
        if new is not None:
            what = f"{name} of {where}: delisting requested (expires {old.get('expires')})"
        elif expired:
            what = f"{name} left the Orange Book listing of {where} (expired {old.get('expires')})"
        else:
            what = f"{name} delisted from {where} (was to expire {old.get('expires')})"
        out.append(
            _change(
                "patent",
                "delisted",
                "patent",
                entity,
                what,
                appl,
                old=old.get("expires"),
                materiality=Materiality.LOW if expired else None,
            )
        )
    if old is None or new is None or ctx.reappeared:
        return out
    a, b = old.get("expires"), new.get("expires")
    if a != b and b:
        out.append(
            _change(
                "patent",
                "expiry_changed",
                "patent",
                entity,
                f"{name} of {where}: expiry {a} -> {b}",
                appl,
                field="expires",
                old=a,
                new=b,
                days_shifted=_shift(a, b),
            )
        )
    return out


def _exclusivity_name(data: JSON) -> str:
    kind = EXCLUSIVITY_KINDS.get(str(data.get("kind")))
    return f"{kind} {data.get('code')}" if kind else f"exclusivity {data.get('code')}"


@register("ob_exclusivities")
def exclusivity_changes(
    ctx: Context, record_id: str, old: JSON | None, new: JSON | None
) -> list[Change]:
    """Granted (a new record: ``new`` is the code, ODE-… for orphan-drug exclusivity), expired
    (the record leaves, or one of its grants' dates does), changed (the latest expiry moved).

    A record holds every grant of one code to one product (NPP for two populations): a date
    added without moving the latest expiry is a grant; dates only dropped, grants expiring.
    """
    if ctx.baseline or (old is None and new is None):
        return []
    data = new if new is not None else old
    assert data is not None
    appl, entity, where = _listing(record_id, data)
    name = _exclusivity_name(data)

    def change(type_: str, summary: str, **kw: Any) -> list[Change]:
        return [_change("special_approval", type_, "exclusivity", entity, summary, appl, **kw)]

    if new is not None and (old is None or ctx.reappeared):
        return change(
            "exclusivity_granted",
            f"{name} listed in the Orange Book for {where} (expires {new.get('expires')})",
            new=new.get("code"),
        )
    if new is None:
        assert old is not None
        end, day = _day(old.get("expires")), old.get("expires")
        how = f"expired {day}" if end is None or end <= ctx.as_of else f"due to expire {day}"
        return change(
            "exclusivity_expired",
            f"{name} of {where} left the Orange Book ({how})",
            old=old.get("code"),
        )
    assert old is not None
    a, b = old.get("expires"), new.get("expires")
    if a != b and b:
        return change(
            "exclusivity_changed",
            f"{name} of {where}: expiry {a} -> {b}",
            field="expires",
            old=a,
            new=b,
            days_shifted=_shift(a, b),
        )
    before, after = set(old.get("expiry_dates") or []), set(new.get("expiry_dates") or [])
    if before == after or not after:
        return []
    kw = {"field": "expiry_dates", "old": sorted(before), "new": sorted(after)}
    if after - before:
        added = ", ".join(sorted(after - before))
        return change("exclusivity_granted", f"{name} of {where}: new grant expiring {added}", **kw)
    dropped = ", ".join(sorted(before - after))
    return change("exclusivity_expired", f"{name} of {where}: grant of {dropped} ended", **kw)
