"""Search drugs by name and by what is known of them (phase, activity, modality, target…)."""
