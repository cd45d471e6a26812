"""The development-status matrix: who develops which drug for what, where, how far, and whether
the work goes on."""
