"""Clinical trials: load ClinicalTrials.gov records, link them to drugs, diseases, companies."""
