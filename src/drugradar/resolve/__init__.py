"""Name -> drug resolution, showing which alias matched, of what type, with what score."""

from drugradar.resolve.normalize import norm_key
from drugradar.resolve.resolver import Match, Resolution, Resolver

__all__ = ["Match", "Resolution", "Resolver", "norm_key"]
