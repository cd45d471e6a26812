"""The drug dictionary: load the vocabulary sources, then build drugs and their facts."""

from drugradar.dictionary.load import LoadSummary, load_vocab, rebuild

__all__ = ["LoadSummary", "load_vocab", "rebuild"]
