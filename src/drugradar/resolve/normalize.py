"""Name normalization: the one key every alias and every query is compared by.

Two names are "the same after normalization" when they differ only in case, punctuation, spaces,
accents, trademark signs, Greek letters written as symbols or words (α = alpha = alfa, INN style),
British spelling (sulphate = sulfate), or a trailing source tag such as ``[INN]`` or ``[WHO-DD]``
(UNII names carry those). Stereo descriptors ``(+)``, ``(-)``, ``(±)`` are kept, as words.
Spaces and hyphens are dropped entirely, so research codes match however they are written:
``MK-3475`` = ``MK3475`` = ``mk 3475``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

GREEK = {
    "α": "alfa",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "ζ": "zeta",
    "η": "eta",
    "θ": "theta",
    "ι": "iota",
    "κ": "kappa",
    "λ": "lambda",
    "μ": "mu",
    "ν": "nu",
    "ξ": "xi",
    "ο": "omicron",
    "π": "pi",
    "ρ": "rho",
    "σ": "sigma",
    "ς": "sigma",
    "τ": "tau",
    "υ": "upsilon",
    "φ": "phi",
    "χ": "chi",
    "ψ": "psi",
    "ω": "omega",
}
_TRADEMARKS = re.compile(r"[®™©℠]|\((?:R|TM|C)\)(?=\W|$)", re.IGNORECASE)
_SOURCE_TAG = re.compile(r"\s*\[([^\[\]]{1,40})\]\s*$")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_ALPHA = re.compile(r"alpha")
_SPACES = re.compile(r"\s+")
# Stereo descriptors tell substances apart ("(+)-HU-210" is not "HU-210"), so they stay, as words.
_STEREO = [
    (re.compile(r"\(\s*\+\s*\)"), " dextro "),
    (re.compile(r"\(\s*[-−]\s*\)"), " levo "),
    (re.compile(r"\(\s*(?:±|\+/-|\+-)\s*\)"), " racemic "),
]
_SULPH = re.compile(r"sulph")


def split_source_tag(name: str) -> tuple[str, list[str]]:
    """``'NIRAPARIB [INN] [JAN]'`` -> ``('NIRAPARIB', ['JAN', 'INN'])``: UNII's trailing tags."""
    tags: list[str] = []
    while True:
        m = _SOURCE_TAG.search(name)
        if not m or m.start() == 0:
            return name.strip(), tags
        tags.append(m.group(1).strip().upper())
        name = name[: m.start()]


def clean_display(name: str) -> str:
    """Trademark signs off, whitespace collapsed: the text shown to people."""
    return _SPACES.sub(" ", _TRADEMARKS.sub("", name)).strip()


@lru_cache(maxsize=200_000)
def norm_key(name: str) -> str:
    """The comparison key of a name (empty when the name has no letters or digits)."""
    text, _ = split_source_tag(_TRADEMARKS.sub(" ", name))
    if "(" in text:
        for pat, word in _STEREO:
            text = pat.sub(word, text)
    text = text.lower()
    if not text.isascii():  # Greek letters, accents: most names have neither
        text = "".join(GREEK.get(ch, ch) for ch in text)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _SULPH.sub("sulf", _ALPHA.sub("alfa", text))
    return _NON_ALNUM.sub("", text)


def words(name: str) -> list[str]:
    """Lower-case word tokens (letters, digits), for rules on words such as salt stripping."""
    text = unicodedata.normalize("NFKD", name.lower())
    return [w for w in re.split(r"[^a-z0-9]+", text) if w]


def head_key(name: str) -> str | None:
    """The key of a multi-word name's first word (``talimogene`` of ``talimogene laherparepvec``),
    for queries that give only the distinctive first word of an INN; ``None`` for one word."""
    base, _ = split_source_tag(name)
    parts = [w for w in re.split(r"[\s,]+", base.strip()) if w]
    if len(parts) < 2:
        return None
    key = norm_key(parts[0])
    return key if len(key) >= 5 else None
