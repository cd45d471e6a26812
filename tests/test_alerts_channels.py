"""Delivery channels against real local receivers: an SMTP server (aiosmtpd), an HTTP server for
webhooks and apprise, and feedparser for the Atom feed. No database needed."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage, Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import feedparser
import pytest
from aiosmtpd.controller import Controller

from drugradar.alerts.channels import ChannelError, RenderedDigest
from drugradar.alerts.channels.apprise_channel import send_apprise
from drugradar.alerts.channels.email import SmtpSettings, send_email
from drugradar.alerts.channels.feed import atom_feed
from drugradar.alerts.channels.webhook import (
    send_webhook,
    validate_webhook_url,
    verify_signature,
)
from drugradar.model.event import Event, EventSource, Materiality
from drugradar.track.query import as_dict, source_url

SECRET = "s3cret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_digest(key: str = "digest-42-email", unsub: str | None = None) -> RenderedDigest:
    return RenderedDigest(
        subject="drugradar: 2 changes for My drugs",
        text="Trial NCT00000001 moved to Phase 3.\nLabel changed.",
        html="<p>Trial NCT00000001 moved to <b>Phase 3</b>.</p>",
        payload={
            "digest_id": 42,
            "subscription": {"id": 7, "name": "My drugs"},
            "period_end": "2024-05-01T08:00:00+00:00",
            "items": [{"id": 1, "summary": "Trial NCT00000001 moved to Phase 3 — ünïcode"}],
        },
        idempotency_key=key,
        unsubscribe_url=unsub,
    )


# --- SMTP -----------------------------------------------------------------------------------


class Collector:
    """aiosmtpd handler: keeps every envelope; refuses recipients at ``refuse`` domains."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.refuse = "refused.invalid"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.endswith("@" + self.refuse):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, SmtpSettings]]:
    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, SmtpSettings(host="127.0.0.1", port=port, sender="Radar <radar@example.org>")
    finally:
        controller.stop()


def parse(envelope: Any) -> EmailMessage:
    msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_email_multipart_with_unsubscribe_headers(
    smtp: tuple[Collector, SmtpSettings],
) -> None:
    handler, settings = smtp
    unsub = "https://radar.example.org/unsubscribe?token=abc.def"
    d = make_digest(unsub=unsub)
    send_email(settings, ["a@example.org", "b@example.org"], d)
    assert len(handler.envelopes) == 1
    env = handler.envelopes[0]
    assert sorted(env.rcpt_tos) == ["a@example.org", "b@example.org"]
    assert env.mail_from == "radar@example.org"
    msg = parse(env)
    assert msg["Subject"] == d.subject
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n").strip() == d.text
    assert html.get_content().replace("\r\n", "\n").strip() == d.html
    assert msg["List-Unsubscribe"] == f"<{unsub}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["X-Drugradar-Digest"] == d.idempotency_key
    assert "a@example.org" in msg["To"] and "b@example.org" in msg["To"]


def test_email_resend_keeps_message_id(smtp: tuple[Collector, SmtpSettings]) -> None:
    handler, settings = smtp
    send_email(settings, ["a@example.org"], make_digest("key-1"))
    send_email(settings, ["a@example.org"], make_digest("key-1"))
    send_email(settings, ["a@example.org"], make_digest("key-2"))
    ids = [parse(e)["Message-ID"] for e in handler.envelopes]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0].startswith("<") and ids[0].endswith("@example.org>")
    # No unsubscribe URL: no unsubscribe headers.
    msg: Message = parse(handler.envelopes[0])
    assert msg["List-Unsubscribe"] is None and msg["List-Unsubscribe-Post"] is None


def test_email_errors_are_channel_errors(smtp: tuple[Collector, SmtpSettings]) -> None:
    handler, settings = smtp
    with pytest.raises(ChannelError, match="refused") as info:
        send_email(settings, [f"x@{handler.refuse}"], make_digest())
    assert "550" in str(info.value) and "Traceback" not in str(info.value)
    closed = SmtpSettings(host="127.0.0.1", port=free_port())
    with pytest.raises(ChannelError, match="could not be reached"):
        send_email(closed, ["a@example.org"], make_digest())
    with pytest.raises(ChannelError, match="recipient"):
        send_email(settings, [], make_digest())
    assert handler.envelopes == []


def test_smtp_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "USER", "PASSWORD", "STARTTLS", "FROM"):
        monkeypatch.delenv(f"DRUGRADAR_SMTP_{name}", raising=False)
    default = SmtpSettings.from_env()
    assert (default.host, default.port, default.starttls) == ("127.0.0.1", 25, False)
    assert default.sender == "drugradar <alerts@localhost>" and default.user is None
    monkeypatch.setenv("DRUGRADAR_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("DRUGRADAR_SMTP_PORT", "587")
    monkeypatch.setenv("DRUGRADAR_SMTP_STARTTLS", "1")
    monkeypatch.setenv("DRUGRADAR_SMTP_USER", "bot")
    s = SmtpSettings.from_env()
    assert (s.host, s.port, s.starttls, s.user) == ("mail.example.org", 587, True, "bot")


# --- HTTP receiver (webhooks, apprise) ------------------------------------------------------


@dataclass
class Receiver:
    url: str
    status: int = 204
    location: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    rec = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rec.requests.append(
                {
                    "path": self.path,
                    "body": body,
                    "content_type": self.headers.get("Content-Type"),
                    "signed": verify_signature(
                        body, self.headers.get("X-Drugradar-Signature", ""), SECRET
                    ),
                    "signature": self.headers.get("X-Drugradar-Signature"),
                    "key": self.headers.get("X-Drugradar-Idempotency-Key"),
                }
            )
            self.send_response(rec.status)
            if rec.location:
                self.send_header("Location", rec.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_webhook_signed_and_idempotent(receiver: Receiver) -> None:
    d = make_digest("digest-42-webhook")
    send_webhook(receiver.url, SECRET, d, allow_private=True)
    send_webhook(receiver.url, SECRET, d, allow_private=True)
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first["signed"] is True
    assert first["content_type"] == "application/json"
    assert first["key"] == second["key"] == "digest-42-webhook"
    assert json.loads(first["body"]) == d.payload
    # The signature covers the exact bytes and the secret.
    body, header = first["body"], first["signature"]
    assert not verify_signature(body + b" ", header, SECRET)
    assert not verify_signature(body, header, "another secret")
    assert not verify_signature(body, header.removeprefix("sha256="), SECRET)
    assert not verify_signature(body, "", SECRET)


def test_webhook_error_status(receiver: Receiver) -> None:
    receiver.status = 500
    with pytest.raises(ChannelError, match="500"):
        send_webhook(receiver.url, SECRET, make_digest(), allow_private=True)


def test_webhook_does_not_follow_redirects(receiver: Receiver) -> None:
    receiver.status = 302
    receiver.location = receiver.url + "elsewhere"
    with pytest.raises(ChannelError, match="302"):
        send_webhook(receiver.url, SECRET, make_digest(), allow_private=True)
    assert [r["path"] for r in receiver.requests] == ["/"]


def test_webhook_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(ChannelError, match="could not be reached"):
        send_webhook(url, SECRET, make_digest(), allow_private=True)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://example.com/hook", "https"),
        ("https://user:pw@example.com/hook", "user name or password"),
        ("https:///hook", "host"),
        ("https://127.0.0.1/", "private or reserved"),
        ("https://10.0.0.1/", "private or reserved"),
        ("https://[::1]/", "private or reserved"),
        ("https://169.254.169.254/", "private or reserved"),
        ("https://[::ffff:10.0.0.1]/", "private or reserved"),
        ("https://224.0.0.1/", "private or reserved"),
        ("https://localhost/", "private or reserved"),
    ],
)
def test_validate_refuses(url: str, why: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRUGRADAR_WEBHOOK_ALLOW_PRIVATE", raising=False)
    with pytest.raises(ValueError, match=why):
        validate_webhook_url(url)
    with pytest.raises(ChannelError, match=why):
        send_webhook(url, SECRET, make_digest())


def test_validate_private_only_when_allowed(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DRUGRADAR_WEBHOOK_ALLOW_PRIVATE", raising=False)
    with pytest.raises(ValueError):
        validate_webhook_url(receiver.url)
    with pytest.raises(ValueError):
        validate_webhook_url(receiver.url, allow_private=False)
    with pytest.raises(ValueError, match="private or reserved"):
        validate_webhook_url(receiver.url.replace("http:", "https:"))
    assert validate_webhook_url(receiver.url, allow_private=True) == receiver.url
    # Even when allowed, credentials and other schemes stay refused.
    with pytest.raises(ValueError):
        validate_webhook_url("http://u:p@127.0.0.1/", allow_private=True)
    with pytest.raises(ValueError):
        validate_webhook_url("ftp://127.0.0.1/", allow_private=True)
    # The admin setting turns it on by default.
    monkeypatch.setenv("DRUGRADAR_WEBHOOK_ALLOW_PRIVATE", "1")
    assert validate_webhook_url(receiver.url) == receiver.url
    send_webhook(receiver.url, SECRET, make_digest())
    assert receiver.requests[0]["signed"] is True


# --- apprise --------------------------------------------------------------------------------


def test_apprise_json(receiver: Receiver) -> None:
    d = make_digest()
    send_apprise([receiver.url.replace("http://", "json://")], d)
    assert len(receiver.requests) == 1
    posted = json.loads(receiver.requests[0]["body"])
    assert posted["title"] == d.subject
    assert posted["message"].strip() == d.text


def test_apprise_failures(receiver: Receiver) -> None:
    receiver.status = 500
    with pytest.raises(ChannelError, match="could not deliver"):
        send_apprise([receiver.url.replace("http://", "json://")], make_digest())
    with pytest.raises(ChannelError, match="not a URL apprise understands"):
        send_apprise(["nosuchscheme://whatever"], make_digest())
    with pytest.raises(ChannelError):
        send_apprise([], make_digest())


# --- Atom feed ------------------------------------------------------------------------------


def events() -> list[dict[str, Any]]:
    seen = datetime(2024, 5, 2, 6, 30, tzinfo=UTC)
    trial = Event(
        id=11,
        family="trial",
        type="phase_change",
        entity_kind="trial",
        entity_id="NCT00000001",
        summary="Test trial moved from Phase 2 to Phase 3",
        field="phase",
        old="PHASE2",
        new="PHASE3",
        days_shifted=None,
        materiality=Materiality.HIGH,
        baseline=False,
        as_of=date(2024, 5, 1),
        event_date=None,
        first_seen_at=seen,
        sources=[EventSource("ctgov", "NCT00000001", 1, date(2024, 5, 1))],
    )
    hostile = Event(
        id=12,
        family="label",
        type="section_changed",
        entity_kind="label",
        entity_id="setid-x",
        summary="Label text <script>alert(1)</script> changed",
        field="warnings",
        old=None,
        new="<script>alert(2)</script> & more",
        days_shifted=None,
        materiality=Materiality.MEDIUM,
        baseline=False,
        as_of=date(2024, 4, 30),
        event_date=None,
        first_seen_at=datetime(2024, 5, 1, 9, 0),  # naive, as SQLite returns it
        sources=[EventSource("some_source", "rec-1", None, None)],
    )
    return [as_dict(trial), as_dict(hostile)]


def test_atom_feed_parses() -> None:
    evs = events()
    xml = atom_feed("drugradar: My drugs", "https://radar.example.org/feed/abc", evs)
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "drugradar: My drugs"
    assert len(parsed.entries) == len(evs)
    by_id = {e.id: e for e in parsed.entries}
    for ev in evs:
        entry = by_id[f"tag:drugradar,{ev['as_of']}:event/{ev['id']}"]
        assert entry.title == ev["summary"]
        expected = datetime.fromisoformat(ev["first_seen_at"]).replace(tzinfo=UTC)
        assert entry.updated_parsed[:6] == expected.timetuple()[:6]
        assert ev["materiality"] in entry.content[0].value
    trial = by_id["tag:drugradar,2024-05-01:event/11"]
    assert trial.link == source_url("ctgov", "NCT00000001")
    assert "PHASE2 → PHASE3" in trial.content[0].value
    assert "ctgov NCT00000001" in trial.content[0].value
    # An event without a linkable source has no alternate link of its own.
    hostile = by_id["tag:drugradar,2024-04-30:event/12"]
    assert not hostile.get("links")


def test_atom_feed_escapes_source_text() -> None:
    xml = atom_feed("t", "https://radar.example.org/feed/abc", events())
    assert b"<script" not in xml
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in xml
    assert b"&lt;script&gt;alert(2)&lt;/script&gt; &amp; more" in xml


def test_atom_feed_empty_and_control_characters() -> None:
    ev = events()[0] | {"summary": "bad\x00\x0bchars"}
    parsed = feedparser.parse(atom_feed("t", "https://radar.example.org/f", [ev]))
    assert not parsed.bozo and parsed.entries[0].title == "badchars"
    empty = feedparser.parse(atom_feed("t", "https://radar.example.org/f", []))
    assert not empty.bozo and empty.entries == []
