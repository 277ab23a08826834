"""pb_engine.mailer: the outbox writes each mail as a file (and logs where, never the body), SMTP sends
with STARTTLS and a login when set, and the settings choose between them."""

from __future__ import annotations

import email
import logging

from pb_engine import mailer

MAIL = mailer.Mail(to="ada@example.org", subject="Finish signing up", body="Open https://pb.example/alpha/signup/T")


def test_the_outbox_writes_an_eml_file_and_logs_the_recipient_only(tmp_path, caplog):
    box = mailer.from_settings({}, tmp_path / "outbox")
    assert isinstance(box, mailer.OutboxMailer)
    with caplog.at_level(logging.WARNING, logger="pb_engine.mailer"):
        box.send(MAIL)
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    msg = email.message_from_bytes(files[0].read_bytes())
    assert msg["To"] == "ada@example.org" and msg["Subject"] == "Finish signing up"
    assert "signup/T" in msg.get_payload(decode=True).decode()
    assert "ada@example.org" in caplog.text and "signup/T" not in caplog.text


def test_smtp_sends_with_starttls_and_login(monkeypatch):
    calls = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            calls.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            calls.append(("quit",))

        def starttls(self, context):
            calls.append(("starttls",))

        def login(self, user, password):
            calls.append(("login", user, password))

        def send_message(self, msg):
            calls.append(("send", msg["From"], msg["To"], msg["Subject"]))

    monkeypatch.setattr(mailer.smtplib, "SMTP", FakeSMTP)
    smtp = mailer.from_settings({"PB_SMTP_HOST": "mail.example.org", "PB_SMTP_USER": "pb", "PB_SMTP_PASSWORD": "pw",
                                 "PB_MAIL_FROM": "PB <pb@example.org>"}, "unused")
    assert isinstance(smtp, mailer.SMTPMailer)
    smtp.send(MAIL)
    assert calls == [("connect", "mail.example.org", 587), ("starttls",), ("login", "pb", "pw"),
                     ("send", "PB <pb@example.org>", "ada@example.org", "Finish signing up"), ("quit",)]
