"""The drug profile beyond the dictionary and trials: approvals, designations, patents,
exclusivities, labels, safety communications and interactions, each built from stored source
records by one module (``fda``, ``ema``, ``labels``, ``interactions``)."""
