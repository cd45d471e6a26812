"""Provenance: every stored fact says where it came from, as of when, under which licence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Provenance:
    """The source (a drugradar source name), its record id, the source's date and its licence."""

    source: str
    source_record_id: str
    source_date: date | None
    licence: str
