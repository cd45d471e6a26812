"""Resolve any name to drugs, saying which alias matched, of what type, with what score.

Steps, first that finds something wins:
1. exact: the query's normalized key equals an alias's key (score 100; a brand of a combination
   product that merely contains the drug scores 90);
2. salt: the query names a salt or hydrate form not in the dictionary; its parent's name matches
   (``pembrolizumab hydrochloride`` -> pembrolizumab; score 95);
3. combination: a combination product written as its components (``abacavir sulfate and
   lamivudine``, ``A; B``, ``A/B``, ``A w/ B``, ``Sulfamethoxazole-Trimethoprim``): every part
   resolves exactly, one match per part;
4. partial: a part of the query in parentheses, or the part outside them, matches exactly
   (``pembrolizumab (MK-3475)``), or the query is the first word of a multi-word official name
   (``talimogene`` -> talimogene laherparepvec); score 90;
5. fuzzy: rapidfuzz ratio against names (not codes or identifiers: a one-character change in a
   code is another compound), candidates blocked by their first/last letters and length;
   score = ratio, kept when >= the threshold (default 85);
6. words: the longest run of leading words that is a name (``pembrolizumab injection``,
   ``acetic acid 2%``; score 85), else of trailing words (``pegylated liposomal doxorubicin
   hydrochloride``; score 80).
Among exact matches, an alias written exactly as the query beats one equal only after
normalization (``E-3810`` vs ``E3810``), and official/INN names beat brands and codes, which beat
other names. Several drugs still level at the top make the answer ``ambiguous``; when nothing
matches, the answer gives the closest names.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Engine, select

from drugradar.model import ALIAS_RANK, AliasType
from drugradar.resolve import fuzzy
from drugradar.resolve.fuzzy import FUZZY_TYPES, FuzzyIndex
from drugradar.resolve.normalize import clean_display, norm_key, split_source_tag
from drugradar.resolve.salts import strip_salt
from drugradar.store.schema import drug, synonym

TRIAL_SOURCE = "ctgov"  # names of drugs first seen in a trial
MEMO_LIMIT = 200_000  # names a bulk resolver remembers
EXACT, SALT, PARTIAL, COMBINATION, FUZZY = "exact", "salt", "partial", "combination", "fuzzy"
PREFIX_TYPES = {"official", "inn", "brand", "common", "salt"}
_COMBO_SPLIT = re.compile(r"\s*(?:;|\+|/|,?\s+and\s+|\s+with\s+|\s+w/\s*|,)\s*", re.IGNORECASE)
# two or more words of letters joined by hyphens; codes (MK-3475) and short prefixes stay whole
_HYPHENATED = re.compile(r"^[A-Za-z]{4,}(?:-[A-Za-z]{4,})+$")
_TIER = {"official": 0, "inn": 0, "brand": 1, "code": 1}  # everything else: 2
_PARENS = re.compile(r"[()\[\]]")


@dataclass(frozen=True, slots=True)
class Match:
    drug_id: str
    preferred_name: str
    matched_alias: str
    alias_type: str
    score: float
    source: str
    match_kind: str  # exact, salt, fuzzy
    salt_form: str | None = None  # the UNII of the salt form the alias belongs to


@dataclass(slots=True)
class Resolution:
    query: str
    matches: list[Match] = field(default_factory=list)
    ambiguous: bool = False
    combination: bool = False  # the query names several drugs, each a match
    closest: list[str] = field(default_factory=list)

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    @property
    def message(self) -> str:
        if self.matches:
            b = self.matches[0]
            how = f"{b.match_kind} match on {b.alias_type} alias '{b.matched_alias}'"
            if self.combination:
                parts = " + ".join(f"{m.preferred_name} ({m.drug_id})" for m in self.matches)
                return f"'{self.query}' -> combination of {parts}"
            head = f"'{self.query}' -> {b.preferred_name} ({b.drug_id}), {how}, score {b.score:g}"
            return head + (f"; ambiguous: {len(self.matches)} candidates" if self.ambiguous else "")
        tail = f" Closest names: {', '.join(self.closest)}." if self.closest else ""
        return f"No drug matches '{self.query}'.{tail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "matches": [asdict(m) for m in self.matches],
            "ambiguous": self.ambiguous,
            "combination": self.combination,
            "closest": self.closest,
        }


@dataclass(frozen=True, slots=True)
class _Alias:
    drug_id: str
    name: str
    alias_type: str
    source: str
    form: str | None
    combination: bool
    preferred_name: str


class Resolver:
    """Resolve names against the dictionary in ``engine`` (one instance can serve many calls).

    Given a connection instead, it reads through it: a build that has just written the names
    in its own transaction resolves against them before they are committed."""

    def __init__(
        self,
        engine: Engine | Connection,
        *,
        threshold: float = 85.0,
        limit: int = 5,
        trial_born: bool = True,
        bulk: bool = False,
    ) -> None:
        """``trial_born=False`` leaves out drugs first seen in trials: trial linking finds those
        from the intervention's own names, so a link never depends on the order of loading.

        ``bulk``: a program linking many names (trial interventions) rather than a person's
        query: fuzzy search stays in the narrow blocks whatever the batch size, no closest names
        are looked for, and each name's resolution is remembered — a name resolves the same in
        any batch, and the second time costs nothing (the dictionary must not change meanwhile,
        which holds for a trial load: ``trial_born=False`` ignores the codes it adds)."""
        self.engine = engine
        self.trial_born = trial_born
        self.threshold = threshold
        self.limit = limit
        self.bulk = bulk
        self._fuzzy: FuzzyIndex | None = None
        self._memo: dict[tuple[str, bool], Resolution] = {}

    def _reading(self) -> AbstractContextManager[Connection]:
        if isinstance(self.engine, Connection):
            return nullcontext(self.engine)
        return self.engine.connect()

    # -- public ----------------------------------------------------------------------------
    def resolve(self, name: str) -> Resolution:
        return self.resolve_many([name])[0]

    def resolve_many(self, names: Sequence[str], *, fuzzy: bool = True) -> list[Resolution]:
        """Resolve a batch: exact keys in a few queries, fuzzy only for what is left (in bulk
        mode, only the names not resolved before; the results are shared, not to be changed)."""
        if not self.bulk:
            return self._resolve_many(names, fuzzy)
        memo = self._memo
        known = {n: memo[(n, fuzzy)] for n in names if (n, fuzzy) in memo}
        todo = sorted({n for n in names if n not in known})
        if todo:
            if len(memo) + len(todo) > MEMO_LIMIT:
                memo.clear()  # a whole registry's names: memory stays bounded
            for n, r in zip(todo, self._resolve_many(todo, fuzzy), strict=True):
                known[n] = memo[(n, fuzzy)] = r
        return [known[n] for n in names]

    def _resolve_many(self, names: Sequence[str], fuzzy: bool) -> list[Resolution]:
        keys = [norm_key(n) for n in names]
        found = self._aliases(set(k for k in keys if k), trial_born=self.trial_born)
        out: list[Resolution] = []
        pending: list[tuple[Resolution, str]] = []
        for name, key in zip(names, keys, strict=True):
            res = Resolution(query=name)
            if key in found:
                self._rank(res, name, [(a, EXACT, 100.0) for a in found[key]])
            else:
                pending.append((res, key))
            out.append(res)
        self._salt_step(pending)
        pending = [(res, key) for res, key in pending if not res.matches]
        self._combination_step(pending)
        pending = [(res, key) for res, key in pending if not res.matches]
        self._partial_step(pending)
        pending = [(res, key) for res, key in pending if not res.matches]
        if fuzzy:
            self._fuzzy_step(pending)
        self._prefix_step([(res, key) for res, key in pending if not res.matches])
        return out

    # -- steps -----------------------------------------------------------------------------
    def _aliases(
        self, keys: set[str], column: str = "norm_key", *, trial_born: bool = False
    ) -> dict[str, list[_Alias]]:
        """Aliases whose ``column`` (norm_key or head_key) is one of ``keys``, by key.

        Codes first seen in trials (``dictionary.trial_codes``) match only a whole name
        (``trial_born``, the exact step): were they parts of combinations or prefixes, how a
        trial links would depend on which trials happened to be loaded before it."""
        out: dict[str, list[_Alias]] = defaultdict(list)
        s = synonym.c
        col = s[column]
        stmt = select(
            col.label("k"),
            s.drug_id,
            s.name,
            s.alias_type,
            s.source,
            s.form,
            s.combination,
            drug.c.preferred_name,
        ).join(drug, drug.c.id == s.drug_id)
        if not trial_born:
            stmt = stmt.where(s.source != TRIAL_SOURCE)
        key_list = sorted(keys)
        with self._reading() as conn:
            for i in range(0, len(key_list), 500):
                batch = key_list[i : i + 500]
                for r in conn.execute(stmt.where(col.in_(batch))):
                    out[r.k].append(
                        _Alias(
                            r.drug_id,
                            r.name,
                            r.alias_type,
                            r.source,
                            r.form,
                            bool(r.combination),
                            r.preferred_name,
                        )
                    )
        return out

    def _salt_step(self, pending: list[tuple[Resolution, str]]) -> None:
        salt_keys: dict[int, str] = {}
        for i, (res, _) in enumerate(pending):
            stripped = strip_salt(res.query)
            if stripped:
                salt_keys[i] = norm_key(stripped[0])
        found = self._aliases(set(salt_keys.values())) if salt_keys else {}
        for i, skey in salt_keys.items():
            if skey in found:
                res = pending[i][0]
                self._rank(res, res.query, [(a, SALT, 95.0) for a in found[skey]])

    def _partial_step(self, pending: list[tuple[Resolution, str]]) -> None:
        parts: dict[int, list[str]] = {}
        for i, (res, _) in enumerate(pending):
            if _PARENS.search(res.query):
                keys = [norm_key(p) for p in _PARENS.split(res.query)]
                parts[i] = [k for k in keys if len(k) >= 3]
        found = self._aliases({k for ks in parts.values() for k in ks})
        for i, keys in parts.items():
            for k in keys:
                if k in found:
                    res = pending[i][0]
                    self._rank(res, res.query, [(a, PARTIAL, 90.0) for a in found[k]])
                    break
        heads = {key for res, key in pending if not res.matches and len(key) >= 5}
        by_head = self._aliases(heads, column="head_key") if heads else {}
        for res, key in pending:
            if not res.matches and key in by_head:
                self._rank(res, res.query, [(a, PARTIAL, 90.0) for a in by_head[key]])

    def _combination_step(self, pending: list[tuple[Resolution, str]]) -> None:
        parts_of: dict[int, list[str]] = {}
        for i, (res, _) in enumerate(pending):
            parts = [p.strip() for p in _COMBO_SPLIT.split(res.query) if p.strip()]
            if len(parts) < 2 and _HYPHENATED.match(res.query.strip()):
                parts = res.query.strip().split("-")  # "Sulfamethoxazole-Trimethoprim"
            if len(parts) >= 2:
                parts_of[i] = parts
        if not parts_of:
            return
        flat = sorted({p for ps in parts_of.values() for p in ps})
        sub = dict(zip(flat, self.resolve_many(flat, fuzzy=False), strict=True))
        for i, parts in parts_of.items():
            bests = [sub[p].best for p in parts]
            if not all(b is not None and b.match_kind in (EXACT, SALT) for b in bests):
                continue
            res = pending[i][0]
            seen: set[str] = set()
            for b in bests:
                assert b is not None
                if b.drug_id not in seen:
                    seen.add(b.drug_id)
                    res.matches.append(replace(b, match_kind=COMBINATION))
            res.combination = len(res.matches) > 1

    def _prefix_step(self, pending: list[tuple[Resolution, str]]) -> None:
        """The longest leading words that are a name (score 85), else the longest trailing
        words (score 80: ``pegylated liposomal doxorubicin hydrochloride``)."""
        runs: dict[int, list[tuple[str, float]]] = {}
        for i, (res, _) in enumerate(pending):
            toks = res.query.split()
            lead = [(norm_key(" ".join(toks[:k])), 85.0) for k in range(len(toks) - 1, 0, -1)]
            tail = [(norm_key(" ".join(toks[k:])), 80.0) for k in range(1, len(toks))]
            runs[i] = [(k, sc) for k, sc in lead + tail if len(k) >= 4]
        found = self._aliases({k for ks in runs.values() for k, _ in ks})
        for i, keys in runs.items():
            for k, score in keys:  # the longest first, leading before trailing
                hits = [a for a in found.get(k, []) if a.alias_type in PREFIX_TYPES]
                if hits:
                    res = pending[i][0]
                    self._rank(res, res.query, [(a, PARTIAL, score) for a in hits])
                    break

    def _rank(self, res: Resolution, query: str, hits: list[tuple[_Alias, str, float]]) -> None:
        """One match per drug (its best alias), best first; several drugs level at the top make
        the answer ambiguous."""
        per_drug: dict[str, list[tuple[_Alias, str, float]]] = defaultdict(list)
        for hit in hits:
            per_drug[hit[0].drug_id].append(hit)
        q = _literal(query)

        def alias_order(h: tuple[_Alias, str, float]) -> tuple[Any, ...]:
            a, _, score = h
            return (
                -self._score(a, score),
                _literal(a.name) != q,
                _TIER.get(a.alias_type, 2),
                a.form is not None,
                ALIAS_RANK[AliasType(a.alias_type)],
                a.name,
            )

        ranked = []
        for did, dh in per_drug.items():
            best = min(dh, key=alias_order)
            support = len({(h[0].source, h[0].name) for h in dh})
            ranked.append((alias_order(best)[:3], -support, did, best))
        ranked.sort(key=lambda t: (t[0], t[1], t[2]))
        for _, _, _, (a, kind, score) in ranked[: self.limit]:
            res.matches.append(
                Match(
                    a.drug_id,
                    a.preferred_name,
                    a.name,
                    a.alias_type,
                    self._score(a, score),
                    a.source,
                    kind,
                    a.form,
                )
            )
        if not ranked:
            return
        top = ranked[0][0]
        if kind_of(res) == FUZZY:
            res.ambiguous = sum(1 for m in res.matches if res.matches[0].score - m.score < 3) > 1
        else:
            res.ambiguous = sum(1 for t in ranked if t[0] == top) > 1

    @staticmethod
    def _score(a: _Alias, score: float) -> float:
        return min(score, 90.0) if a.combination else score

    def fuzzy_index(self) -> FuzzyIndex:
        """Built once per resolver (``resolve.fuzzy``: stored with the dictionary)."""
        if self._fuzzy is None:
            with self._reading() as conn:
                self._fuzzy = fuzzy.load(conn)
        return self._fuzzy

    def _fuzzy_step(self, pending: list[tuple[Resolution, str]]) -> None:
        """Search every unresolved key in memory, then fetch all hit aliases in one go."""
        todo = [(res, key) for res, key in pending if not res.matches and len(key) >= 4]
        if not todo:
            return
        index = self.fuzzy_index()
        wide = len(todo) <= 20 and not self.bulk  # a person's query: look wider
        hits = {
            key: index.search(key, self.threshold, self.limit * 2, wide=wide) for _, key in todo
        }
        near = {
            key: index.search(key, 60.0, self.limit, wide=wide)
            for _, key in todo
            if not hits[key] and not self.bulk  # closest names, for a person to choose from
        }
        wanted = {k for hs in (*hits.values(), *near.values()) for k, _ in hs}
        found = self._aliases(wanted)
        for res, key in todo:
            if hits[key]:
                scored = [
                    (a, FUZZY, round(score, 1))
                    for k, score in hits[key]
                    for a in found.get(k, [])
                    if a.alias_type in FUZZY_TYPES
                ]
                self._rank(res, res.query, scored)
                continue
            names: list[str] = []
            for k, _ in near.get(key, []):
                for a in found.get(k, [])[:1]:
                    label = (
                        f"{a.name} ({a.preferred_name})" if a.name != a.preferred_name else a.name
                    )
                    if label not in names:
                        names.append(label)
            res.closest = names


def kind_of(res: Resolution) -> str | None:
    return res.matches[0].match_kind if res.matches else None


def _literal(name: str) -> str:
    """The name as written, up to case, trademark signs and a source tag."""
    return clean_display(split_source_tag(name)[0]).lower()
