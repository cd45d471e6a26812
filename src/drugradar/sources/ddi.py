"""Drug–drug interactions: the record shape every DDI source shares, our severity scale, helpers.

Sources (one module each, all under ``../shared/data/ddi``): ``ddinter`` (DDInter),
``ansm`` (French ANSM thesaurus), ``onc_ddi`` (ONC high-priority and non-interruptive lists),
``merged_pddi`` (the merged PDDI dataset of 14 sources), ``drugbank_ddi`` (DrugBank 4 pairs),
``credible_meds`` (CredibleMeds 2017 list). ``releases(folder)`` here lists them all (folder:
the ``ddi`` folder). Release dates: ANSM from its ``YYYY_MM`` folder (``2016_01`` ->
2016-01-01); CredibleMeds from the ``MMDDYYYY`` in its name; the others carry no date in their
names, so: DDInter 2022-01-01 (DDInter 1.0, NAR 2022), ONC lists 2014-07-01 and DrugBank 4
2014-06-15 (retrieval dates of ``public_pddi/README.txt``), merged PDDI 2017-01-01 (after its
newest documented retrieval, 2016-12-17).

Record shape, one record per unordered drug pair:

- ``record_id``: ``"<a>|<b>"``, the two drug names normalised by ``norm_name`` (NFKC,
  lower-case, runs of white space made one space, stripped; ANSM also folds accents) and sorted,
  e.g. ``"abacavir|lamivudine"``. A source listing a pair several times (both orders, several
  files, several statements) gives ONE record that merges them, never two.
- ``data`` always holds:
  ``drug_a``, ``drug_b``: the names as the source writes them, in the order of the key;
  ``ids_a``, ``ids_b``: ``{kind: [id, ...]}`` source identifiers of each drug (kinds:
  ``ddinter``, ``drugbank``, ``rxnorm``, ``wikidata``), ``{}`` when the source gives none;
  ``severity``: the source's own severity wording, verbatim (``None`` when it has none);
  ``level``: that severity on our scale (``LEVELS``).
  Optional, when the source has them: ``mechanism``, ``management``, ``text`` (free text in the
  source's language), ``lang`` (``"en"``/``"fr"``), ``statements`` (ANSM) or ``sources_detail``
  (merged PDDI: one entry per original-source statement); see each module's docstring.
  Lists are sorted; ids lists are sorted and de-duplicated.

Our scale, strongest first: ``contraindicated`` > ``major`` > ``moderate`` > ``minor`` >
``unknown``. A record merging several statements takes the strongest. Mappings:

- DDInter ``Level``: Major -> major, Moderate -> moderate, Minor -> minor, Unknown -> unknown.
- ANSM (French thesaurus, ``niveau``): "CONTRE-INDICATION" -> contraindicated (must never be
  combined); "Association DECONSEILLEE" -> major (to be avoided unless the benefit/risk is
  re-assessed: the usual "avoid combination" of major); "Précaution d'emploi" -> moderate
  (may be combined with a stated precaution: dose adjustment, monitoring); "A prendre en compte"
  (also written "Il convient de prendre en compte") -> minor (a risk to keep in mind, mostly
  additive side effects, with no specific action). Merged-PDDI abbreviations CI/AD/PE/PC and the
  English test translation ("Contraindication", "Not recommended", "Precaution for use", "Take
  into account", with their typos) map the same way.
- ONC high-priority list -> major (Phansalkar 2012: high severity, the alert must interrupt).
- ONC non-interruptive list -> moderate (Phansalkar 2013: real interactions whose alert should
  not interrupt). Chosen over "minor" because it does not understate them: of these pairs that
  DDInter also rates, 302 are Moderate, 75 Minor, 66 Unknown, 3 Major.
- NDF-RT (merged PDDI): Critical -> major, Significant -> moderate.
- OSCAR/Drugref significance (merged PDDI; 1 lowest, 3 highest): 3 -> major, 2 -> moderate,
  1 -> minor, blank -> unknown.
- KEGG (merged PDDI): contraindication flag -> contraindicated, precaution flag -> moderate.
- CredibleMeds ``Options``: "Usually Avoid" -> major, "Take Precautions" -> moderate.
- Sources without severity (DrugBank, HIV/HEP Liverpool rows as merged, the text corpora)
  -> unknown.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from drugradar.sources.base import SourceSpec

Release = tuple[SourceSpec, str, tuple[Path, ...], date]

LEVELS = ("contraindicated", "major", "moderate", "minor", "unknown")
LEVEL_RANK = {lvl: i for i, lvl in enumerate(LEVELS)}  # 0 = strongest

DDINTER_LEVELS = {"Major": "major", "Moderate": "moderate", "Minor": "minor", "Unknown": "unknown"}
ANSM_LEVELS = {
    "contre-indication": "contraindicated",
    "association deconseillee": "major",
    "precaution d'emploi": "moderate",
    "a prendre en compte": "minor",
    "il convient de prendre en compte": "minor",
}
ONC_HIGH_PRIORITY_LEVEL = "major"
ONC_NON_INTERRUPTIVE_LEVEL = "moderate"

_WS = re.compile(r"\s+")
_DRUGBANK_ID = re.compile(r"^DB\d{5}$")


def strongest(levels: Iterable[str]) -> str:
    """The strongest level on our scale (``unknown`` when there is none)."""
    return min(levels, key=LEVEL_RANK.__getitem__, default="unknown")


def fold_accents(text: str) -> str:
    """``'défériprone'`` -> ``'deferiprone'``: ANSM spells one name with and without accents."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=1 << 16)  # a pair file names the same drugs thousands of times
def norm_name(name: str, *, fold: bool = False) -> str:
    """A drug name as used in record ids: NFKC, lower-case, single spaces, stripped."""
    text = unicodedata.normalize("NFKC", name)
    if fold:
        text = fold_accents(text)
    return _WS.sub(" ", text).strip().lower()


def clean_text(text: str | None) -> str | None:
    """Free text with its line-wrapping undone (runs of white space -> one space); '' -> None."""
    if text is None:
        return None
    out = _WS.sub(" ", text).strip()
    return out or None


def pair_key(a: str, b: str) -> tuple[str, bool]:
    """``(record_id, swapped)`` for two normalised names; ``swapped`` when ``b`` sorts first."""
    return (f"{b}|{a}", True) if b < a else (f"{a}|{b}", False)


def is_drugbank_id(value: str) -> bool:
    return bool(_DRUGBANK_ID.match(value))


def ansm_level(label: str) -> str | None:
    """ANSM wording (any case, with or without accents) -> our level; ``None`` when unknown."""
    return ANSM_LEVELS.get(norm_name(label, fold=True))


def ids_dict(ids: dict[str, set[str]]) -> dict[str, list[str]]:
    """``{kind: {ids}}`` -> ``{kind: sorted ids}`` without empty kinds."""
    return {k: sorted(v) for k, v in sorted(ids.items()) if v}


def open_binary(path: Path) -> io.BufferedIOBase:
    """The file's bytes, decompressed on the fly for ``.gz``, ``.bz2`` and ``.xz``."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    if path.suffix == ".bz2":
        return bz2.open(path, "rb")
    if path.suffix == ".xz":
        return lzma.open(path, "rb")
    return path.open("rb")


def text_lines(path: Path) -> Iterator[tuple[int, str | None, bytes]]:
    """``(line number, text or None when not UTF-8, raw bytes)``; BOM and CR/LF removed."""
    with open_binary(path) as fh:
        for n, raw in enumerate(fh, start=1):
            raw = raw.rstrip(b"\r\n")
            if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield n, raw.decode("utf-8"), raw
            except UnicodeDecodeError:
                yield n, None, raw


def split_csv(text: str, delimiter: str = ",") -> list[str] | None:
    """One CSV line's fields (quotes honoured), ``None`` when it is not valid CSV."""
    if '"' not in text:
        return text.split(delimiter)  # the common case, 10 times faster than csv
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=True))
    except (csv.Error, StopIteration):
        return None


def read_text(path: Path) -> str:
    """The whole file as text (UTF-8, BOM dropped); raises ``UnicodeDecodeError``."""
    with open_binary(path) as fh:
        return fh.read().decode("utf-8-sig")


def json_array_items(text: str) -> Iterator[tuple[int, Any, str | None]]:
    """``(line, item, None)`` for each item of a top-level JSON array, with the item's line.

    On malformed JSON yields one ``(line, None, error)`` and stops: the items before it stand.
    """
    dec = json.JSONDecoder()
    ws = " \t\r\n"
    i, n, line, pos = 0, len(text), 1, 0
    while i < n and text[i] in ws:
        i += 1
    if i >= n or text[i] != "[":
        yield 1, None, "file is not a JSON array"
        return
    i += 1
    while True:
        while i < n and text[i] in ws:
            i += 1
        line += text.count("\n", pos, i)
        pos = i
        if i < n and text[i] == "]":
            return
        try:
            item, end = dec.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            yield exc.lineno, None, f"malformed JSON: {exc.msg}"
            return
        yield line, item, None
        i = end
        while i < n and text[i] in ws:
            i += 1
        if i < n and text[i] == ",":
            i += 1
        elif i < n and text[i] == "]":
            return
        else:
            line += text.count("\n", pos, i)
            yield line, None, "malformed JSON: expected ',' or ']' after an item"
            return


def subfolder(folder: Path, name: str) -> Path:
    """``folder/name`` when ``folder`` is the ``ddi`` folder, ``folder`` when it is ``name``."""
    return folder if folder.name == name else folder / name


def releases(folder: Path) -> list[Release]:
    """Every release of every DDI source under the ``ddi`` folder, oldest first per source."""
    from drugradar.sources import (  # imported here: these modules import this one
        ansm,
        credible_meds,
        ddinter,
        drugbank_ddi,
        merged_pddi,
        onc_ddi,
    )

    out: list[Release] = []
    for mod in (ddinter, ansm, onc_ddi, merged_pddi, drugbank_ddi, credible_meds):
        out += mod.releases(folder)
    return out
