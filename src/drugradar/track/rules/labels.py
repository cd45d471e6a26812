"""Event rules for drug labels (``spl_labels``, ``openfda_labels``): new labels, section edits,
boxed warnings.

Both sources give the label shape of ``sources.spl`` (``record_id`` = the set id). A section is
read per key as the label profile reads it (``profile.labels._key_texts``: a section with its
untitled subsections; a subsection with a key of its own, Pregnancy inside Use in Specific
Populations, is a section of its own), so one edit makes one event.

Noise (``NOISE`` and the functions below): whitespace (line breaks, indentation, spaces) is not
text; an older version of a label served after a newer one is not a change; the same SPL
document (same document id and version) read twice is the same text, whatever our rendering of
it did. A label leaving a source is not news (neither source is a snapshot).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from drugradar.model.event import Change, Materiality
from drugradar.profile.labels import _key_texts
from drugradar.sources import label_sections as ls
from drugradar.track.catalogue import default_materiality
from drugradar.track.rules import JSON, Context, register

NOISE = (
    "whitespace-only edits",
    "an older version served after a newer one",
    "the same document (id and version) re-read",
)
BOXED = "boxed_warning"
EXCERPT_CHARS = 240
DIFF_MAX_CHARS = 3500  # the diff kept with an event (under ~4 KB with its excerpt)
DIFF_LINE_CHARS = 300
_APPLICATION = re.compile(r"^(NDA|ANDA|BLA)\s*0*(\d{1,6})$")
_SENTENCE = re.compile(r"(?<=[.;:!?])\s+(?=[A-Z(\[•\-–0-9])")


def normalise(text: str | None) -> str:
    """The text with every run of whitespace one space: what a whitespace edit cannot change."""
    return " ".join((text or "").split())


def older(old: JSON, new: JSON) -> bool:
    """Whether ``new`` is an older version of the label than ``old`` (not a change)."""
    a, b = old.get("version"), new.get("version")
    if isinstance(a, int) and isinstance(b, int) and a != b:
        return b < a
    return str(new.get("effective_date") or "") < str(old.get("effective_date") or "")


def same_document(old: JSON, new: JSON) -> bool:
    """The same SPL document read twice: any difference is ours, not the label's."""
    doc = new.get("document_id")
    return bool(doc) and doc == old.get("document_id") and old.get("version") == new.get("version")


def section_texts(data: Mapping[str, Any]) -> dict[str, str]:
    """Section key -> whole text (never empty) of one label."""
    sections: Sequence[Mapping[str, Any]] = data.get("sections") or []
    texts = _key_texts(sections)
    return {k: v["text"] for k, v in texts.items() if normalise(v["text"])}


def _units(text: str) -> list[str]:
    """Lines, then sentences: the diff's units (a paragraph is one line in label text)."""
    out: list[str] = []
    for line in text.split("\n"):
        line = " ".join(line.split())
        if line:
            out.extend(s for s in _SENTENCE.split(line) if s)
    return out


def text_diff(old: str | None, new: str | None) -> str:
    """A compact unified diff (one unit of context) of two section texts, cut to fit."""
    lines = difflib.unified_diff(_units(old or ""), _units(new or ""), lineterm="", n=1)
    out: list[str] = []
    size = 0
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            line = "@@"
        if len(line) > DIFF_LINE_CHARS:
            line = line[: DIFF_LINE_CHARS - 1] + "…"
        if size + len(line) + 1 > DIFF_MAX_CHARS:
            out.append("… (diff cut)")
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


def excerpt(text: str | None, start: int) -> str | None:
    """About ``EXCERPT_CHARS`` of the (normalised) text from a little before ``start``."""
    s = normalise(text)
    if not s:
        return None
    begin = max(0, start - 60)
    if begin:
        space = s.find(" ", begin)
        begin = space + 1 if 0 <= space < start else begin
    piece = s[begin : begin + EXCERPT_CHARS]
    return ("…" if begin else "") + piece + ("…" if begin + EXCERPT_CHARS < len(s) else "")


def _first_difference(a: str, b: str) -> int:
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def application_hint(value: str) -> tuple[str, str] | None:
    """``NDA20702`` -> ``("application", "NDA020702")`` as the approval table spells it."""
    m = _APPLICATION.match(value.strip().upper())
    return ("application", f"{m.group(1)}{int(m.group(2)):06d}") if m else None


def concerns(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Application numbers, then active ingredient and moiety names (generic names when the
    label names no ingredient)."""
    out: dict[tuple[str, str], None] = {}
    for number in data.get("application_numbers") or []:
        hint = application_hint(str(number))
        if hint:
            out[hint] = None
    names = [
        n
        for a in data.get("active_ingredients") or []
        for n in (a.get("name"), a.get("moiety"))
        if isinstance(n, str) and n.strip()
    ] or [n for n in data.get("generic_names") or [] if isinstance(n, str) and n.strip()]
    seen: set[str] = set()
    for name in names:
        name = " ".join(name.split())
        if name.lower() not in seen:
            seen.add(name.lower())
            out[("name", name)] = None
    return list(out)


def _iso(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _name(data: Mapping[str, Any], set_id: str) -> str:
    """ "Lipitor (NDA020702)": the label's brand and application, else its set id."""
    brands = (
        ", ".join((data.get("brand_names") or [])[:2]) or (data.get("generic_names") or [""])[0]
    )
    apps = ", ".join((data.get("application_numbers") or [])[:2])
    if brands and apps:
        return f"{brands} ({apps})"
    return brands or apps or f"label {set_id}"


def _section_title(key: str) -> str:
    sec = ls.BY_CODE.get(ls.code_for_key(key) or "")
    return sec.display if sec else key.replace("_", " ").capitalize()


def _change(
    type_: str, entity: str, summary: str, hints: list[tuple[str, str]], **kw: Any
) -> Change:
    materiality = kw.pop("materiality", None) or default_materiality("label", type_)
    return Change(
        family="label",
        type=type_,
        entity_kind="label",
        entity_id=entity,
        summary=summary,
        materiality=materiality,
        concerns=hints,
        **kw,
    )


@register("spl_labels", "openfda_labels")
def labels(ctx: Context, record_id: str, old: JSON | None, new: JSON | None) -> list[Change]:
    """A label first seen; per changed section one ``section_changed``; a boxed warning that
    appears is ``boxed_warning_added`` (instead of its ``section_changed``)."""
    if ctx.baseline or new is None:
        return []
    set_id = str(new.get("set_id") or record_id)
    name, hints = _name(new, set_id), concerns(new)
    when = _iso(new.get("effective_date"))
    version = new.get("version")
    if old is None:
        stale = when is not None and when <= ctx.as_of and not ctx.recent(when)
        dated = f" effective {when.isoformat()}" if when else ""
        return [
            _change(
                "new_label",
                set_id,
                f"{name}: label (version {version}){dated} first seen",
                hints,
                new={"version": version, "effective_date": new.get("effective_date")},
                event_date=when,
                baseline=stale,
            )
        ]
    if older(old, new) or same_document(old, new):
        return []
    before, after = section_texts(old), section_texts(new)
    out: list[Change] = []
    for key in sorted(before.keys() | after.keys(), key=ls.sort_key):
        a, b = before.get(key), after.get(key)
        na, nb = normalise(a), normalise(b)
        if na == nb:
            continue
        at = _first_difference(na, nb)
        new_value = {"text": excerpt(b, at), "diff": text_diff(a, b)}
        title = _section_title(key)
        versions = f" (version {old.get('version')} -> {version})"
        if key == BOXED and not na:
            out.append(
                _change(
                    "boxed_warning_added",
                    set_id,
                    f"{name}: boxed warning added{versions}",
                    hints,
                    field=key,
                    new=new_value,
                    event_date=when,
                )
            )
            continue
        what = "added" if a is None else "removed" if b is None else "changed"
        out.append(
            _change(
                "section_changed",
                set_id,
                f"{name}: {title} section {what}{versions}",
                hints,
                field=key,
                old=excerpt(a, at),
                new=new_value,
                event_date=when,
                # a boxed warning edited or removed is high (catalogue: "a boxed warning")
                materiality=Materiality.HIGH if key == BOXED else None,
            )
        )
    return out
