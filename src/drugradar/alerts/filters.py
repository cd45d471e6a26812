"""A subscription's filters — which event families and types, how material, which channels —
as the rows the matcher joins on, and as a Python predicate for previews over stored events.

Semantics (both forms agree; a test holds them to it): no family and no type named: every event;
families named: events of those families; types named (``family.type``): events of those types;
both: either. Then the event's materiality must reach the subscription's minimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from drugradar.model.event import MATERIALITY_RANK, Materiality
from drugradar.model.subscription import ChannelKind

WHOLE_FAMILY = ""  # subscription_want.type of a row that accepts every type of its family
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


def filter_rows(
    subscription_id: int, families: str, types: str, channels: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``subscription_want`` and ``subscription_channel`` rows from the JSON columns."""
    wants = {(f, WHOLE_FAMILY) for f in orjson.loads(families)}
    wants |= {(t.partition(".")[0], t.partition(".")[2]) for t in orjson.loads(types)}
    return (
        [{"subscription_id": subscription_id, "family": f, "type": t} for f, t in sorted(wants)],
        [
            {"subscription_id": subscription_id, "channel": k}
            for k in channel_kinds(orjson.loads(channels))
        ],
    )


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
