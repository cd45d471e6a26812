"""What an intervention is in its trial: the investigational drug, a comparator, a placebo, or
not a drug at all.

Rules, in order:
1. placebo: the name says placebo, sham or vehicle;
2. not a drug: the type is a device, procedure, behavioural, radiation or diagnostic test, or the
   name is a standard of care / usual care / best supportive care / observation arm and nothing
   else ("dexamethasone as supportive care" names a drug: it goes on to the next rules);
3. comparator: every arm the intervention is in is an ACTIVE_COMPARATOR (or PLACEBO/SHAM)
   arm — it is compared against, not developed, in this trial;
4. background: the trial has comparator arms and the intervention is in every arm, experimental
   and comparator alike (atezolizumab in "tiragolumab + atezolizumab vs placebo + atezolizumab"):
   what the trial tests is the drug added to it;
5. otherwise investigational. Types OTHER and DIETARY_SUPPLEMENT count as drugs only when the
   name resolves exactly to a drug (the caller checks that).
"""

from __future__ import annotations

import re

from drugradar.model.trial import Intervention, Trial

NOT_DRUG_TYPES = {"DEVICE", "PROCEDURE", "BEHAVIORAL", "RADIATION", "DIAGNOSTIC_TEST"}
MAYBE_DRUG_TYPES = {"OTHER", "DIETARY_SUPPLEMENT", None}
COMPARATOR_ARMS = {"ACTIVE_COMPARATOR", "PLACEBO_COMPARATOR", "SHAM_COMPARATOR"}
_PLACEBO = re.compile(r"\b(placebos?|sham|vehicle|dummy)\b", re.IGNORECASE)
_CARE = re.compile(
    r"\b(standard[- ]of[- ]care|usual care|best supportive care|supportive care|observation|"
    r"standard care|standard treatment|no intervention|watchful waiting|soc)\b",
    re.IGNORECASE,
)


_FILLER = re.compile(
    r"\b(best|alone|only|arm|group|the|a|an|and|or|plus|with|per|investigator'?s?|choice|"
    r"physician'?s?|local|institutional|guidelines?|practice|therapy|treatment|regimen|"
    r"management|according|to|as|of|by|in|at|for|hospital|site|chemo(therapy)?|immunotherapy|"
    r"medications?|drugs?|medicines?)\b|[^\w\s]|\d",
    re.IGNORECASE,
)


def _is_care_arm(name: str) -> bool:
    """The name is a care arm (``Best Supportive Care``, ``Standard of care per investigator``),
    not a drug given as supportive care (``Dexamethasone as supportive care``, ``Olanzapine for
    supportive care``): once the care words and fillers are gone, nothing may be left."""
    if not _CARE.search(name):
        return False
    rest = _FILLER.sub(" ", _CARE.sub(" ", name))
    return not rest.strip()


def role(iv: Intervention, trial: Trial) -> tuple[str, str]:
    """``(role, rule)`` for one intervention of ``trial``."""
    if _PLACEBO.search(iv.name):
        return "placebo", "name says placebo/sham/vehicle"
    if iv.type in NOT_DRUG_TYPES:
        return "not_drug", f"intervention type {iv.type}"
    if _is_care_arm(iv.name):
        return "not_drug", "standard of care / observation arm"
    arm_types = {a.label: a.type for a in trial.arm_groups}
    mine = [arm_types.get(label) for label in iv.arm_groups if label in arm_types]
    if mine and all(t in COMPARATOR_ARMS for t in mine):
        return "comparator", "only in comparator arms"
    comparators = [a for a in trial.arm_groups if a.type in COMPARATOR_ARMS]
    if comparators and len(mine) == len(arm_types) and len(arm_types) > 1:
        return "background", "in every arm, comparator arms included"
    return "investigational", "in an experimental (or unlabelled) arm"
