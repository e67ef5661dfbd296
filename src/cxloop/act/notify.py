"""Notifications: e-mail, signed webhooks and chat webhooks, with retries and a dead-letter list.

A notification is a :class:`Delivery` row first, sent afterwards by the job queue: nothing is
lost when a receiver is down, and a delivery that keeps failing ends as ``dead`` where an
admin can see it and send it again.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from html import escape
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import webhooks
from cxloop.act.actions import Notify
from cxloop.act.cases import Opened
from cxloop.act.hooks import RuleRecord
from cxloop.config import Settings
from cxloop.mail import InvalidAddress, Mail, MailError, check_address, send
from cxloop.store.base import utcnow
from cxloop.store.models.act import ENDPOINT_KINDS, Delivery, Endpoint
from cxloop.store.models.org import OrgUnit, User

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
WEBHOOK_TIMEOUT = 10.0  # seconds; a slower receiver counts as failed and is retried
NEW_DELIVERIES = "act_new_deliveries"
# Retry schedule without jitter in the stored plan; the jittered delay is drawn per failure.
Transport = httpx.BaseTransport | None


class EndpointError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def check_endpoint(kind: str, target: str, project: str | None, allow_private: bool) -> None:
    if kind not in ENDPOINT_KINDS:
        raise EndpointError(f"kind must be one of {', '.join(ENDPOINT_KINDS)}", "kind")
    if kind == "email":
        try:
            check_address(target)
        except InvalidAddress as exc:
            raise EndpointError(str(exc), "target") from None
        return
    try:
        webhooks.check_target(target, allow_private)
    except webhooks.UnsafeTargetError as exc:
        hint = "" if allow_private else " (an admin may allow private addresses)"
        raise EndpointError(f"target refused: {exc}{hint}", "target") from None
    except OSError as exc:
        raise EndpointError(f"target host does not resolve: {exc}", "target") from None
    if kind == "github" and (not project or project.count("/") != 1):
        raise EndpointError("project must be 'owner/repo' for GitHub", "project")
    if kind == "jira" and not project:
        raise EndpointError("project must be the Jira project key", "project")


def create_endpoint(
    *,
    session: Session,
    org_unit_id: int,
    name: str,
    kind: str,
    target: str,
    project: str | None = None,
    secret: str | None = None,
    username: str | None = None,
    allow_private: bool = False,
) -> Endpoint:
    check_endpoint(kind, target, project, allow_private)
    if kind == "webhook" and not secret:
        secret = webhooks.generate_secret()
    endpoint = Endpoint(
        org_unit_id=org_unit_id,
        name=name,
        kind=kind,
        target=target,
        project=project,
        secret=secret,
        username=username,
        allow_private=allow_private,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def update_endpoint(*, session: Session, endpoint: Endpoint, changes: dict[str, Any]) -> Endpoint:
    """Change ``name``, ``target``, ``is_active`` or ``allow_private``; the target is checked
    again (with the new private-address setting) before anything changes."""
    target = changes.get("target", endpoint.target)
    allow = changes.get("allow_private", endpoint.allow_private)
    check_endpoint(endpoint.kind, target, endpoint.project, allow)
    for name in ("name", "target", "is_active", "allow_private"):
        if name in changes:
            setattr(endpoint, name, changes[name])
    session.flush()
    return endpoint


TESTABLE_KINDS = ("email", "webhook", "chat")


def queue_test(*, session: Session, endpoint: Endpoint) -> Delivery:
    """A test message to the endpoint, sent and retried like any other notification."""
    if endpoint.kind not in TESTABLE_KINDS:
        raise EndpointError(
            f"test messages go to {', '.join(TESTABLE_KINDS)} endpoints; "
            "export a backlog item to try a GitHub or Jira endpoint",
            "kind",
        )
    return queue_to_endpoint(
        session=session,
        endpoint=endpoint,
        event="endpoint.test",
        title="cxloop test message",
        text=f"A test of the endpoint {endpoint.name!r}: it is set up correctly.",
        data={"endpoint": endpoint.name},
    )


def _new_delivery(session: Session, **values: Any) -> Delivery:
    delivery = Delivery(
        msg_id="msg_" + secrets.token_urlsafe(18),
        status="pending",
        attempts=0,
        max_attempts=MAX_ATTEMPTS,
        next_attempt_at=utcnow(),
        **values,
    )
    session.add(delivery)
    session.flush()
    # The web layer sends these right after its transaction commits (see new_deliveries).
    session.info.setdefault(NEW_DELIVERIES, []).append(delivery.id)
    return delivery


def new_deliveries(session: Session) -> list[int]:
    """Ids of deliveries queued in this session so far (and forget them)."""
    return session.info.pop(NEW_DELIVERIES, [])


def queue_email(
    *,
    session: Session,
    org_unit_id: int,
    to: str,
    event: str,
    subject: str,
    text: str,
    endpoint_id: int | None = None,
) -> Delivery:
    """Queue a plain-text e-mail; the HTML part is built from escaped text when sent."""
    return _new_delivery(
        session,
        org_unit_id=org_unit_id,
        endpoint_id=endpoint_id,
        channel="email",
        target=to,
        event=event,
        subject=subject[:300],
        payload={"text": text},
    )


def queue_to_endpoint(
    *,
    session: Session,
    endpoint: Endpoint,
    event: str,
    title: str,
    text: str,
    data: dict[str, Any],
    link: str | None = None,
) -> Delivery:
    if endpoint.kind == "email":
        return queue_email(
            session=session,
            org_unit_id=endpoint.org_unit_id,
            to=endpoint.target,
            event=event,
            subject=title,
            text=text,
            endpoint_id=endpoint.id,
        )
    if endpoint.kind == "chat":
        fields = {k: str(v) for k, v in data.items() if v is not None and k != "text"}
        payload = webhooks.chat_payload(title, text, fields=fields, link=link)
    else:
        payload = {"type": event, "timestamp": utcnow().isoformat(), "data": data}
    return _new_delivery(
        session,
        org_unit_id=endpoint.org_unit_id,
        endpoint_id=endpoint.id,
        channel="chat" if endpoint.kind == "chat" else "webhook",
        target=endpoint.target,
        event=event,
        subject=title[:300],
        payload=payload,
    )


def notify_firing(
    *,
    session: Session,
    rule_name: str,
    record: RuleRecord,
    unit: OrgUnit,
    case: Opened | None,
    action: Notify,
) -> list[int]:
    raw = record.fields.get("text")
    text = raw if isinstance(raw, str) else ""
    title = f"Alert: {rule_name}"
    body = f"{record.kind} {record.id} at {unit.code}" + (f"\n\n{text}" if text else "")
    data = {
        "rule": rule_name,
        "record_kind": record.kind,
        "record_id": record.id,
        "org_unit": unit.code,
        "case_id": case.id if case else None,
        "score": record.score,
        "text": text[:2000],
    }
    ids = []
    if action.endpoint_id is not None:
        endpoint = session.get(Endpoint, action.endpoint_id)
        if endpoint is None or not endpoint.is_active:
            log.warning("rule %r names missing endpoint %s", rule_name, action.endpoint_id)
        else:
            ids.append(
                queue_to_endpoint(
                    session=session,
                    endpoint=endpoint,
                    event="rule.fired",
                    title=title,
                    text=body,
                    data=data,
                ).id
            )
    recipients = [action.email] if action.email else []
    if action.owner and case is not None and case.owner_user_id is not None:
        owner = session.get(User, case.owner_user_id)
        if owner is not None:
            recipients.append(owner.email)
    for to in recipients:
        ids.append(
            queue_email(
                session=session,
                org_unit_id=unit.id,
                to=to,
                event="rule.fired",
                subject=title,
                text=body,
            ).id
        )
    return ids


# -- sending -------------------------------------------------------------------------------


def _send_once(
    delivery: Delivery, endpoint: Endpoint | None, settings: Settings, transport: Transport
) -> webhooks.DeliveryResult:
    if delivery.channel == "email":
        text = str(delivery.payload.get("text", ""))
        html = '<pre style="font-family:inherit;white-space:pre-wrap">' + escape(text) + "</pre>"
        try:
            send(settings, Mail(delivery.target, delivery.subject, text, html))
        except InvalidAddress as exc:
            return webhooks.DeliveryResult(False, None, str(exc), 0.0, False)
        except MailError as exc:
            return webhooks.DeliveryResult(False, None, str(exc), 0.0, True)
        return webhooks.DeliveryResult(True, None, None, 0.0, False)
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"))
    allow_private = bool(endpoint and endpoint.allow_private)
    if delivery.channel == "webhook" and endpoint is not None and endpoint.secret:
        headers = webhooks.signed_headers(endpoint.secret, body, msg_id=delivery.msg_id)
    else:
        headers = {"content-type": "application/json"}
    return webhooks.deliver(
        delivery.target,
        body,
        headers,
        WEBHOOK_TIMEOUT,
        allow_private=allow_private,
        transport=transport,
    )


def attempt(
    *,
    session: Session,
    settings: Settings,
    delivery: Delivery,
    now: datetime | None = None,
    transport: Transport = None,
    delay: Callable[[int], float] | None = None,
) -> Delivery:
    """One attempt; on failure schedule the next with exponential backoff, or dead-letter."""
    at = now or utcnow()
    endpoint = session.get(Endpoint, delivery.endpoint_id) if delivery.endpoint_id else None
    result = _send_once(delivery, endpoint, settings, transport)
    delivery.attempts += 1
    delivery.last_status = result.status
    if result.ok:
        delivery.status = "sent"
        delivery.sent_at = at
        delivery.last_error = None
        delivery.next_attempt_at = None
    elif not result.retryable or delivery.attempts >= delivery.max_attempts:
        delivery.status = "dead"
        delivery.last_error = result.error
        delivery.next_attempt_at = None
        log.warning(
            "delivery %s dead after %s attempts: %s", delivery.id, delivery.attempts, result.error
        )
    else:
        wait = (delay or _backoff)(delivery.attempts)
        delivery.last_error = result.error
        delivery.next_attempt_at = at + timedelta(seconds=wait)
    session.flush()
    return delivery


def _backoff(attempts: int) -> float:
    return webhooks.retry_delays(attempts + 1)[-1]


def due_deliveries(session: Session, now: datetime, limit: int = 100) -> list[int]:
    return list(
        session.scalars(
            select(Delivery.id)
            .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at)
            .limit(limit)
        ).all()
    )


def resend(*, session: Session, delivery: Delivery) -> Delivery:
    """Put a dead delivery back in the queue with a fresh set of attempts."""
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    session.flush()
    return delivery
