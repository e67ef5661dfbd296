import ipaddress
import json
import random
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cxloop.act.webhooks import (
    UnsafeTargetError,
    WebhookVerificationError,
    chat_payload,
    check_target,
    deliver,
    escape_chat,
    forbidden_reason,
    generate_secret,
    retry_delays,
    sign,
    signed_headers,
    verify,
)

# Published example from the Standard Webhooks / Svix documentation.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


# -- signing ------------------------------------------------------------------------------


def test_sign_matches_the_published_example():
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY.encode()) == SPEC_SIGNATURE


def _spec_headers(signature: str = SPEC_SIGNATURE, ts: int = SPEC_TS) -> dict[str, str]:
    return {"Webhook-Id": SPEC_ID, "Webhook-Timestamp": str(ts), "Webhook-Signature": signature}


def test_verify_accepts_the_published_example():
    verify(SPEC_SECRET, _spec_headers(), SPEC_BODY, now=SPEC_TS + 10)


def test_verify_accepts_any_of_several_signatures():
    headers = _spec_headers(f"v1,bm90IHRoaXMgb25l {SPEC_SIGNATURE}")
    verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TS)


@pytest.mark.parametrize(
    ("headers", "body", "now", "reason"),
    [
        (_spec_headers(), SPEC_BODY + " ", SPEC_TS, "no matching signature"),
        (_spec_headers("v2," + SPEC_SIGNATURE[3:]), SPEC_BODY, SPEC_TS, "no matching signature"),
        (_spec_headers(), SPEC_BODY, SPEC_TS + 301, "outside the tolerance"),
        (_spec_headers(), SPEC_BODY, SPEC_TS - 301, "outside the tolerance"),
        ({"webhook-id": SPEC_ID}, SPEC_BODY, SPEC_TS, "missing header"),
        (_spec_headers(ts="soon"), SPEC_BODY, SPEC_TS, "not an integer"),
    ],
)
def test_verify_rejects(headers, body, now, reason):
    with pytest.raises(WebhookVerificationError, match=reason):
        verify(SPEC_SECRET, headers, body, now=now)


def test_verify_rejects_a_different_secret():
    with pytest.raises(WebhookVerificationError):
        verify(generate_secret(), _spec_headers(), SPEC_BODY, now=SPEC_TS)


def test_verify_with_wider_tolerance():
    verify(SPEC_SECRET, _spec_headers(), SPEC_BODY, now=SPEC_TS + 3000, tolerance=3600)


def test_signed_headers_round_trip_and_keep_the_message_id():
    secret = generate_secret()
    assert secret.startswith("whsec_")
    body = json.dumps({"case": 42, "text": "解約したい"}).encode()
    headers = signed_headers(secret, body, msg_id="msg_fixed")
    assert headers["webhook-id"] == "msg_fixed"
    assert headers["webhook-signature"].startswith("v1,")
    verify(secret, headers, body)
    fresh = signed_headers(secret, body)
    assert fresh["webhook-id"].startswith("msg_") and fresh["webhook-id"] != "msg_fixed"


def test_malformed_secret_is_rejected():
    with pytest.raises(ValueError, match="whsec_"):
        sign("whsec_not base64!", "id", 1, "x")


# -- chat payloads ------------------------------------------------------------------------


def test_chat_payload_escapes_customer_text():
    payload = chat_payload(
        "Detractor <NPS 2>",
        "Fees & charges <!channel> are > last year",
        fields={"Store": "Shibuya & Co", "Score": "2"},
        link="https://cx.example.com/cases/7?tab=a&b=<c>|d",
    )
    dumped = json.dumps(payload, ensure_ascii=False)
    assert "<!channel>" not in dumped
    assert "Fees &amp; charges &lt;!channel&gt; are &gt; last year" in dumped
    assert payload["text"].startswith("Detractor &lt;NPS 2&gt;: Fees &amp; charges")
    blocks = payload["blocks"]
    assert blocks[0]["text"]["text"].startswith("*Detractor &lt;NPS 2&gt;*\n")
    assert blocks[1]["fields"][0]["text"] == "*Store*\nShibuya &amp; Co"
    link = blocks[2]["elements"][0]["text"]
    assert link == "<https://cx.example.com/cases/7?tab=a&amp;b=%3Cc%3E%7Cd|Open in cxloop>"


def test_chat_payload_truncates_long_text_without_breaking_entities():
    payload = chat_payload("t", "&" * 5000)
    text = payload["blocks"][0]["text"]["text"]
    assert len(text) <= 3000
    assert text.endswith("&amp;&amp;…")
    assert text.startswith("*t*\n&amp;")
    assert len(payload["text"]) <= 300


def test_chat_payload_without_fields_or_link_has_one_block():
    assert len(chat_payload("t", "x")["blocks"]) == 1


def test_chat_payload_refuses_non_http_links():
    with pytest.raises(ValueError):
        chat_payload("t", "x", link="javascript:alert(1)")


def test_escape_chat():
    assert escape_chat("a & b < c > d") == "a &amp; b &lt; c &gt; d"


# -- SSRF guard ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata endpoint
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-global"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 wrapping 169.254.169.254
    ],
)
def test_forbidden_addresses(address, reason):
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address):
    assert forbidden_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://2130706433/hook",  # 127.0.0.1 written as one integer
        "http://0x7f.1/hook",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_check_target_refuses_local_urls(url):
    with pytest.raises(UnsafeTargetError):
        check_target(url)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://h/", "//h/x"]
)
def test_check_target_refuses_other_schemes(url):
    with pytest.raises(UnsafeTargetError, match="scheme"):
        check_target(url, allow_private=True)


def test_check_target_allows_private_when_asked():
    assert check_target("http://127.0.0.1:9/hook", allow_private=True) == ()


def test_check_target_accepts_a_public_literal():
    assert check_target("https://93.184.216.34/hook") == (ipaddress.ip_address("93.184.216.34"),)


def test_check_target_refuses_a_host_with_any_private_answer():
    def resolve(host, port):
        assert (host, port) == ("hooks.example.com", 443)
        return ["93.184.216.34", "10.0.0.5"]

    with pytest.raises(UnsafeTargetError, match="10.0.0.5, a private address"):
        check_target("https://hooks.example.com/x", resolve=resolve)
    assert check_target("https://hooks.example.com/x", resolve=lambda h, p: ["93.184.216.34"])


def test_check_target_rejects_bad_ports():
    with pytest.raises(UnsafeTargetError, match="invalid URL"):
        check_target("http://example.com:99999/")


# -- retry schedule -----------------------------------------------------------------------


def test_retry_delays_grow_exponentially_with_bounded_jitter():
    delays = retry_delays(8, rng=random.Random(1))
    assert len(delays) == 7
    nominal = [5, 25, 125, 625, 3125, 15625, 36000]
    for delay, expected in zip(delays, nominal, strict=True):
        assert 0.75 * expected <= delay <= expected
    assert delays[-1] <= 36000


def test_retry_delays_without_jitter_are_exact():
    assert retry_delays(4, base=1, factor=2, jitter=0) == [1, 2, 4]
    assert retry_delays(1) == []


def test_retry_delays_are_jittered():
    assert retry_delays(5, rng=random.Random(1)) != retry_delays(5, rng=random.Random(2))


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"max_attempts": 3, "jitter": 1.0}])
def test_retry_delays_validate(kwargs):
    with pytest.raises(ValueError):
        retry_delays(**kwargs)


# -- delivery against a real local server -------------------------------------------------


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, secret: str, statuses: list[int]):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secret = secret
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes, str]] = []
        self.release = threading.Event()
        self.hang = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/cx"


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = dict(self.headers.items())
        try:
            verify(self.server.secret, headers, body)
            verdict = "verified"
        except WebhookVerificationError as exc:
            verdict = str(exc)
        self.server.received.append((headers, body, verdict))
        if self.server.hang:
            self.server.release.wait(10)
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        if verdict != "verified":
            status = 401
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver(generate_secret(), [500, 500])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


def test_delivery_fails_twice_then_succeeds_with_a_verified_signature(receiver):
    body = json.dumps({"type": "case.opened", "case_id": 7, "text": "解約"}).encode()
    headers = signed_headers(receiver.secret, body)
    results = []
    for _ in range(3):  # the job queue would wait retry_delays() between these
        result = deliver(receiver.url, body, headers, timeout=5, allow_private=True)
        results.append(result)
        if not result.retryable:
            break
    assert [r.status for r in results] == [500, 500, 200]
    assert [r.ok for r in results] == [False, False, True]
    assert results[0].error == "HTTP 500" and results[0].retryable
    assert results[-1].error is None and results[-1].duration > 0
    assert [verdict for _, _, verdict in receiver.received] == ["verified"] * 3
    assert {h["webhook-id"] for h, _, _ in receiver.received} == {headers["webhook-id"]}
    assert all(b == body for _, b, _ in receiver.received)


def test_delivery_with_a_bad_signature_is_rejected_by_the_receiver(receiver):
    receiver.statuses.clear()
    body = b'{"x": 1}'
    headers = signed_headers(generate_secret(), body)
    result = deliver(receiver.url, body, headers, allow_private=True)
    assert (result.status, result.ok, result.retryable) == (401, False, False)
    assert receiver.received[0][2] == "no matching signature"


def test_delivery_to_a_private_address_is_refused_by_default(receiver):
    result = deliver(receiver.url, b"{}", {}, timeout=5)
    assert not result.ok and not result.retryable and result.status is None
    assert result.error.startswith("refused: 127.0.0.1 resolves to 127.0.0.1, a loopback")
    assert receiver.received == []


def test_delivery_timeout_is_retryable(receiver):
    receiver.hang = True
    result = deliver(receiver.url, b"{}", {}, timeout=0.2, allow_private=True)
    assert (result.ok, result.status, result.retryable) == (False, None, True)
    assert result.error == "timed out after 0.2 s"


def test_delivery_to_a_closed_port_is_a_retryable_connection_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = deliver(f"http://127.0.0.1:{port}/", b"{}", {}, timeout=2, allow_private=True)
    assert (result.ok, result.status, result.retryable) == (False, None, True)
    assert result.error.startswith("ConnectError")


@pytest.mark.parametrize(
    ("status", "retryable"), [(404, False), (410, False), (429, True), (302, False)]
)
def test_status_codes_decide_whether_to_retry(receiver, status, retryable):
    receiver.statuses[:] = [status]
    body = b"{}"
    result = deliver(receiver.url, body, signed_headers(receiver.secret, body), allow_private=True)
    assert (result.status, result.ok, result.retryable) == (status, False, retryable)
