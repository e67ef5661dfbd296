"""Survey contact policy: who gets an invitation, when, and why not.

``decide`` handles one invitation; ``plan_wave`` plans a whole relationship wave with
NumPy and reaches the same decisions.
"""

from cxloop.signals.contact_policy.engine import decide
from cxloop.signals.contact_policy.model import (
    REASON_CODES,
    ContactPolicy,
    CustomerFacts,
    Decision,
    FrequencyCap,
    Invitation,
    QuietHours,
    SensitivityRule,
    SentInvitation,
)
from cxloop.signals.contact_policy.wave import (
    Population,
    SendLog,
    WavePlan,
    plan_wave,
    to_micros,
    zones_from_offsets,
)

__all__ = [
    "REASON_CODES",
    "ContactPolicy",
    "CustomerFacts",
    "Decision",
    "FrequencyCap",
    "Invitation",
    "Population",
    "QuietHours",
    "SendLog",
    "SensitivityRule",
    "SentInvitation",
    "WavePlan",
    "decide",
    "plan_wave",
    "to_micros",
    "zones_from_offsets",
]
