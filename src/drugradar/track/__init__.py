"""Change tracking: every load a dated observation, differences stored as typed events."""
