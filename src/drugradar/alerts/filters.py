"""A subscription's filters — which event families and types, how material, which channels —
as the rows the matcher joins on, and as a Python predicate for previews over stored events.

Semantics (both forms agree; a test holds them to it): no family and no type named: every event;
families named: events of those families; types named (``family.type``): events of those types;
both: either. Then the event's materiality must reach the subscription's minimum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from drugradar.model.event import MATERIALITY_RANK, Materiality
from drugradar.model.subscription import ChannelKind

ANY_FAMILY = ""  # subscription_key.family of a row that takes every event
WHOLE_FAMILY = ""  # subscription_key.type of a row that takes every type of its family
AT_ONCE = frozenset({ChannelKind.INBOX.value, ChannelKind.FEED.value})  # readable when matched


def channel_kinds(ch: dict[str, Any]) -> list[str]:
    """The channels a subscription's ``channels`` JSON turns on."""
    out = []
    if ch.get("emails"):
        out.append(ChannelKind.EMAIL.value)
    if ch.get("webhook_url"):
        out.append(ChannelKind.WEBHOOK.value)
    if ch.get("feed"):
        out.append(ChannelKind.FEED.value)
    if ch.get("inbox"):
        out.append(ChannelKind.INBOX.value)
    if ch.get("apprise_urls"):
        out.append(ChannelKind.APPRISE.value)
    return out


def floor_of(min_materiality: str, paused: bool, deleted: bool) -> int:
    """``subscription_key.floor``: the lowest materiality rank taken; 0 (nothing) when paused."""
    return 0 if paused or deleted else MATERIALITY_RANK[Materiality(min_materiality)]


def wanted_pairs(families: str, types: str) -> list[tuple[str, str]]:
    """(family, type) pairs from the JSON columns; ``("", "")`` for every event."""
    pairs = {(f, WHOLE_FAMILY) for f in orjson.loads(families)}
    pairs |= {(t.partition(".")[0], t.partition(".")[2]) for t in orjson.loads(types)}
    return sorted(pairs) or [(ANY_FAMILY, WHOLE_FAMILY)]


def key_rows(
    subscription_id: int,
    user_id: int,
    follows: Iterable[tuple[str, str]],
    families: str,
    types: str,
    floor: int,
) -> list[dict[str, Any]]:
    """``subscription_key`` rows: each followed (kind, ref) × each wanted (family, type)."""
    pairs = wanted_pairs(families, types)
    return [
        {
            "subscription_id": subscription_id,
            "kind": kind,
            "ref": ref,
            "family": f,
            "type": t,
            "user_id": user_id,
            "floor": floor,
        }
        for kind, ref in sorted(set(follows))
        for f, t in pairs
    ]


def channel_rows(subscription_id: int, channels: str) -> list[dict[str, Any]]:
    """``subscription_channel`` rows from the ``channels`` JSON column."""
    return [
        {"subscription_id": subscription_id, "channel": k}
        for k in channel_kinds(orjson.loads(channels))
    ]


@dataclass(frozen=True, slots=True)
class Wants:
    """A subscription's filters as a predicate (previews; the matcher does the same in SQL)."""

    families: frozenset[str]
    types: frozenset[str]
    floor: int

    @classmethod
    def of(cls, sub: Any) -> Wants:
        return cls(
            frozenset(orjson.loads(sub.families)),
            frozenset(orjson.loads(sub.types)),
            MATERIALITY_RANK[Materiality(sub.min_materiality)],
        )

    def accepts(self, family: str, type_: str, rank: int) -> bool:
        if self.families and family not in self.families and not self.types:
            return False
        if self.types and f"{family}.{type_}" not in self.types and family not in self.families:
            return False
        return rank >= self.floor


def wants(sub: Any, ev: Any) -> bool:
    """Would subscription row ``sub`` take event row ``ev``?"""
    return Wants.of(sub).accepts(ev.family, ev.type, MATERIALITY_RANK[Materiality(ev.materiality)])
