"""Per-source rules that turn two versions of a source record into typed ``Change`` drafts.

A rule is a function ``(ctx, record_id, old, new) -> list[Change]``: ``old`` is None when the
record is first seen, ``new`` is None when it left a source that gives full snapshots. Rules are
pure (no database) and declare their noise: fields that change without meaning never make an
event. A source without a rule makes no events (its field history stays in ``record_change``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from drugradar.model.event import Change

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule knows about the observation.

    ``baseline``: the source's first release; it records state and raises no "changed" events.
    ``as_of``: the snapshot's date. ``window_days``: how recent a dated fact (a first posting, an
    approval) must be, before ``as_of``, to be news when its record is first seen.
    """

    source: str
    as_of: date
    baseline: bool
    window_days: int = 30
    since: date | None = None  # a snapshot source's previous release: what is dated after it is new
    reappeared: bool = False  # the record is back in a series' snapshot after leaving it

    def recent(self, when: date | None) -> bool:
        """Whether a date the record states is news: within the window before ``as_of``, or,
        for a source of full snapshots, after its previous snapshot (what happened between two
        snapshots months apart is news when the second one shows it)."""
        if when is None:
            return False
        if self.since is not None and when > self.since:
            return True
        return 0 <= (self.as_of - when).days <= self.window_days


Rule = Callable[[Context, str, JSON | None, JSON | None], list[Change]]

_RULES: dict[str, Rule] = {}


def register(*sources: str) -> Callable[[Rule], Rule]:
    """Decorator: ``rule`` makes the events of ``sources``."""

    def deco(rule: Rule) -> Rule:
        for s in sources:
            _RULES[s] = rule
        return rule

    return deco


def rule_for(source: str) -> Rule | None:
    _load_all()
    return _RULES.get(source)


_LOADED: list[bool] = []


def _load_all() -> None:
    """Import the rule modules once (each registers itself)."""
    if _LOADED:
        return
    import importlib

    for name in RULE_MODULES:
        importlib.import_module(f"drugradar.track.rules.{name}")
    _LOADED.append(True)


RULE_MODULES = ("ctgov", "fda", "ema", "labels", "drugcentral", "atc")
