"""ANSM thesaurus: the French national reference of drug interactions (text in French).

Layout: ``ansm_thesaurus/<YYYY_MM>/`` holds one release: the thesaurus (a JSON array, name with
``thesaurus``, often ``.json.gz``) and its index of substances (JSON array, name with
``substances``); ``ansm_thesaurus/mappings/`` holds ``rxnorm_mappings.tsv`` and
``wikidata_mappings.tsv`` (``substance<TAB>id``, ``NA`` when none; a substance may have several
ids), read with every release. Release date from the folder name: ``2016_01`` -> 2016-01-01
(the files' own names sometimes say otherwise: ``2020_01`` holds "…-20102020.json").
Live: https://ansm.sante.fr/documents/reference/thesaurus-des-interactions-medicamenteuses-1

Thesaurus item: ``main_drug``, ``plus_drug`` (a substance, a class such as "ANTICOAGULANTS
ORAUX", or something else: "ALCOOL (BOISSON OU EXCIPIENT)"), ``severity_levels`` (``[{level,
info}]``: several when the level depends on dose or form; ``info`` is the advice),
``interaction_mechanism``, ``description`` (the full text: levels, advice, mechanism), and
``between_main_and_plus_drug`` (the "Voir aussi" note of the main drug's section: dropped).
Every interaction is printed twice, under each of its drugs: both are merged.
Index item: ``{substance, drug_classes: [class, ...]}``.

Class expansion: a thesaurus name that is a class of the index (compared lower-case without
accents) stands for every substance the index puts in that class (plus the substance of the
same name, if any: "insuline"); a name that is an index substance stands for itself; any other
name (alcohol, grapefruit juice, "médicaments administrés par voie orale") is kept as written.
So one record per pair of SUBSTANCES (index spelling), or of a kept name. A substance pair can
get several statements (its own and its classes'): all are kept, the strongest gives ``level``.
Pairs of a substance with itself (a class against "autres <class>") are left out.

Several levels: a statement may give several levels with conditions (dose, form, particular
substances). When the advice of a level names index substances ("Association déconseillée:
avec l'oxybate de sodium"), that level applies only to pairs holding one of them; the others
apply to every pair; the strongest that applies gives the pair's level (``conditional: true``).

Record: ``record_id`` = ``"<a>|<b>"``, names lower-case with accents folded, sorted;
``data``: ``drug_a``, ``drug_b`` (index spelling, else thesaurus spelling), ``ids_a``/``ids_b``
(``{"rxnorm": [...], "wikidata": [...]}`` from the mappings), then from the strongest
statement: ``severity`` (its verbatim level), ``level`` (see ``ddi``), ``conditional``,
``mechanism``, ``management`` (the advice of its levels that apply), ``text`` (its full
description); ``lang`` ``"fr"``; and ``statements``: every statement on the pair, sorted:
``{stated_a, stated_b (thesaurus names, verbatim, on the side of drug_a / drug_b),
severity_levels: [{level, info}] (verbatim, source order), level, conditional, mechanism}``.
Texts have their line-wrapping undone and the page footer some extractions kept
("Thésaurus des interactions médicamenteuses") removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec
from drugradar.sources.ddi import (
    LEVEL_RANK,
    Release,
    ansm_level,
    clean_text,
    ids_dict,
    json_array_items,
    norm_name,
    pair_key,
    read_text,
    subfolder,
    text_lines,
)

_FOLDER_DATE = re.compile(r"^(\d{4})_(\d{2})$")
MAPPINGS = {"rxnorm": "rxnorm_mappings.tsv", "wikidata": "wikidata_mappings.tsv"}


def folder_date(name: str) -> date | None:
    """``'2016_08'`` -> 2016-08-01 (ANSM release folders are named ``YYYY_MM``)."""
    m = _FOLDER_DATE.match(name)
    if not m or not 1 <= int(m.group(2)) <= 12:
        return None
    return date(int(m.group(1)), int(m.group(2)), 1)


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if "thesaurus" in name:
        return "thesaurus"
    if "substances" in name:
        return "index"
    for kind, fname in MAPPINGS.items():
        if name == fname:
            return kind
    return None


def _fold(name: str) -> str:
    return norm_name(name, fold=True)


class _Index:
    """The substances of the index, the members of each class, and their external ids."""

    def __init__(self) -> None:
        self.substances: dict[str, str] = {}  # folded -> index spelling
        self.members: dict[str, set[str]] = {}  # folded class -> folded substances
        self.ids: dict[str, dict[str, set[str]]] = {}  # folded substance -> kind -> ids
        self._names: re.Pattern[str] | None = None
        self._alias: dict[str, str] = {}

    def named(self, info: str | None) -> set[str]:
        """The substances (folded) an advice text names: "avec l'oxybate de sodium"."""
        if not info or not self.substances:
            return set()
        if self._names is None:
            for sub in self.substances:
                for alias in _aliases(sub):
                    self._alias.setdefault(alias, sub)
            alts = "|".join(re.escape(a) for a in sorted(self._alias, key=len, reverse=True))
            self._names = re.compile(rf"(?<!\w)({alts})(?!\w)")
        return {self._alias[m.group(1)] for m in self._names.finditer(_fold(info))}

    def parties(self, stated: str) -> list[tuple[str, str]]:
        """``[(folded, display)]`` of the substances a thesaurus name stands for."""
        f = _fold(stated)
        found = set(self.members.get(f, ()))
        if f in self.substances:
            found.add(f)
        if not found:
            return [(f, clean_text(stated) or stated)]
        return sorted((s, self.substances[s]) for s in found)


_INVERTED = re.compile(r"^(.+?) \(\s*(.+?(?: de|d'))\s*\)$")


def _aliases(folded: str) -> list[str]:
    """How a text may name an index substance: ``'sodium (oxybate de)'`` is also ``'oxybate de
    sodium'``; names shorter than 3 letters ("or", gold) are French words, not matched."""
    out = [folded]
    m = _INVERTED.match(folded)
    if m:
        sep = "" if m.group(2).endswith("'") else " "
        out.append(f"{m.group(2)}{sep}{m.group(1)}")
    return [a for a in out if len(a) >= 3]


def _json_items(path: Path) -> Iterator[tuple[int | None, Any, str | None]]:
    """The items of a JSON-array file (see ``ddi.json_array_items``); unreadable file: error."""
    try:
        text = read_text(path)
    except UnicodeDecodeError:
        yield None, None, "file is not valid UTF-8"
        return
    except (OSError, EOFError) as exc:
        yield None, None, f"file cannot be read: {exc}"
        return
    yield from json_array_items(text)


def _read_index(path: Path, index: _Index) -> Iterator[Rejected]:
    for line, item, error in _json_items(path):
        if error:
            yield Rejected(path.name, line, error)
            return
        sub = item.get("substance") if isinstance(item, dict) else None
        if not isinstance(sub, str) or not sub.strip():
            yield Rejected(path.name, line, "missing or empty substance", field="substance")
            continue
        classes = item.get("drug_classes", [])
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
            yield Rejected(
                path.name, line, "drug_classes is not a list of names", field="drug_classes"
            )
            continue
        f = _fold(sub)
        index.substances[f] = sub.strip()
        for c in classes:
            index.members.setdefault(_fold(c), set()).add(f)


def _read_mapping(path: Path, kind: str, index: _Index) -> Iterator[Rejected]:
    for n, text, raw in text_lines(path):
        if text is None:
            yield Rejected(
                path.name, n, "line is not valid UTF-8", raw=raw.decode("utf-8", "replace")
            )
            continue
        if n == 1 or not text.strip():
            continue
        cols = text.split("\t")
        if len(cols) != 2:
            yield Rejected(path.name, n, f"expected 2 tab-separated columns, found {len(cols)}")
            continue
        sub, ident = cols[0].strip(), cols[1].strip()
        if sub and ident and ident != "NA":
            index.ids.setdefault(_fold(sub), {}).setdefault(kind, set()).add(ident)


_FOOTER = re.compile(
    r"\s*(Thésaurus des interactions médicamenteuses|Interactions médicamenteuses - Thésaurus)\s*$"
)


def _text(value: Any) -> str | None:
    """Source text, line-wrapping undone, without the page footer some extractions kept."""
    if not isinstance(value, str):
        return None
    return clean_text(_FOOTER.sub("", value))


def _statement(item: Any) -> tuple[dict[str, Any] | None, str, str]:
    """``(statement, field, reason)``: the statement of one item, or why it is unusable."""
    if not isinstance(item, dict):
        return None, "", "item is not a JSON object"
    for col in ("main_drug", "plus_drug"):
        if not isinstance(item.get(col), str) or not item[col].strip():
            return None, col, f"missing or empty {col}"
    levels = item.get("severity_levels")
    if not isinstance(levels, list) or not levels:
        return None, "severity_levels", "missing or empty severity_levels"
    out_levels, norms = [], []
    for lv in levels:
        label = lv.get("level") if isinstance(lv, dict) else None
        norm = ansm_level(label) if isinstance(label, str) else None
        if norm is None:
            return None, "severity_levels.level", f"unknown severity level {label!r}"
        out_levels.append({"level": label, "info": _text(lv.get("info"))})
        norms.append(norm)
    st = {
        "main": item["main_drug"].strip(),
        "plus": item["plus_drug"].strip(),
        "severity_levels": out_levels,
        "norms": norms,
        "mechanism": _text(item.get("interaction_mechanism")),
        "text": _text(item.get("description")),
    }
    return st, "", ""


def _levels_for(st: dict[str, Any], named: list[set[str]], fa: str, fb: str) -> list[int]:
    """The positions of the statement's levels that apply to the pair ``fa``/``fb``.

    When a statement has several levels and the advice of one names particular substances
    ("association déconseillée avec l'oxybate de sodium"), that level applies only to pairs
    holding one of them; levels naming none apply to all. If that leaves nothing, all levels
    apply (the strongest wins: conservative).
    """
    every = list(range(len(named)))
    fit = [i for i in every if not named[i] or fa in named[i] or fb in named[i]]
    return fit or every


def _top(statements: list[dict[str, Any]]) -> dict[str, Any]:
    """The strongest statement (first in sorted order among equals)."""
    return min(statements, key=lambda s: LEVEL_RANK[s["level"]])


def _sort_key(st: dict[str, Any]) -> bytes:
    return orjson.dumps(st, option=orjson.OPT_SORT_KEYS)


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per substance pair of one thesaurus release (classes expanded)."""
    index = _Index()
    thesauri: list[Path] = []
    for path in sorted(paths, key=lambda p: p.name):
        kind = _kind(path)
        if kind == "index":
            yield from _read_index(path, index)
        elif kind in MAPPINGS:
            yield from _read_mapping(path, kind, index)
        elif kind == "thesaurus":
            thesauri.append(path)
        else:
            yield Rejected(path.name, None, "not an ANSM thesaurus, index or mapping file")
    pairs: dict[str, dict[str, Any]] = {}
    for path in thesauri:
        for line, item, error in _json_items(path):
            if error:
                yield Rejected(path.name, line, error)
                break
            st, field, reason = _statement(item)
            if st is None:
                yield Rejected(path.name, line, reason, field=field or None, raw=str(item)[:2000])
                continue
            if _fold(st["main"]) == _fold(st["plus"]):
                yield Rejected(
                    path.name, line, "main_drug and plus_drug are the same", field="plus_drug"
                )
                continue
            _expand(st, index, pairs)
    for key, rec in pairs.items():
        yield Record(key, _record_data(rec, index))


_STATEMENT_KEYS = ("stated_a", "stated_b", "severity_levels", "level", "conditional", "mechanism")


def _record_data(rec: dict[str, Any], index: _Index) -> dict[str, Any]:
    statements = []
    for (_, body_key), seen in rec["statements"].items():
        sa, sb = min(seen["sides"])  # a statement may fit the pair both ways round: pick one
        body = orjson.loads(body_key)
        statements.append({"stated_a": sa, "stated_b": sb, **body, "text": min(seen["texts"])})
    statements.sort(key=_sort_key)
    top = _top(statements)
    return {
        "drug_a": rec["drug_a"],
        "drug_b": rec["drug_b"],
        "ids_a": ids_dict(index.ids.get(rec["fa"], {})),
        "ids_b": ids_dict(index.ids.get(rec["fb"], {})),
        "severity": top["severity"],
        "level": top["level"],
        "conditional": top["conditional"],
        "mechanism": top["mechanism"],
        "management": top["management"],
        "text": top["text"] or None,
        "lang": "fr",
        "statements": [{k: v for k, v in s.items() if k in _STATEMENT_KEYS} for s in statements],
    }


def _expand(st: dict[str, Any], index: _Index, pairs: dict[str, dict[str, Any]]) -> None:
    """Add one thesaurus statement to every substance pair it covers.

    The thesaurus prints each interaction under both its drugs: the second printing lands on
    the same key and merges, unless its content differs (then both are kept).
    """
    mains, pluses = index.parties(st["main"]), index.parties(st["plus"])
    several = len(st["severity_levels"]) > 1  # only then can advice single out substances
    named = [index.named(lv["info"]) if several else set() for lv in st["severity_levels"]]
    stated = tuple(sorted((st["main"], st["plus"])))
    for fm, dm in mains:
        for fp, dp in pluses:
            if fm == fp:
                continue
            key, swapped = pair_key(fm, fp)
            fa, da, sa, fb, db, sb = (fm, dm, st["main"], fp, dp, st["plus"])
            if swapped:
                fa, da, sa, fb, db, sb = fb, db, sb, fa, da, sa
            fit = _levels_for(st, named, fa, fb)
            best = min(fit, key=lambda i: LEVEL_RANK[st["norms"][i]])
            advice = [st["severity_levels"][i]["info"] for i in fit]
            body = {
                "severity_levels": st["severity_levels"],
                "severity": st["severity_levels"][best]["level"],
                "level": st["norms"][best],
                "conditional": several,
                "management": " / ".join(a for a in advice if a) or None,
                "mechanism": st["mechanism"],
            }
            body_key = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
            rec = pairs.setdefault(
                key, {"drug_a": da, "drug_b": db, "fa": fa, "fb": fb, "statements": {}}
            )
            seen = rec["statements"].setdefault(
                (stated, body_key), {"sides": set(), "texts": set()}
            )
            seen["sides"].add((sa, sb))
            seen["texts"].add(st["text"] or "")


SPEC = SourceSpec(
    name="ansm_ddi",
    licence="ANSM public document; licence not stated, cite ANSM",
    title="ANSM thesaurus of drug interactions (France)",
    parse=parse,
)


def releases(folder: Path) -> list[Release]:
    """One release per ``YYYY_MM`` folder: its thesaurus and index, plus the shared mappings."""
    sub = subfolder(folder, "ansm_thesaurus")
    mappings = tuple(p for p in (sub / "mappings" / f for f in MAPPINGS.values()) if p.exists())
    out: list[Release] = []
    for d in sorted(p for p in sub.glob("*") if p.is_dir()):
        when = folder_date(d.name)
        files = tuple(sorted(p for p in d.iterdir() if _kind(p) in ("thesaurus", "index")))
        if when and files:
            out.append((SPEC, d.name, files + mappings, when))
    return sorted(out, key=lambda r: r[3])
