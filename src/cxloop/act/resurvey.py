"""Re-survey through the survey program: a case's customer is invited by the program whose
key is ``resurvey`` (create it like any other program: its survey, contact policy and
expiry apply). The invitation's wave is ``case:<id>`` so the reply can be tied to the case.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act.hooks import SurveyRequest
from cxloop.store.base import utcnow
from cxloop.store.models.customers import Customer

log = logging.getLogger(__name__)

PROGRAM_KEY = "resurvey"


def wave_for(case_id: int | None) -> str:
    return f"case:{case_id}" if case_id is not None else "act"


def case_of_wave(wave: str) -> int | None:
    """The case a re-survey invitation belongs to (for the survey area's reply hook)."""
    head, _, tail = wave.partition(":")
    return int(tail) if head == "case" and tail.isdigit() else None


def send_resurvey(*, session: Session, request: SurveyRequest) -> str | None:
    """Create a pending invitation in the ``resurvey`` program; ``None`` when there is no
    such active program or no customer. The contact policy decides at dispatch."""
    from cxloop.signals.survey_invitations import new_invitation
    from cxloop.store.models.surveys import SurveyProgram

    program = session.scalar(
        select(SurveyProgram).where(SurveyProgram.key == PROGRAM_KEY, SurveyProgram.active)
    )
    customer = session.get(Customer, request.customer_id) if request.customer_id else None
    if program is None or customer is None:
        log.info(
            "re-survey for case %s not sent: no %r program or no customer",
            request.case_id,
            PROGRAM_KEY,
        )
        return None
    invitation = new_invitation(
        session=session,
        program=program,
        customer=customer,
        due_at=utcnow(),
        default_language="en",
        org_unit_id=request.org_unit_id,
        wave=wave_for(request.case_id),
    )
    return str(invitation.id)
