"""Scalar contact-policy engine: one invitation, one decision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cxloop.signals.contact_policy.model import (
    DEFERRED,
    FREQUENCY_CAP,
    MIN_GAP,
    NOT_SAMPLED,
    OPTED_OUT,
    SENSITIVITY,
    SENT,
    UNSUBSCRIBED,
    ContactPolicy,
    CustomerFacts,
    Decision,
    Invitation,
    SentInvitation,
    defer_for_quiet_hours,
    deferred_reason,
    is_sampled,
    sample_draw,
    sample_salt,
)


def _suppressed(code: str, reason: str) -> Decision:
    return Decision("suppressed", code, reason, None)


def _sends_in_window(
    history: Sequence[SentInvitation], at: datetime, days: int, survey_id: str | None
) -> int:
    # Rolling window (at - days, at]: a send exactly `days` ago has aged out.
    since = at - timedelta(days=days)
    return sum(
        1
        for h in history
        if since < h.sent_at <= at and (survey_id is None or h.survey_id == survey_id)
    )


def decide(
    invitation: Invitation,
    customer: CustomerFacts,
    history: Sequence[SentInvitation],
    policy: ContactPolicy,
) -> Decision:
    """Decide whether and when to send one invitation.

    Order of evaluation (the first rule that suppresses names the reason):

    0. quiet hours, in the customer's zone: never suppress, only move the send to the
       end of the quiet period; every later rule is judged at that actual send time;
    1. consent: opted out, then unsubscribed;
    2. sensitivity rules, in policy order (segment match and local date in range,
       for the invitation's program);
    3. frequency caps, in policy order (global caps count every survey, a survey cap
       only its own survey), over the rolling window ``(send_at - days, send_at]``;
    4. minimum gap since the last invitation of any survey;
    5. sampling: a deterministic draw from customer, survey and wave.
    """
    if invitation.send_at.tzinfo is None:
        raise ValueError("send_at must be timezone-aware")
    tz = ZoneInfo(customer.time_zone)
    send_at, deferred = defer_for_quiet_hours(invitation.send_at, tz, policy.quiet_hours)

    if customer.opted_out:
        return _suppressed(OPTED_OUT, "opted out")
    if customer.unsubscribed:
        return _suppressed(UNSUBSCRIBED, "unsubscribed")

    local_day = send_at.astimezone(tz).date()
    for rule in policy.sensitivity_rules:
        if (
            rule.applies_to(invitation.program)
            and rule.active_on(local_day)
            and customer.attributes.get(rule.attribute) in rule.values
        ):
            return _suppressed(SENSITIVITY, rule.text)

    for cap in policy.caps:
        if not cap.applies_to(invitation.survey_id):
            continue
        count = _sends_in_window(history, send_at, cap.window_days, cap.survey_id)
        if count >= cap.max_invitations:
            return _suppressed(FREQUENCY_CAP, cap.reason)

    if policy.min_days_between is not None and _sends_in_window(
        history, send_at, policy.min_days_between, None
    ):
        return _suppressed(MIN_GAP, policy.min_gap_reason)

    draw = sample_draw(invitation.customer_id, sample_salt(invitation.survey_id, invitation.wave))
    if not is_sampled(draw, policy.sample_percent):
        return _suppressed(NOT_SAMPLED, policy.not_sampled_reason)

    if deferred and policy.quiet_hours is not None:
        return Decision(
            "sent", DEFERRED, deferred_reason(policy.quiet_hours, customer.time_zone), send_at
        )
    return Decision("sent", SENT, "", send_at)
