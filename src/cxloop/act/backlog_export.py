"""Export backlog items to GitHub Issues, Jira or a generic webhook, and sync their status.

The request bodies follow the public REST formats (GitHub ``POST /repos/{owner}/{repo}/issues``,
Jira Cloud ``POST /rest/api/3/issue`` with an Atlassian Document Format description); the
base URL comes from the endpoint, so GitHub Enterprise, Jira Data Center or a test receiver
all work.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session

from cxloop.act import webhooks
from cxloop.act.backlog import BacklogError
from cxloop.act.notify import queue_to_endpoint
from cxloop.store.base import utcnow
from cxloop.store.models.act import BacklogItem, Endpoint

LABEL = "customer-feedback"


@dataclass(frozen=True)
class ApiRequest:
    method: str
    url: str
    headers: dict[str, str]
    json: dict[str, Any] | None


def _no_mentions(text: str) -> str:
    # Customer text must not ping GitHub users or teams: break "@name" with a zero-width space.
    return text.replace("@", "@\u200b")


def _facts(item: BacklogItem) -> list[str]:
    ev = item.evidence
    facts = [
        f"Records: {ev.get('records', 0)}",
        f"Affected customers: {ev.get('customers', 0)}",
        f"Last 14 days: {ev.get('recent', 0)} (previous 14 days: {ev.get('prior', 0)})",
        f"Negative share: {ev.get('negative_share', 0):.0%}",
        f"Customer impact score: {item.impact:g}",
    ]
    if ev.get("revenue") is not None:
        facts.insert(2, f"Annual revenue of affected customers: {ev['revenue']:,.0f}")
    return facts


def github_request(item: BacklogItem, endpoint: Endpoint, link: str) -> ApiRequest:
    lines = [_no_mentions(item.description), "", "### Customer evidence", ""]
    lines += [f"- {fact}" for fact in _facts(item)]
    for quote in item.evidence.get("quotes", []):
        lines += ["", *(f"> {_no_mentions(q)}" for q in quote.splitlines() or [""])]
    lines += ["", f"Tracked in cxloop: {link}"]
    labels = [LABEL] + ([f"theme:{item.theme}"] if item.theme else [])
    return ApiRequest(
        "POST",
        f"{endpoint.target.rstrip('/')}/repos/{endpoint.project}/issues",
        {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            **({"Authorization": f"Bearer {endpoint.secret}"} if endpoint.secret else {}),
        },
        {"title": item.title, "body": "\n".join(lines).strip(), "labels": labels},
    )


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _paragraph(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": [_text(text)] if text else []}


def jira_description(item: BacklogItem, link: str) -> dict[str, Any]:
    """The description as an Atlassian Document Format document (text nodes only: no markup
    from customer text is interpreted)."""
    content: list[dict[str, Any]] = []
    if item.description:
        content.append(_paragraph(item.description))
    content.append(
        {"type": "heading", "attrs": {"level": 3}, "content": [_text("Customer evidence")]}
    )
    content.append(
        {
            "type": "bulletList",
            "content": [{"type": "listItem", "content": [_paragraph(f)]} for f in _facts(item)],
        }
    )
    for quote in item.evidence.get("quotes", []):
        content.append({"type": "blockquote", "content": [_paragraph(quote)]})
    content.append(
        {
            "type": "paragraph",
            "content": [
                _text("Tracked in cxloop: "),
                {**_text(link), "marks": [{"type": "link", "attrs": {"href": link}}]},
            ],
        }
    )
    return {"type": "doc", "version": 1, "content": content}


def _jira_auth(endpoint: Endpoint) -> dict[str, str]:
    if not endpoint.secret:
        return {}
    if endpoint.username:
        token = base64.b64encode(f"{endpoint.username}:{endpoint.secret}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    return {"Authorization": f"Bearer {endpoint.secret}"}


def jira_request(item: BacklogItem, endpoint: Endpoint, link: str) -> ApiRequest:
    labels = [LABEL] + ([f"theme-{item.theme}"] if item.theme else [])
    return ApiRequest(
        "POST",
        f"{endpoint.target.rstrip('/')}/rest/api/3/issue",
        {"Accept": "application/json", **_jira_auth(endpoint)},
        {
            "fields": {
                "project": {"key": endpoint.project},
                "summary": item.title,
                "issuetype": {"name": "Task"},
                "labels": labels,
                "description": jira_description(item, link),
            }
        },
    )


def _call(
    request: ApiRequest, endpoint: Endpoint, transport: httpx.BaseTransport | None
) -> dict[str, Any]:
    try:
        client = webhooks.guarded_client(
            request.url, endpoint.allow_private, 15, transport=transport
        )
    except webhooks.UnsafeTargetError as exc:
        raise BacklogError(f"endpoint refused: {exc}", "endpoint_id") from None
    except OSError as exc:
        raise BacklogError(f"cannot resolve endpoint: {exc}", "endpoint_id", 502) from None
    try:
        with client:
            r = client.request(
                request.method, request.url, headers=request.headers, json=request.json
            )
    except httpx.HTTPError as exc:
        raise BacklogError(f"{endpoint.kind} did not answer: {exc}", None, 502) from None
    if r.status_code >= 300:
        raise BacklogError(f"{endpoint.kind} answered HTTP {r.status_code}", None, 502)
    try:
        data = r.json()
    except ValueError:
        raise BacklogError(f"{endpoint.kind} answered with invalid JSON", None, 502) from None
    return data if isinstance(data, dict) else {}


def export_item(
    *,
    session: Session,
    item: BacklogItem,
    endpoint: Endpoint,
    link: str,
    transport: httpx.BaseTransport | None = None,
) -> BacklogItem:
    """Create the external issue and store its key and URL on the item."""
    if endpoint.kind == "github":
        data = _call(github_request(item, endpoint, link), endpoint, transport)
        if "number" not in data:
            raise BacklogError("GitHub answered without an issue number", None, 502)
        item.external_key = f"{endpoint.project}#{data['number']}"
        item.external_url = str(data.get("html_url") or "")
        item.external_status = str(data.get("state") or "open")
    elif endpoint.kind == "jira":
        data = _call(jira_request(item, endpoint, link), endpoint, transport)
        if "key" not in data:
            raise BacklogError("Jira answered without an issue key", None, 502)
        item.external_key = str(data["key"])
        item.external_url = f"{endpoint.target.rstrip('/')}/browse/{data['key']}"
        item.external_status = "created"
    elif endpoint.kind == "webhook":
        delivery = queue_to_endpoint(
            session=session,
            endpoint=endpoint,
            event="backlog.item",
            title=item.title,
            text=item.description,
            data={
                "id": item.id,
                "title": item.title,
                "theme": item.theme,
                "link": link,
                "impact": item.impact,
                "evidence": item.evidence,
            },
        )
        item.external_key = delivery.msg_id
        item.external_url = None
        item.external_status = "queued"
    else:
        raise BacklogError(f"cannot export to a {endpoint.kind} endpoint", "endpoint_id")
    item.external_system = endpoint.kind
    item.endpoint_id = endpoint.id
    item.status = "exported"
    item.updated_at = utcnow()
    session.flush()
    return item


def _map_status(system: str, data: dict[str, Any]) -> tuple[str, str | None]:
    if system == "github":
        state = str(data.get("state") or "")
        return state, "done" if state == "closed" else None
    fields = data.get("fields") or {}
    status = fields.get("status") or {}
    name = str(status.get("name") or "")
    category = str((status.get("statusCategory") or {}).get("key") or "")
    local = {"done": "done", "indeterminate": "in_progress"}.get(category)
    return name, local


def sync_status(
    *,
    session: Session,
    item: BacklogItem,
    endpoint: Endpoint,
    transport: httpx.BaseTransport | None = None,
) -> BacklogItem:
    """Read the external issue's status and mirror it (closed/done -> ``done``)."""
    if not item.external_key or item.external_system not in ("github", "jira"):
        raise BacklogError("this item has no GitHub or Jira issue to sync", "external_key")
    base = endpoint.target.rstrip("/")
    if item.external_system == "github":
        number = item.external_key.rpartition("#")[2]
        url = f"{base}/repos/{endpoint.project}/issues/{number}"
        headers = github_request(item, endpoint, "").headers
    else:
        url = f"{base}/rest/api/3/issue/{item.external_key}?fields=status"
        headers = {"Accept": "application/json", **_jira_auth(endpoint)}
    data = _call(ApiRequest("GET", url, headers, None), endpoint, transport)
    external, local = _map_status(item.external_system, data)
    apply_external_status(session=session, item=item, external=external, local=local)
    return item


def apply_external_status(
    *, session: Session, item: BacklogItem, external: str, local: str | None
) -> BacklogItem:
    item.external_status = external[:100]
    if local is not None:
        item.status = local
    item.updated_at = utcnow()
    session.flush()
    return item
