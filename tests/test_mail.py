from __future__ import annotations

import pytest

from cxloop.config import Settings
from cxloop.mail import Attachment, InvalidAddress, Mail, MailError, check_address, send
from tests.conftest import SmtpServer, free_port


def test_sends_html_with_attachment_in_japanese(mail_settings: Settings, smtp_server: SmtpServer):
    send(
        mail_settings,
        Mail(
            to="hanako@example.jp",
            subject="週次ダイジェスト",
            text="今週のスコア",
            html="<p>今週のスコア</p>",
            attachments=[Attachment("digest.pdf", b"%PDF-1.7 test", "application/pdf")],
        ),
    )
    [msg] = smtp_server.parsed()
    assert msg["Subject"] == "週次ダイジェスト"
    assert msg["To"] == "hanako@example.jp"
    html = msg.get_body(("html",)).get_content()
    assert "今週のスコア" in html
    [att] = list(msg.iter_attachments())
    assert att.get_filename() == "digest.pdf"
    assert att.get_content() == b"%PDF-1.7 test"


@pytest.mark.parametrize("bad", ["no-at-sign", "a@b", "two@@example.com", "sp ace@example.com", ""])
def test_malformed_addresses_are_refused(bad: str):
    with pytest.raises(InvalidAddress):
        check_address(bad)


def test_server_down_raises_mail_error(settings: Settings):
    down = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    with pytest.raises(MailError):
        send(down, Mail(to="a@example.com", subject="s", text="t"), timeout=2)
