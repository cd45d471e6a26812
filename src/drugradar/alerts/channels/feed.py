"""An Atom feed of events, for feed readers: one entry per event, ids stable across refreshes.

Source text goes into plain-text elements only, so feedgen (lxml) escapes it; nothing from a
source is ever written as markup.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
from feedgen.feed import FeedGenerator

# Characters XML 1.0 does not allow (lxml refuses them); source text may carry them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _when(value: str | None) -> datetime:
    """An aware datetime (stored timestamps are UTC; SQLite returns them naive)."""
    if not value:
        return datetime.now(UTC)
    dt = datetime.fromisoformat(value)
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    return orjson.dumps(v).decode()


def entry_text(ev: dict[str, Any]) -> str:
    """The plain-text body of one event's entry."""
    lines = [str(ev.get("summary") or "")]
    if ev.get("from") is not None or ev.get("to") is not None:
        field = f"{ev['field']}: " if ev.get("field") else ""
        lines.append(f"{field}{_value(ev.get('from'))} → {_value(ev.get('to'))}")
    lines.append(f"Materiality: {ev.get('materiality')}")
    sources = ev.get("sources") or []
    if sources:
        lines.append("Sources:")
        for s in sources:
            seen = f" as of {s['as_of']}" if s.get("as_of") else ""
            link = f" <{s['url']}>" if s.get("url") else ""
            lines.append(f"- {s.get('source')} {s.get('record_id')}{seen}{link}")
    return "\n".join(lines)


def atom_feed(title: str, feed_url: str, events: list[dict[str, Any]]) -> bytes:
    """Atom XML for ``events`` (``track.query.as_dict`` dicts), in the order given."""
    fg = FeedGenerator()
    fg.id(feed_url)
    fg.title(_clean(title))
    fg.author({"name": "drugradar"})
    fg.link(href=feed_url, rel="self")
    fg.updated(max((_when(e.get("first_seen_at")) for e in events), default=datetime.now(UTC)))
    for ev in events:
        fe = fg.add_entry(order="append")
        fe.id(f"tag:drugradar,{ev['as_of']}:event/{ev['id']}")
        fe.title(_clean(str(ev.get("summary") or f"Event {ev['id']}")))
        fe.updated(_when(ev.get("first_seen_at")))
        url = next((s["url"] for s in ev.get("sources") or [] if s.get("url")), None)
        if url:
            fe.link(href=url, rel="alternate")
        fe.content(_clean(entry_text(ev)), type="text")
    out: bytes = fg.atom_str(pretty=True)
    return out
