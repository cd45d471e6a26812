"""Chemotherapy regimens named by acronym (``CHOP regimen``, ``FOLFOX``) -> their components.

The list is ``data/regimens.csv``. A name matches when, after normalization, it is the acronym
alone or followed by one of ``regimen``, ``chemotherapy``, ``protocol``, ``combination``.
"""

from __future__ import annotations

import csv
import functools
from importlib import resources

from drugradar.resolve.normalize import norm_key

SUFFIXES = ("", " regimen", " chemotherapy", " protocol", " combination", " chemo")


@functools.cache
def regimens() -> dict[str, tuple[str, ...]]:
    """Normalized name (with every suffix) -> component INNs."""
    text = resources.files("drugradar").joinpath("data/regimens.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    out: dict[str, tuple[str, ...]] = {}
    for r in rows:
        parts = tuple(p.strip() for p in r["components"].split("+") if p.strip())
        for suffix in SUFFIXES:
            out[norm_key(r["regimen"] + suffix)] = parts
    return out


def components(name: str) -> tuple[str, ...] | None:
    """The regimen's component names, or None when ``name`` is not a known regimen."""
    return regimens().get(norm_key(name))
