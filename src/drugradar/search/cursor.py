"""Opaque cursors for keyset pagination: a page starts strictly after the last row of the one
before, on a total order (the sort keys, then the id), so paging never skips nor repeats a row
and costs the same on page 1 and page 10,000 (no OFFSET, no cap).

A cursor is url-safe base64 of ``{"s": sort, "q": filters digest, "k": last row's keys}``. It is
tied to its search: used with other filters or another sort it is refused, not misread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, false, or_


class CursorError(ValueError):
    """A cursor that is malformed or belongs to another search; the message says so."""


def digest(filters: dict[str, str]) -> str:
    return hashlib.sha1(orjson.dumps(filters, option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]


def encode(sort: str, filters: dict[str, str], keys: Sequence[Any]) -> str:
    raw = orjson.dumps({"s": sort, "q": digest(filters), "k": list(keys)})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(token: str, sort: str, filters: dict[str, str], types: Sequence[type]) -> list[Any]:
    """The last row's sort keys carried by ``token``, checked against this search."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise CursorError("The cursor is not valid; start again without it.") from None
    if not isinstance(data, dict) or not isinstance(data.get("k"), list):
        raise CursorError("The cursor is not valid; start again without it.")
    if data.get("s") != sort or data.get("q") != digest(filters):
        raise CursorError("The cursor belongs to another search or sort; start again without it.")
    keys: list[Any] = data["k"]
    if len(keys) != len(types) or not all(
        isinstance(k, t) and not isinstance(k, bool) for k, t in zip(keys, types, strict=True)
    ):
        raise CursorError("The cursor is not valid; start again without it.")
    return keys


def after(columns: Sequence[tuple[ColumnElement[Any], bool]], keys: Sequence[Any]) -> Any:
    """Rows strictly after ``keys`` in the order of ``columns`` (``(expression, descending)``):
    ``c1 > k1 OR (c1 = k1 AND c2 > k2) OR …``, each comparison in its column's direction."""
    clauses: list[ColumnElement[bool]] = []
    for i, (col, desc) in enumerate(columns):
        equal = [c == k for (c, _), k in zip(columns[:i], keys[:i], strict=True)]
        step = col < keys[i] if desc else col > keys[i]
        clauses.append(and_(*equal, step))
    return or_(*clauses) if clauses else false()
