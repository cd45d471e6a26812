"""Salt and hydrate forms: ``niraparib tosylate`` and ``imatinib mesylate`` are forms of a parent.

The rule is on words: drop trailing counter-ion, hydrate and stereo-descriptor words (and their
multiplier prefixes, ``dihydrochloride``, ``sesquihydrate``); what is left is the parent's name if a
substance has that name. The words are INN/USAN "modified INN" vocabulary (INN's list of salts,
esters and hydrates, British and US spellings), not a list of drugs.
"""

from __future__ import annotations

import re

from drugradar.resolve.normalize import words

_ANIONS = """
acetate acetonide adipate aspartate benzoate besylate besilate bicarbonate bisulfate bitartrate
bromide butyrate camsylate camsilate carbonate chloride citrate cypionate decanoate diacetate
dimesylate disodium dipropionate edisylate edisilate enanthate esylate esilate estolate ethanolamine
fumarate gluceptate gluconate glucuronate glutamate hemifumarate hemisulfate hemitartrate
hexanoate hippurate hyclate hydrobromide hydrochloride hydroiodide hydrogen iodide isethionate
lactate lactobionate laurate lysine malate maleate mandelate meglumine mesylate mesilate
methylsulfate methylbromide monosodium napadisylate napsylate napsilate nitrate oleate orotate
oxalate palmitate pamoate pentahydrate phosphate propionate salicylate sodium potassium calcium
magnesium lithium zinc aluminum aluminium ammonium stearate succinate sulfate sulphate tannate
tartrate teoclate tosylate tosilate triethylamine trifluoroacetate trihydrate tromethamine
undecylenate valerate xinafoate hcl hbr monohydrochloride dihydrochloride trihydrochloride
monohydrate dihydrate hemihydrate sesquihydrate tetrahydrate hexahydrate heptahydrate hydrate
anhydrous solvate monoammonium diammonium dipotassium tripotassium trisodium tetrasodium
monopotassium dimeglumine olamine diolamine erbumine arginine benzathine procaine
""".split()  # noqa: SIM905
_QUALIFIERS = frozenset(
    "mono di tri tetra hemi sesqui hydrogen anhydrous form crystalline amorphous".split()  # noqa: SIM905
)
SALT_WORDS = frozenset(_ANIONS)
# Inorganic ions: "sodium chloride", "lithium carbonate" are drugs of their own, not forms of
# sodium or carbonate; an organic counter-ion left alone (procaine, arginine) is a real parent.
_INORGANIC = frozenset(
    """
sodium potassium calcium magnesium lithium zinc aluminum aluminium ammonium hydrogen chloride
bromide iodide carbonate bicarbonate phosphate sulfate sulphate nitrate acetate citrate hydrate
""".split()  # noqa: SIM905
)
_STEREO = re.compile(r"^(?:[rsdl]|dl|rs|cis|trans|e|z)$")


def strip_salt(name: str) -> tuple[str, list[str]] | None:
    """``'Niraparib Tosylate Monohydrate'`` -> ``('niraparib', ['tosylate', 'monohydrate'])``.

    ``None`` when the name has no salt words, or is nothing but salt words (sodium chloride).
    Only trailing words are stripped: ``sodium`` in ``sodium oxybate`` is the drug, not a salt.
    """
    toks = words(name)
    stripped: list[str] = []
    while len(toks) > 1 and (toks[-1] in SALT_WORDS or toks[-1] in _QUALIFIERS):
        stripped.append(toks.pop())
    if not stripped or not any(t in SALT_WORDS for t in stripped):
        return None
    if all(t in _INORGANIC for t in toks):
        return None
    if _STEREO.match(toks[-1]) and len(toks) > 1:
        return None
    return " ".join(toks), list(reversed(stripped))


def parent_names(name: str) -> list[str]:
    """Names the parent of a salt may have: the stripped name, and for ``-ate`` anions of acids
    the acid (``valproate sodium`` -> ``valproate``, ``valproic acid``)."""
    stripped = strip_salt(name)
    if not stripped:
        return []
    base = stripped[0]
    out = [base]
    if base.endswith("ate") and " " not in base:
        out.append(base[:-3] + "ic acid")
    return out
