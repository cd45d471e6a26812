"""Event rule for DrugCentral's dated drug → target revisions (``drugcentral_history``).

A record is one drug and one UniProt accession (``sources.drugcentral_history``). Between two
consecutive revisions: the pair appearing (or coming back) is ``target_added``, leaving is
``target_removed``, its action types changing (``INHIBITOR`` -> ``ANTAGONIST``, or none stated
-> ``AGONIST``) is ``target_action_changed``. The first revision is the baseline.

Noise (``NOISE``): only the action types of a pair are compared, as a set with case and spacing
normalised; REFERENCE, SOURCE, the drug's and target's names, ChEMBL id, target family, gene and
Swiss-Prot name never make an event, nor does row order, nor a column one layout has and another
lacks (TARGET_FAMILY, GENE, SWISSPROT came in 2015-08 and 2015-09).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from drugradar.model.event import Change
from drugradar.track.catalogue import default_materiality
from drugradar.track.rules import JSON, Context, register

FAMILY = "dictionary"
NOISE = (
    "REFERENCE or SOURCE edits",
    "drug, target, family, gene, Swiss-Prot or ChEMBL names",
    "case and spacing of action types",
    "row order",
    "columns one layout has and another lacks",
)


def action_types(rows: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """The pair's action types, as a sorted set of normalised words (empty: none stated)."""
    found = {" ".join(str(r.get("action_type") or "").upper().split()) for r in rows}
    return tuple(sorted(a for a in found if a))


def _said(actions: tuple[str, ...]) -> str | None:
    return "|".join(actions) or None


def _change(type_: str, record_id: str, data: JSON, summary: str, **kw: Any) -> Change:
    drug, acc = data["drug_id"], data["accession"]
    return Change(
        FAMILY,
        type_,
        "drug_target",
        f"drugcentral:{record_id}",
        summary,
        materiality=default_materiality(FAMILY, type_),
        concerns=[("drugcentral", f"{drug}|{data['drug_name']}"), ("uniprot", acc)],
        **kw,
    )


@register("drugcentral_history")
def target_changes(
    ctx: Context, record_id: str, old: JSON | None, new: JSON | None
) -> list[Change]:
    """Target added, removed, or its action type changed (module docstring)."""
    if ctx.baseline or (old is None and new is None):
        return []
    data = new if new is not None else old
    assert data is not None
    rows = data["rows"]
    target = next((r["target_name"] for r in rows if r.get("target_name")), data["accession"])
    what = f"{data['drug_name']}: {target} ({data['accession']})"
    if new is not None and (old is None or ctx.reappeared):
        act = _said(action_types(new["rows"]))
        how = f", {act.lower()}" if act else ""
        value = {"uniprot": new["accession"], "action_type": act}
        return [
            _change("target_added", record_id, new, f"{what} added as a target{how}", new=value)
        ]
    if new is None:
        assert old is not None
        value = {"uniprot": old["accession"], "action_type": _said(action_types(old["rows"]))}
        return [_change("target_removed", record_id, old, f"{what} no longer a target", old=value)]
    assert old is not None
    a, b = action_types(old["rows"]), action_types(new["rows"])
    if a == b:
        return []
    was, now = _said(a), _said(b)
    return [
        _change(
            "target_action_changed",
            record_id,
            new,
            f"{what}: action {was or 'not stated'} -> {now or 'not stated'}",
            field="action_type",
            old=was,
            new=now,
        )
    ]
