"""Invitations: personal links, the contact-policy decision stored with its reason, and
the dispatcher that moves invitations from pending to scheduled to sending.

Life of an invitation::

    pending ──(due: contact policy)──> suppressed (reason) | scheduled (maybe deferred)
    scheduled ──(due)──> sending ──(SMTP)──> sent | failed (reason)

While SMTP is down an invitation stays in ``sending`` with its attempts and last error
(shown in the admin view) and the dispatcher job tries again with a growing back-off:
nothing is lost, whether the worker or the mail server fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.security import new_token
from cxloop.signals.contact_policy import CustomerFacts, Invitation, SentInvitation, decide
from cxloop.signals.survey_programs import (
    SEGMENT_ATTRIBUTES,
    active_sensitivity_rules,
    contact_policy,
)
from cxloop.store.models.customers import Customer, CustomerIdentity
from cxloop.store.models.surveys import (
    Survey,
    SurveyInvitation,
    SurveyProgram,
    SurveyUnsubscribe,
)

# Invitations that count as contact for frequency caps and the minimum gap.
CONTACTED = ("scheduled", "sending", "sent")


def invitation_token(secret: str, inv: Any) -> str:
    """The personal link token: the id and an HMAC, so no token is stored in clear."""
    mac = hmac.new(secret.encode(), f"survey-invite:{inv.id}:{inv.nonce}".encode(), hashlib.sha256)
    return f"{inv.id}.{base64.urlsafe_b64encode(mac.digest()[:18]).decode()}"


def resolve_token(
    session: Session, secrets: str | Sequence[str], token: str
) -> SurveyInvitation | None:
    """The invitation of a personal-link token signed with any key of the ring ``secrets``
    (``Settings.secret_keys``: links sent before a key rotation keep working)."""
    ident = token_invitation_id(token)
    inv = session.get(SurveyInvitation, ident) if ident is not None else None
    if inv is None or not token_matches(secrets, inv, token):
        return None
    return inv


def token_invitation_id(token: str) -> int | None:
    """The invitation id a well-formed personal-link token names (not yet verified)."""
    ident, _, _ = token.partition(".")
    return int(ident) if ident.isdigit() and len(token) <= 80 else None


def token_matches(secrets: str | Sequence[str], inv: Any, token: str) -> bool:
    """Whether ``token`` is the link of ``inv`` (anything with ``id`` and ``nonce``)."""
    keys = (secrets,) if isinstance(secrets, str) else secrets
    return any(hmac.compare_digest(invitation_token(key, inv), token) for key in keys)


def email_of(customer: Customer) -> str | None:
    return next((i.value for i in customer.identities if i.kind == "email"), None)


def is_unsubscribed(session: Session, customer_id: int) -> bool:
    stmt = select(SurveyUnsubscribe.id).where(SurveyUnsubscribe.customer_id == customer_id)
    return session.scalar(stmt) is not None


def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def customer_facts(customer: Customer, *, unsubscribed: bool, default_zone: str) -> CustomerFacts:
    attrs = {name: getattr(customer, name) for name in SEGMENT_ATTRIBUTES}
    attrs.update({f"attr.{k}": v for k, v in (customer.attributes or {}).items()})
    return CustomerFacts(
        customer_id=customer.id,
        time_zone=customer.timezone
        if customer.timezone and valid_zone(customer.timezone)
        else default_zone,
        opted_out=customer.opted_out,
        unsubscribed=unsubscribed,
        attributes={k: str(v) for k, v in attrs.items() if v is not None},
    )


def contact_history(session: Session, customer_id: int, *, exclude: int) -> list[SentInvitation]:
    """Past and planned contacts of a customer, as the policy engine sees them."""
    rows = session.execute(
        select(SurveyInvitation.sent_at, SurveyInvitation.due_at, Survey.key)
        .join(Survey, Survey.id == SurveyInvitation.survey_id)
        .where(
            SurveyInvitation.customer_id == customer_id,
            SurveyInvitation.status.in_(CONTACTED),
            SurveyInvitation.id != exclude,
        )
    ).all()
    return [SentInvitation(sent_at or due_at, key) for sent_at, due_at, key in rows]


def new_invitation(
    *,
    session: Session,
    program: SurveyProgram,
    customer: Customer,
    due_at: datetime,
    default_language: str,
    event_id: int | None = None,
    touchpoint: str | None = None,
    org_unit_id: int | None = None,
    wave: str = "",
) -> SurveyInvitation:
    """A pending invitation; the contact policy decides when it falls due."""
    inv = SurveyInvitation(
        org_unit_id=org_unit_id or customer.org_unit_id,
        survey_id=program.survey_id,
        program_id=program.id,
        event_id=event_id,
        customer_id=customer.id,
        wave=wave,
        touchpoint=touchpoint,
        address=email_of(customer),
        language=customer.language if customer.language in ("en", "ja") else default_language,
        status="pending",
        nonce=new_token(12),
        due_at=due_at,
    )
    session.add(inv)
    session.flush()
    return inv


def _suppress(inv: SurveyInvitation, code: str, reason: str) -> None:
    inv.status, inv.reason_code, inv.reason = "suppressed", code, reason


def decide_invitation(
    *, session: Session, inv: SurveyInvitation, default_zone: str, rules: Sequence | None = None
) -> SurveyInvitation:
    """Apply the contact policy to a pending invitation and store the decision and reason."""
    survey = session.get(Survey, inv.survey_id)
    program = session.get(SurveyProgram, inv.program_id) if inv.program_id else None
    customer = session.get(Customer, inv.customer_id) if inv.customer_id else None
    if survey is None or survey.status != "live":
        _suppress(inv, "survey_not_live", "the survey is not live")
        return inv
    if program is not None and not program.active:
        _suppress(inv, "program_inactive", "the program is switched off")
        return inv
    if customer is None or program is None:
        inv.status = "scheduled"
        return inv
    if rules is None:
        rules = active_sensitivity_rules(session)
    policy = contact_policy(program, survey.key, list(rules))
    facts = customer_facts(
        customer, unsubscribed=is_unsubscribed(session, customer.id), default_zone=default_zone
    )
    history = contact_history(session, customer.id, exclude=inv.id)
    candidate = Invitation(customer.id, survey.key, program.key, inv.due_at, inv.wave)
    decision = decide(candidate, facts, history, policy)
    inv.reason_code, inv.reason = decision.reason_code, decision.reason or None
    if decision.status == "suppressed":
        inv.status = "suppressed"
    else:
        inv.status = "scheduled"
        assert decision.send_at is not None
        inv.due_at = decision.send_at
    return inv


def dispatch_due(*, session: Session, now: datetime, default_zone: str = "UTC") -> list[int]:
    """Decide every pending invitation that fell due; returns the ids to send now."""
    rules = active_sensitivity_rules(session)
    pending = session.scalars(
        select(SurveyInvitation)
        .where(SurveyInvitation.status == "pending", SurveyInvitation.due_at <= now)
        .order_by(SurveyInvitation.due_at, SurveyInvitation.id)
    ).all()
    for inv in pending:
        decide_invitation(session=session, inv=inv, default_zone=default_zone, rules=rules)
        session.flush()  # the next decision must see this one in the history
    due = session.scalars(
        select(SurveyInvitation).where(
            SurveyInvitation.status == "scheduled", SurveyInvitation.due_at <= now
        )
    ).all()
    for inv in due:
        inv.status = "sending"
    waiting = session.execute(
        select(
            SurveyInvitation.id, SurveyInvitation.attempts, SurveyInvitation.last_attempt_at
        ).where(SurveyInvitation.status == "sending")
    ).all()
    session.flush()
    return sorted(
        i for i, attempts, last in waiting if last is None or last <= now - retry_backoff(attempts)
    )


def retry_backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed sends: 1, 2, 4 ... 60 minutes."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def unsubscribe(*, session: Session, inv: SurveyInvitation) -> bool:
    """Record that the invited customer wants no more surveys; ``False`` if already done."""
    if inv.customer_id is None or is_unsubscribed(session, inv.customer_id):
        return False
    session.add(
        SurveyUnsubscribe(
            org_unit_id=inv.org_unit_id, customer_id=inv.customer_id, invitation_id=inv.id
        )
    )
    # Anything not yet sent is withdrawn at once: the next e-mail must not go out.
    for other in session.scalars(
        select(SurveyInvitation).where(
            SurveyInvitation.customer_id == inv.customer_id,
            SurveyInvitation.status.in_(("pending", "scheduled")),
        )
    ):
        _suppress(other, "unsubscribed", "unsubscribed")
    session.flush()
    return True


def identity_email(session: Session, customer_id: int) -> str | None:
    return session.scalar(
        select(CustomerIdentity.value).where(
            CustomerIdentity.customer_id == customer_id, CustomerIdentity.kind == "email"
        )
    )
