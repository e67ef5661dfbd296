"""Invitation and reminder e-mails in the customer's language, and their delivery.

A delivery outcome is returned, never raised, so the caller can commit the recorded
attempt before telling the job queue to retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from jinja2 import Environment
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.mail import InvalidAddress, Mail, MailError, check_address, send
from cxloop.signals.survey_invitations import (
    identity_email,
    invitation_token,
    is_unsubscribed,
    retry_backoff,
)
from cxloop.signals.surveys import title_in
from cxloop.store.models.customers import Customer
from cxloop.store.models.surveys import Survey, SurveyInvitation, SurveyProgram

_TEXTS = {
    "en": {
        "subject": "How did we do? {title}",
        "reminder_subject": "Reminder: {title}",
        "greeting": "Hello {name},",
        "greeting_anon": "Hello,",
        "body": "We would love to hear about your experience. It takes about a minute.",
        "reminder_body": "A short reminder: your answer still helps us improve.",
        "pulse_body": "Please take a minute for this short team pulse survey.",
        "button": "Answer the survey",
        "expires": "The link is personal and works until {date}.",
        "unsubscribe": "Do not want survey e-mails? Unsubscribe",
    },
    "ja": {
        "subject": "ご意見をお聞かせください：{title}",
        "reminder_subject": "【再送】{title}",
        "greeting": "{name} 様",
        "greeting_anon": "こんにちは。",
        "body": "ご利用いただいた体験について、ぜひお聞かせください。約1分で終わります。",
        "reminder_body": "先日お送りしたアンケートへのご回答をお待ちしております。",
        "pulse_body": "チームの短いパルスサーベイにご協力ください（約1分）。",
        "button": "アンケートに回答する",
        "expires": "このリンクはお客様専用で、{date} まで有効です。",
        "unsubscribe": "アンケートのメールが不要な場合は配信停止",
    },
}
_env = Environment(autoescape=True)
_HTML = _env.from_string(
    """<!doctype html><html lang="{{ lang }}"><body style="font-family:sans-serif;color:#1d2330">
<p>{{ greeting }}</p><p>{{ body }}</p>
<p><a href="{{ link }}" style="background:#1f5fbf;color:#fff;padding:10px 16px;
border-radius:6px;text-decoration:none">{{ button }}</a></p>
<p style="color:#5a6478">{{ expires }}</p>
{% if unsubscribe_link %}<p style="color:#5a6478;font-size:small">
<a href="{{ unsubscribe_link }}">{{ unsubscribe }}</a></p>{% endif %}
</body></html>"""
)


def build_invitation_mail(
    *,
    settings: Settings,
    inv: SurveyInvitation,
    survey: Survey,
    name: str | None,
    address: str,
    reminder: bool = False,
) -> Mail:
    lang = inv.language if inv.language in _TEXTS else "en"
    t = _TEXTS[lang]
    token = invitation_token(settings.resolved_secret_key, inv)
    base = settings.base_url.rstrip("/")
    link = f"{base}/s/{token}"
    # Employees are not customers: no survey unsubscribe for a staff pulse.
    unsubscribe_link = f"{link}/unsubscribe" if inv.customer_id else None
    title = title_in(survey, lang)
    # Names go into a text header line; strip control characters, autoescape does the HTML.
    clean_name = "".join(ch for ch in (name or "") if ch.isprintable())[:100]
    greeting = t["greeting"].format(name=clean_name) if clean_name else t["greeting_anon"]
    body = t["reminder_body"] if reminder else (t["pulse_body"] if inv.user_id else t["body"])
    expires = (
        t["expires"].format(date=f"{inv.expires_at:%Y-%m-%d}") if inv.expires_at is not None else ""
    )
    text_lines = [greeting, "", body, "", f"{t['button']}: {link}", "", expires]
    if unsubscribe_link:
        text_lines += ["", f"{t['unsubscribe']}: {unsubscribe_link}"]
    html = _HTML.render(
        lang=lang,
        greeting=greeting,
        body=body,
        link=link,
        button=t["button"],
        expires=expires,
        unsubscribe_link=unsubscribe_link,
        unsubscribe=t["unsubscribe"],
    )
    subject = (t["reminder_subject"] if reminder else t["subject"]).format(title=title)
    return Mail(to=address, subject=subject, text="\n".join(text_lines), html=html)


Outcome = Literal["sent", "failed", "retry", "skipped"]


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    detail: str = ""


def _address(session: Session, inv: SurveyInvitation) -> tuple[str | None, str | None]:
    if inv.customer_id is None:
        return inv.address, None
    customer = session.get(Customer, inv.customer_id)
    name = customer.name if customer else None
    return inv.address or identity_email(session, inv.customer_id), name


def _claim(session: Session, inv: SurveyInvitation, now: datetime) -> bool:
    """Take this send attempt, or learn that another sender has it.

    The attempt counter is the claim: one conditional UPDATE moves it on, so of two
    senders (the dispatcher, a re-queued job, a second worker) only one goes on to SMTP.
    The claim is committed at once: no lock is held while the mail server answers, and a
    crash after it leaves a row the dispatcher tries again after the back-off.
    """
    seen = inv.attempts
    if inv.sent_at is not None:  # a stale write put a sent invitation back: heal it
        inv.status = "sent"
        return False
    if inv.last_attempt_at is not None and inv.last_attempt_at > now - retry_backoff(seen):
        return False
    taken = session.execute(
        update(SurveyInvitation)
        .where(
            SurveyInvitation.id == inv.id,
            SurveyInvitation.status == "sending",
            SurveyInvitation.attempts == seen,
            SurveyInvitation.sent_at.is_(None),
        )
        .values(attempts=seen + 1, last_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.refresh(inv)
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def deliver_invitation(
    *, session: Session, settings: Settings, invitation_id: int, now: datetime
) -> Delivery:
    """Send one invitation in ``sending`` at most once per attempt; records the attempt on
    the row either way. Commits the claim (see :func:`_claim`) before talking to SMTP."""
    inv = session.get(SurveyInvitation, invitation_id)
    if inv is None or inv.status != "sending":
        return Delivery("skipped", "not waiting to be sent")
    survey = session.get(Survey, inv.survey_id)
    assert survey is not None
    if inv.customer_id is not None and is_unsubscribed(session, inv.customer_id):
        inv.status, inv.reason_code, inv.reason = "suppressed", "unsubscribed", "unsubscribed"
        return Delivery("skipped", "unsubscribed")
    if not _claim(session, inv, now):
        return Delivery("skipped", "another sender has this attempt")
    address, name = _address(session, inv)
    try:
        if not address:
            raise InvalidAddress("no e-mail address for this customer")
        inv.address = check_address(address)
    except InvalidAddress as exc:
        inv.status, inv.reason_code, inv.reason = "failed", "invalid_address", str(exc)
        return Delivery("failed", str(exc))
    program = session.get(SurveyProgram, inv.program_id) if inv.program_id else None
    inv.expires_at = now + timedelta(days=program.expires_after_days if program else 14)
    mail = build_invitation_mail(
        settings=settings, inv=inv, survey=survey, name=name, address=inv.address
    )
    try:
        send(settings, mail)
    except MailError as exc:
        inv.last_error = str(exc)[:500]
        return Delivery("retry", inv.last_error)
    inv.status, inv.sent_at, inv.last_error = "sent", now, None
    return Delivery("sent")


def due_reminders(*, session: Session, now: datetime) -> list[int]:
    """Sent, unanswered, not yet reminded invitations whose program reminds after N days."""
    rows = session.execute(
        select(SurveyInvitation.id, SurveyInvitation.sent_at, SurveyProgram.reminder_after_days)
        .join(SurveyProgram, SurveyProgram.id == SurveyInvitation.program_id)
        .where(
            SurveyInvitation.status == "sent",
            SurveyInvitation.responded_on.is_(None),
            SurveyInvitation.reminder_sent_at.is_(None),
            SurveyProgram.reminder_after_days.is_not(None),
            SurveyInvitation.expires_at > now,
        )
    ).all()
    return [
        i
        for i, sent_at, days in rows
        if sent_at is not None and days is not None and sent_at + timedelta(days=days) <= now
    ]


def deliver_reminder(
    *, session: Session, settings: Settings, invitation_id: int, now: datetime
) -> Delivery:
    inv = session.get(SurveyInvitation, invitation_id)
    if inv is None or inv.status != "sent" or inv.reminder_sent_at is not None:
        return Delivery("skipped", "no reminder due")
    if inv.customer_id is not None:
        customer = session.get(Customer, inv.customer_id)
        if (customer and customer.opted_out) or is_unsubscribed(session, inv.customer_id):
            inv.reminder_sent_at = now  # never remind someone who left; do not look again
            return Delivery("skipped", "unsubscribed")
    from cxloop.signals.survey_responses import has_completed

    if has_completed(session, inv):
        return Delivery("skipped", "already answered")
    survey = session.get(Survey, inv.survey_id)
    assert survey is not None and inv.address is not None
    _, name = _address(session, inv)
    mail = build_invitation_mail(
        settings=settings, inv=inv, survey=survey, name=name, address=inv.address, reminder=True
    )
    try:
        send(settings, mail)
    except MailError as exc:
        inv.last_error = f"reminder: {exc}"[:500]
        return Delivery("retry", inv.last_error)
    inv.reminder_sent_at = now
    return Delivery("sent")
