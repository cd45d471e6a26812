"""Organization names: one key for the spellings of one company.

"Merck Sharp & Dohme LLC" = "Merck Sharp & Dohme Corp." = "MERCK SHARP AND DOHME": case,
punctuation, "&"/"and" and trailing legal forms (Inc., LLC, Ltd, GmbH, S.A., plc…) do not count.
Parent companies come from ``data/org_parents.csv``, extendable by a file of the same columns
named in ``DRUGRADAR_ORG_PARENTS``.
"""

from __future__ import annotations

import csv
import os
import re
import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path

LEGAL_FORMS = frozenset(
    """inc incorporated llc lp llp ltd limited corp corporation co company gmbh ag sa sas sarl
    spa srl plc bv nv kk ab as asa oy oyj pty pte pvt kg se the""".split()  # noqa: SIM905
)


PARENTS_ENV = "DRUGRADAR_ORG_PARENTS"  # a file of more parent-company rows


@lru_cache(maxsize=1 << 16)  # sponsors repeat across a registry's studies
def org_key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("&", " and ")
    text = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", text)  # S.A. -> SA, S.p.A. -> SpA
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w]
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    while len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(w for w in words if w != "and")


def _read_parents(text: str) -> dict[str, tuple[str, str]]:
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {org_key(r["organization"]): (org_key(r["parent"]), r["parent"].strip()) for r in rows}


@lru_cache(maxsize=4)
def parent_map(extra: str | None = None) -> dict[str, tuple[str, str]]:
    """Organization key -> (parent key, parent name): the packaged map, then ``extra``'s rows."""
    text = resources.files("drugradar").joinpath("data/org_parents.csv").read_text("utf-8")
    out = _read_parents(text)
    if extra:
        out.update(_read_parents(Path(extra).read_text("utf-8")))
    return out


def parent_of(name: str) -> tuple[str, str]:
    """``(key, name)`` of the organization's parent company, or of itself when none is known."""
    return _parent_of(name, os.environ.get(PARENTS_ENV))


@lru_cache(maxsize=1 << 16)
def _parent_of(name: str, extra: str | None) -> tuple[str, str]:
    """``parent_of`` for one setting of the parents file (part of the cache key)."""
    key = org_key(name)
    found = parent_map(extra).get(key)
    return found if found else (key, name)
