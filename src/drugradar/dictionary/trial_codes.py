"""Research codes first seen in a trial become drugs.

A sponsor registers a trial of ``HS-20093`` long before any dictionary (UNII, DrugBank) knows
the compound; for a pipeline tracker that is exactly the moment it matters. So an investigational
drug intervention that the resolver cannot place, and whose name (or one of its other names) is a
research code, becomes a dictionary entry of its own:

- id: ``drug_id("ctgov-code:" + normalized code)``, so every trial naming the code (``HS-20093``,
  ``HS20093``) links to the same drug, on every backend and after every rebuild;
- names: the code as written (alias type ``code``), every spelling trials use for it;
- provenance: ClinicalTrials.gov, the first trial (lowest NCT id) naming it, that trial's date;
- modality: unknown (a trial record does not say), with the rule naming the trial.

When a later dictionary release gives the code to a known drug, the dictionary rebuild no longer
produces the trial-born entry (it is retired) and the trials naming it are relinked to the real
drug (``retired_links``).

A research code is 2–6 capital letters, an optional dash or space, an optional letter, 2–7 digits,
optionally a dashed number and up to two trailing letters: ``MK-3475``, ``BGB-A317``, ``AZD9291``,
``APL 400-003``, ``MK-7684A``. Prefixes that name diseases, genes, targets or trial parts are not
codes (``COVID-19``, ``IL-12``, ``CD19``, ``HER2``, ``DAY 28``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import orjson
from sqlalchemy import Connection, select

from drugradar.dictionary.ids import drug_id
from drugradar.resolve.normalize import norm_key
from drugradar.store.schema import trial, trial_intervention

SOURCE = "ctgov"
MATCH_KIND = "new_code"
ANCHOR = "ctgov-code:"

_CODE = re.compile(r"^([A-Z]{2,6})[- ]?[A-Z]?\d{2,7}(?:-\d{1,4})?[A-Za-z]{0,2}$")
_NOT_CODE_WORDS = """COVID SARS MERS HIV HPV HBV HCV HSV CMV EBV RSV HTLV IL CD TNF HLA HER
    EGFR VEGF VEGFR PD PDL CTLA FGFR CYP UGT ABCB TLR DAY DAYS WEEK WEEKS MONTH STAGE GRADE
    PHASE TYPE ARM COHORT
    PART DOSE LEVEL GROUP STEP VIT VITAMIN ICD MRI PET CT UV NO"""
_NOT_CODES = frozenset(_NOT_CODE_WORDS.split())


def is_research_code(name: str) -> bool:
    m = _CODE.match(name.strip())
    return m is not None and m.group(1) not in _NOT_CODES


@dataclass(slots=True)
class CodeDrug:
    """One trial-born drug: its id, the code names it was seen under, its first trial."""

    id: str
    names: dict[str, int] = field(default_factory=dict)  # spelling -> times seen
    nct_id: str = ""
    source_date: date | None = None

    @property
    def preferred(self) -> str:
        return sorted(self.names.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def code_names(names: Iterable[str]) -> list[str]:
    """The names of one intervention that are research codes, in order, without repeats."""
    return list(dict.fromkeys(n.strip() for n in names if is_research_code(n)))


def group(
    seen: Iterable[tuple[list[str], str, date | None]], known_keys: set[str]
) -> dict[str, CodeDrug]:
    """Trial-born drugs from ``(code names of one intervention, nct id, trial date)``, keyed by
    normalized code.

    An intervention's first code name is its drug (``HS-20093`` and ``HS20093`` are one drug);
    its other code names are not merged into it, so that the result does not depend on the order
    trials are read in. A code the dictionary already knows (``known_keys``) is not a new drug.
    """
    by_key: dict[str, CodeDrug] = {}
    for names, nct, when in seen:
        name = names[0]
        key = norm_key(name)
        if not key or key in known_keys:
            continue
        drug = by_key.get(key)
        if drug is None:
            drug = by_key[key] = CodeDrug(drug_id(ANCHOR + key))
        drug.names[name] = drug.names.get(name, 0) + 1
        if not drug.nct_id or nct < drug.nct_id:
            drug.nct_id, drug.source_date = nct, when
    return by_key


Row = dict[str, object]


def rows(drugs: Iterable[CodeDrug], licence: str) -> tuple[list[Row], list[Row]]:
    """``(drug rows, synonym rows)`` for the dictionary tables."""
    drug_rows: list[Row] = []
    syn_rows: list[Row] = []
    done: set[str] = set()
    for d in drugs:
        if d.id in done:
            continue
        done.add(d.id)
        prov = {
            "source": SOURCE,
            "source_record_id": d.nct_id,
            "source_date": d.source_date,
            "licence": licence,
        }
        drug_rows.append(
            {
                "id": d.id,
                "preferred_name": d.preferred[:400],
                "modality": "unknown",
                "modality_rule": f"research code first seen in trial {d.nct_id}"[:200],
                "retired": False,
                **prov,
            }
        )
        for name in sorted(d.names):
            syn_rows.append(
                {
                    "drug_id": d.id,
                    "name": name[:1000],
                    "norm_key": norm_key(name)[:1000],
                    "head_key": None,
                    "alias_type": "code",
                    "form": None,
                    "combination": False,
                    **prov,
                }
            )
    return drug_rows, syn_rows


def from_trials(
    conn: Connection, known_keys: set[str], licence: str
) -> tuple[list[Row], list[Row]]:
    """The trial-born drugs of the stored trials, for a dictionary rebuild: every drug
    intervention's code names that ``known_keys`` (the rebuilt dictionary) does not know."""
    ti, t = trial_intervention.c, trial.c
    found = conn.execute(
        select(ti.name, ti.other_names, ti.nct_id, t.source_date)
        .join(trial, t.nct_id == ti.nct_id)
        .where(
            ti.role.in_(("investigational", "comparator", "background")),
            ti.type.is_not(None),
            ti.type.not_in(("OTHER", "DIETARY_SUPPLEMENT")),
        )
        .order_by(ti.nct_id, ti.position)
    )
    seen = []
    for r in found:
        names = code_names([r.name, *orjson.loads(r.other_names or "[]")])
        if names:
            seen.append((names, r.nct_id, r.source_date))
    return rows(group(seen, known_keys).values(), licence)
