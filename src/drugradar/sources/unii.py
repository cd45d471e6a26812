"""FDA UNII Names: every name FDA's substance registry knows, typed.

File: tab-separated ``Name, TYPE, UNII, Display Name``; TYPE is ``bn`` brand, ``cd`` code,
``cn`` common, ``of`` official, ``sys`` systematic. One record per UNII (substance).
Live download: https://precision.fda.gov/uniisearch/archive (``UNII_Names_*.zip``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec, decoded_lines

NAME_TYPES = {"bn", "cd", "cn", "of", "sys"}
_UNII = re.compile(r"^[0-9A-Z]{10}$")


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per UNII: ``{"display": str, "names": [[name, type], ...]}``."""
    subs: dict[str, dict[str, object]] = {}
    for path in paths:
        fname = path.name
        header_seen = False
        for n, text, raw in decoded_lines(path):
            if text is None:
                yield Rejected(
                    fname, n, "line is not valid UTF-8", raw=raw.decode("utf-8", "replace")
                )
                continue
            if not header_seen:
                header_seen = True
                if text.lower().startswith("name\t"):
                    continue
            if not text.strip():
                continue
            cols = text.split("\t")
            if len(cols) != 4:
                yield Rejected(
                    fname, n, f"expected 4 tab-separated columns, found {len(cols)}", raw=text
                )
                continue
            name, ntype, unii, display = (c.strip() for c in cols)
            if not _UNII.match(unii):
                yield Rejected(fname, n, f"malformed UNII {unii!r}", field="UNII", raw=text)
                continue
            if not name:
                yield Rejected(fname, n, "empty name", field="Name", record_id=unii, raw=text)
                continue
            if ntype not in NAME_TYPES:
                yield Rejected(
                    fname, n, f"unknown name type {ntype!r}", field="TYPE", record_id=unii, raw=text
                )
                continue
            sub = subs.setdefault(unii, {"display": display or name, "names": []})
            sub["names"].append([name, ntype])  # type: ignore[attr-defined]
    for unii, sub in subs.items():
        names = sorted({(n, t) for n, t in sub["names"]})  # type: ignore[attr-defined]
        yield Record(unii, {"display": sub["display"], "names": [list(x) for x in names]})


SPEC = SourceSpec(
    name="unii",
    licence="public domain (FDA)",
    title="FDA UNII Names",
    parse=parse,
)
