"""Outbound webhooks: Standard Webhooks signing and verification, Slack-compatible chat
payloads, an SSRF guard for admin-entered URLs, a retry schedule, and one delivery attempt.

Retries are not looped here: the job queue calls :func:`deliver` once per attempt and waits
:func:`retry_delays` between them, so a worker never sleeps on a slow receiver.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import random
import secrets
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httpx

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 5 * 60  # seconds, as the Standard Webhooks spec recommends
USER_AGENT = "cxloop-webhooks/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Iterable[str]]


# -- signing (https://www.standardwebhooks.com/) ------------------------------------------


class WebhookVerificationError(ValueError):
    """A received webhook's headers, timestamp or signature do not check out."""


def generate_secret(num_bytes: int = 32) -> str:
    """A new signing secret in the ``whsec_<base64>`` format."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(num_bytes)).decode()


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError:
        raise ValueError("webhook secret must be 'whsec_' followed by base64") from None


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``v1,<base64 HMAC-SHA256>`` signature of ``{msg_id}.{timestamp}.{body}``."""
    content = f"{msg_id}.{timestamp}.".encode() + _as_bytes(body)
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secret: str,
    body: bytes | str,
    *,
    msg_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Headers for one webhook message. Reuse ``msg_id`` across retries of the same message
    so receivers can de-duplicate."""
    msg_id = msg_id or "msg_" + secrets.token_urlsafe(18)
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a received webhook; raise :class:`WebhookVerificationError` if it is not genuine
    or its timestamp is more than ``tolerance`` seconds away from ``now``."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id = lower["webhook-id"]
        raw_timestamp = lower["webhook-timestamp"]
        signatures = lower["webhook-signature"]
    except KeyError as missing:
        raise WebhookVerificationError(f"missing header {missing.args[0]}") from None
    try:
        timestamp = int(raw_timestamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not an integer") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance")
    expected = sign(secret, msg_id, timestamp, body).encode()
    # The header may carry several space-separated signatures while secrets are rotated.
    for candidate in signatures.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate.encode(), expected):
            return
    raise WebhookVerificationError("no matching signature")


# -- chat payloads -----------------------------------------------------------------------

_SECTION_LIMIT = 3000  # Slack's maximum for a section's text
_FIELD_LIMIT = 2000
_FALLBACK_LIMIT = 300


_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape_chat(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters; this also
    stops customer text from forming ``<!channel>`` mentions or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(text: str, limit: int) -> str:
    """Escape ``text`` and cut it to ``limit`` characters without splitting an entity."""
    escaped = escape_chat(text)
    if len(escaped) <= limit:
        return escaped
    pieces: list[str] = []
    size = 1  # room for the ellipsis
    for ch in text:
        piece = _ENTITIES.get(ch, ch)
        if size + len(piece) > limit:
            break
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces) + "…"


def chat_payload(
    title: str,
    text: str,
    *,
    fields: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    link: str | None = None,
    link_label: str = "Open in cxloop",
) -> dict[str, object]:
    """A Slack-compatible ``{"text", "blocks"}`` message; every string is escaped."""
    blocks: list[dict[str, object]] = [
        _mrkdwn_section(f"*{_fit(title, 200)}*\n{_fit(text, _SECTION_LIMIT - 210)}")
    ]
    pairs = list(fields.items()) if isinstance(fields, Mapping) else list(fields)
    if pairs:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{_fit(k, 100)}*\n{_fit(v, _FIELD_LIMIT - 110)}"}
                    for k, v in pairs[:10]  # Slack accepts at most ten fields
                ],
            }
        )
    if link is not None:
        if urlsplit(link).scheme.lower() not in ("http", "https"):
            raise ValueError("chat links must be http(s) URLs")
        # '|' and '>' would end the link early; percent-encoding keeps the URL equivalent.
        safe_url = escape_chat(quote(link, safe=":/?#[]@!$&'()*+,;=%~-._"))
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{safe_url}|{_fit(link_label, 80)}>"}],
            }
        )
    return {"text": _fit(f"{title}: {text}", _FALLBACK_LIMIT), "blocks": blocks}


def _mrkdwn_section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


# -- SSRF guard --------------------------------------------------------------------------


class UnsafeTargetError(ValueError):
    """A webhook URL is not allowed: bad scheme, or it reaches a non-public address."""


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def forbidden_reason(address: IPAddress) -> str | None:
    """Why an address must not be called from the server, or ``None`` for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        # Addresses that embed an IPv4 address are judged by the address they reach.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return forbidden_reason(embedded)
    for reason in ("loopback", "unspecified", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{reason}"):
            return reason.replace("_", "-")
    if not address.is_global:  # e.g. carrier-grade NAT 100.64.0.0/10
        return "non-global"
    return None


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def check_target(
    url: str, allow_private: bool = False, *, resolve: Resolver | None = None
) -> tuple[IPAddress, ...]:
    """Refuse ``url`` unless it is http(s) and every address its host resolves to is public.

    Returns the resolved addresses (empty when ``allow_private`` skips the lookup). Raises
    :class:`UnsafeTargetError` when refused and :class:`OSError` when the host does not
    resolve. Every address is checked because an attacker's DNS can mix public and private
    answers.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTargetError(f"invalid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeTargetError(f"scheme {scheme or '(none)'!r} is not allowed; use http or https")
    host = parts.hostname
    if not host:
        raise UnsafeTargetError("the URL has no host")
    if allow_private:
        return ()
    port = port or (443 if scheme == "https" else 80)
    resolved = (resolve or _system_resolver)(host, port)
    addresses = tuple(ipaddress.ip_address(a.split("%", 1)[0]) for a in resolved)
    if not addresses:
        raise OSError(f"{host} did not resolve")
    for address in addresses:
        reason = forbidden_reason(address)
        if reason is not None:
            raise UnsafeTargetError(f"{host} resolves to {address}, a {reason} address")
    return addresses


class PinnedTransport(httpx.BaseTransport):
    """Connects to the address the guard checked, not to whatever the host resolves to by
    the time of the request (a DNS-rebinding attacker answers a public address to the check
    and a private one to the connection). The ``Host`` header stays the URL's, and over
    HTTPS the TLS server name and certificate are checked against the URL's host name."""

    def __init__(self, address: IPAddress, inner: httpx.BaseTransport | None = None) -> None:
        self.address = address
        self.inner = inner or httpx.HTTPTransport(trust_env=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        request.url = request.url.copy_with(host=str(self.address))
        request.extensions = {**request.extensions, "sni_hostname": host}
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def guarded_client(
    url: str,
    allow_private: bool,
    timeout: float,
    *,
    resolve: Resolver | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A client for one call to ``url`` once :func:`check_target` let it through: it connects
    to the checked address, never follows redirects and ignores proxy variables. Raises as
    :func:`check_target` does."""
    addresses = check_target(url, allow_private, resolve=resolve)
    if addresses:
        transport = PinnedTransport(addresses[0], transport)
    return httpx.Client(
        timeout=timeout, follow_redirects=False, trust_env=False, transport=transport
    )


# -- retries and delivery ----------------------------------------------------------------


def retry_delays(
    max_attempts: int,
    *,
    base: float = 5.0,
    factor: float = 5.0,
    cap: float = 10 * 3600.0,
    jitter: float = 0.25,
    rng: random.Random | None = None,
) -> list[float]:
    """Seconds to wait before attempts 2..``max_attempts``: ``base * factor**n`` capped at
    ``cap``, each shortened by a random fraction up to ``jitter`` so that many failed
    deliveries do not retry in lockstep. The defaults give about 5 s, 25 s, 2 min, 10 min,
    52 min, 4.3 h, then 10 h."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if not 0 <= jitter < 1:
        raise ValueError("jitter must be in [0, 1)")
    draw = (rng or random.Random()).random
    delays = []
    for n in range(max_attempts - 1):
        delay = min(cap, base * factor**n)
        delays.append(delay * (1 - jitter * draw()))
    return delays


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    ok: bool
    status: int | None  # HTTP status, None when no response arrived
    error: str | None
    duration: float  # seconds
    retryable: bool  # worth another attempt later (network error, timeout, 408/425/429/5xx)


_RETRYABLE_STATUS = frozenset({408, 425, 429})


def deliver(
    url: str,
    body: bytes | str,
    headers: Mapping[str, str],
    timeout: float = 10.0,
    *,
    allow_private: bool = False,
    resolve: Resolver | None = None,
    transport: httpx.BaseTransport | None = None,
) -> DeliveryResult:
    """POST one webhook attempt. Redirects are not followed (they could lead past the SSRF
    guard) and the response body is never read."""
    started = time.perf_counter()

    def result(status: int | None, error: str | None, retryable: bool) -> DeliveryResult:
        ok = status is not None and 200 <= status < 300
        return DeliveryResult(ok, status, error, time.perf_counter() - started, retryable)

    try:
        client = guarded_client(url, allow_private, timeout, resolve=resolve, transport=transport)
    except UnsafeTargetError as exc:
        return result(None, f"refused: {exc}", False)
    except OSError as exc:
        return result(None, f"cannot resolve host: {exc}", True)
    request_headers = {"user-agent": USER_AGENT, **headers}
    try:
        with (
            client,
            client.stream("POST", url, content=_as_bytes(body), headers=request_headers) as r,
        ):
            status = r.status_code
    except httpx.TimeoutException:
        return result(None, f"timed out after {timeout:g} s", True)
    except httpx.HTTPError as exc:
        return result(None, f"{type(exc).__name__}: {exc}", True)
    if 200 <= status < 300:
        return result(status, None, False)
    retryable = status >= 500 or status in _RETRYABLE_STATUS
    return result(status, f"HTTP {status}", retryable)
