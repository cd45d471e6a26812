"""Event rule for the WHO ATC classification (``who_atc``): codes added, removed, renamed.

Only level-5 codes (7 characters) name a substance, so only they make events: ``atc_added``
(a code new in this version, or back), ``atc_removed`` (gone: a code moved to another group is
one removal and one addition, talimogene laherparepvec L01XX51 -> L01XL02), ``atc_renamed``
(the substance's name changed: cytisine -> cytisinicline). The first version is the baseline.

Noise (``NOISE``): groups (levels 1–4) are the classification's structure, not a drug's news;
DDD, unit, route and note edits have no event type (they stay in the record's history); a name
that differs only in case, spacing or punctuation (``fluorocholine(18F)`` -> ``fluorocholine
(18F)``) is not a rename; row order and a code's repeated rows (one per route) mean nothing.
"""

from __future__ import annotations

import re
from typing import Any

from drugradar.model.event import Change
from drugradar.track.catalogue import default_materiality
from drugradar.track.rules import JSON, Context, register

FAMILY = "dictionary"
SUBSTANCE_LEVEL = 5
NOISE = (
    "levels 1-4 (groups)",
    "DDD, unit, route and note edits",
    "case, spacing and punctuation of names",
    "row order, repeated rows of a code",
)
_NOT_WORD = re.compile(r"[\W_]+")


def name_key(name: str) -> str:
    """What a rename must change: the name's letters and digits, case aside."""
    return _NOT_WORD.sub("", name.casefold())


def _change(type_: str, code: str, summary: str, names: list[str], **kw: Any) -> Change:
    return Change(
        FAMILY,
        type_,
        "atc_code",
        code,
        summary,
        materiality=default_materiality(FAMILY, type_),
        concerns=[("atc", f"{code}|{n}") for n in names],
        **kw,
    )


@register("who_atc")
def atc_changes(ctx: Context, code: str, old: JSON | None, new: JSON | None) -> list[Change]:
    """A level-5 code added, removed or renamed (module docstring)."""
    if ctx.baseline or (old is None and new is None):
        return []
    data = new if new is not None else old
    assert data is not None
    if data.get("level") != SUBSTANCE_LEVEL:
        return []
    if new is not None and (old is None or ctx.reappeared):
        name = new["name"]
        return [_change("atc_added", code, f"ATC {code} added: {name}", [name], new=name)]
    if new is None:
        assert old is not None
        name = old["name"]
        return [_change("atc_removed", code, f"ATC {code} removed: {name}", [name], old=name)]
    assert old is not None
    was, now = old["name"], new["name"]
    if name_key(was) == name_key(now):
        return []
    return [
        _change(
            "atc_renamed",
            code,
            f"ATC {code} renamed: {was} -> {now}",
            [now, was],
            field="name",
            old=was,
            new=now,
        )
    ]
