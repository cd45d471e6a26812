"""Stable drugradar ids: derived from the identifier a drug was first anchored on.

``DR`` + 10 base-32 characters of SHA-256(anchor), anchor being ``unii:<UNII>`` (or
``drugbank:<id>``, ``drugcentral:<id>`` for drugs UNII does not know). The same data always yields
the same ids, whatever the load order or backend, so links from other tables survive reloads.
"""

from __future__ import annotations

import base64
import hashlib


def drug_id(anchor: str) -> str:
    digest = hashlib.sha256(anchor.encode()).digest()
    return "DR" + base64.b32encode(digest).decode()[:10]
