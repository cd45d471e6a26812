"""Organization names: one key for the spellings of one company.

"Merck Sharp & Dohme LLC" = "Merck Sharp & Dohme Corp." = "MERCK SHARP AND DOHME": case,
punctuation, "&"/"and" and trailing legal forms (Inc., LLC, Ltd, GmbH, S.A., plc…) do not count.
"""

from __future__ import annotations

import re
import unicodedata

LEGAL_FORMS = frozenset(
    """inc incorporated llc lp llp ltd limited corp corporation co company gmbh ag sa sas sarl
    spa srl plc bv nv kk ab as asa oy oyj pty pte pvt kg kgaa se the""".split()  # noqa: SIM905
)


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
