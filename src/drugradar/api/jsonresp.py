"""A JSON response serialized by orjson, for the library's plain documents (a drug's profile, a
trial) that have no response model: dates and datetimes as ISO 8601, fast on large documents."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


def _fallback(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, default=_fallback, option=orjson.OPT_NON_STR_KEYS)


class JSONBytes(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)
