"""Name -> drug resolution, showing which alias matched, of what type, with what score.

The resolver (and the store it reads) is imported on first use: the trial reader process
imports ``norm_key`` alone, and should not wait for SQLAlchemy and the schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drugradar.resolve.normalize import norm_key

if TYPE_CHECKING:
    from drugradar.resolve.resolver import Match, Resolution, Resolver

__all__ = ["Match", "Resolution", "Resolver", "norm_key"]


def __getattr__(name: str) -> Any:
    if name in ("Match", "Resolution", "Resolver"):
        from drugradar.resolve import resolver

        return getattr(resolver, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
