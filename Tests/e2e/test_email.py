"""Email: raw RFC 5322 mail into a real server (the webhook and IMAP polling of a real Dovecot), and the hub's
replies through a real SMTP relay on loopback (aiosmtpd), both from mail_servers.py.

Test mail is built with Python's `email` package (`EmailMessage`, serialized with CRLF as on the wire), so it looks
like what mail clients and MTAs send; what the hub sends is parsed back with `email.policy.default` and every header
checked against RFC 5322/2045/2047 and the hub's documented behaviour. Every wait has a timeout, so a message that
never comes fails the test instead of hanging it.

Threading tests are built so that the hub's generic fallback (a customer's latest unresolved conversation) would
give a different answer than real threading: the conversation a reply must join is resolved, or older than another
open one, whenever that matters.
"""

import base64
import binascii
import re
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, parsedate_to_datetime
import email.policy

import pytest
import requests

from conftest import assert_error, get_conversation, get_message, messages_of, staff_token, wait_for, wait_state
from mail_servers import Received, SmtpCapture

HUB_ADDRESS = "support@example.test"
HUB_DOMAIN = "example.test"
FROM_NAME = "Acme Support"
REPLY_SECRET = "reply-secret-1"
WEBHOOK_SECRET = "hook-secret-1"
CUSTOMER = "wu.fang@mail.customer.test"
CUSTOMER_NAME = "Wu Fang"
STRANGER = "mallory@evil.test"

MAX_SIZE = 25 * 1024 * 1024
WAIT = 10.0  # a reply reaching the relay, a state change
RETRY_WAIT = 30.0  # the outbox's backoff after a 4xx
IMAP_WAIT = 15.0  # pollSeconds is 1
WIRE = email.policy.SMTP  # CRLF line endings, as mail travels

REPLY_TO = re.compile(r"support\+([^@\s]+)@example\.test")
HUB_MESSAGE_ID = re.compile(r"<(msg_[0-9A-Za-z]+)@example\.test>")
ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")


# -- configuration and fixtures ------------------------------------------------------------------


def email_config(smtp: SmtpCapture, imap=None, smtp_auth: tuple = None, max_attempts: int = None, **settings) -> dict:
    """The switchboard.json of an email hub whose relay is `smtp` (and mailbox `imap`, polled every second)."""
    username, password = smtp_auth or (None, None)
    config = {
        "email": {
            "address": HUB_ADDRESS,
            "fromName": FROM_NAME,
            "replySecret": REPLY_SECRET,
            "webhookSecret": WEBHOOK_SECRET,
            "smtp": {"url": smtp.url, "tls": "none", "username": username, "password": password},
            **settings,
        }
    }
    if imap is not None:
        config["email"]["imap"] = {
            "url": imap.url, "username": imap.user, "password": imap.password, "tls": "none", "pollSeconds": 1,
        }
    if max_attempts is not None:
        config["outbox"] = {"maxAttempts": max_attempts}
    return config


@pytest.fixture
def hub(make_server, smtp_capture):
    """A server with the email channel, its relay the capture server, no IMAP polling."""
    return make_server(email_config(smtp_capture))


# -- building customer mail ----------------------------------------------------------------------


def new_message_id(domain: str = "mail.customer.test") -> str:
    """A Message-ID as a mail client makes one (short enough that the header is not folded)."""
    return f"<{uuid.uuid4().hex}@{domain}>"


def customer_mail(subject: str, text: str, from_: str = CUSTOMER, name: str = CUSTOMER_NAME, to: str = HUB_ADDRESS,
                  message_id: str = None, in_reply_to: str = None, references: list = None, html: str = None,
                  headers: dict = None, charset: str = "utf-8", cte: str = None) -> EmailMessage:
    """A mail as a customer's client writes it: From, To, Subject, Date, Message-ID (unless `message_id` is ""),
    threading headers when given, a text/plain body (multipart/alternative with `html`), extra `headers`."""
    mail = EmailMessage()
    mail["From"] = f"{name} <{from_}>" if name else from_
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(datetime.now(timezone.utc))
    if message_id != "":
        mail["Message-ID"] = message_id or new_message_id()
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = " ".join(references)
    mail["User-Agent"] = "Mozilla Thunderbird 115.0"
    for name_, value in (headers or {}).items():
        mail[name_] = value
    if cte:
        mail.set_content(text, charset=charset, cte=cte)
    else:
        mail.set_content(text, charset=charset)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    return mail


AUTO_REPLY_HEADERS = [  # each marks a mail as automatic (RFC 3834 and common practice)
    {"Auto-Submitted": "auto-replied"},
    {"Auto-Submitted": "auto-generated"},
    {"Auto-Submitted": "auto-replied; owner-email=\"wu.fang@mail.customer.test\""},
    {"Precedence": "bulk"},
    {"Precedence": "junk"},
    {"Precedence": "list"},
    {"X-Autoreply": "yes"},
]

MALFORMED = {  # input that is not an RFC 5322 message
    "no header block": b"hello, this is just a line of text\r\nand another one, without any header at all\r\n",
    "binary garbage": bytes(range(256)) * 8 + b"\x00\xff\xfe\x00" * 64,
}


def wire(mail) -> bytes:
    return mail if isinstance(mail, bytes) else mail.as_bytes(policy=WIRE)


def dsn(original: Received, status: str, diagnostic: str, action: str = "failed", full_original: bool = False,
        original_message_id: str = None) -> bytes:
    """A delivery status notification (RFC 3464) as Postfix writes it, back to the envelope sender of `original`:
    multipart/report; report-type=delivery-status with an explanation, message/delivery-status, and the original's
    headers (text/rfc822-headers) or the whole original (message/rfc822)."""
    raw = original.raw
    split = raw.find(b"\r\n\r\n")
    head = raw[:split] if split >= 0 else raw.split(b"\n\n", 1)[0]
    if original_message_id is not None:
        head = re.sub(rb"(?im)^Message-ID:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*", b"Message-ID: " + original_message_id.encode(), head)
    recipient = original.rcpt_tos[0]
    boundary = f"{uuid.uuid4().hex[:12].upper()}.{int(time.time())}/relay.example.test"
    now = format_datetime(datetime.now(timezone.utc))
    queue_id = uuid.uuid4().hex[:10].upper()
    lines = [
        "Return-Path: <>",
        f"Received: by relay.example.test (Postfix) id {queue_id}; {now}",
        f"Date: {now}",
        "From: MAILER-DAEMON@relay.example.test (Mail Delivery System)",
        "Subject: Undelivered Mail Returned to Sender",
        f"To: {original.mail_from}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "Content-Transfer-Encoding: 7bit",
        f"Message-Id: <{uuid.uuid4().hex}@relay.example.test>",
        "",
        "This is a MIME-encapsulated message.",
        "",
        f"--{boundary}",
        "Content-Description: Notification",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "This is the mail system at host relay.example.test.",
        "",
        "I'm sorry to have to inform you that your message could not",
        "be delivered to one or more recipients. It's attached below.",
        "",
        f"<{recipient}>: host mx.customer.test[192.0.2.25] said: {diagnostic}",
        "",
        f"--{boundary}",
        "Content-Description: Delivery report",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; relay.example.test",
        f"X-Postfix-Queue-ID: {queue_id}",
        f"X-Postfix-Sender: rfc822; {original.mail_from}",
        f"Arrival-Date: {now}",
        "",
        f"Final-Recipient: rfc822; {recipient}",
        f"Original-Recipient: rfc822;{recipient}",
        f"Action: {action}",
        f"Status: {status}",
        "Remote-MTA: dns; mx.customer.test",
        f"Diagnostic-Code: smtp; {diagnostic}",
        "",
    ]
    if full_original:
        lines += [f"--{boundary}", "Content-Description: Undelivered Message", "Content-Type: message/rfc822", ""]
        body = head + b"\r\n\r\n" + raw[split + 4:] if split >= 0 else raw
    else:
        lines += [f"--{boundary}", "Content-Description: Undelivered Message Headers", "Content-Type: text/rfc822-headers", ""]
        body = head + b"\r\n"
    return "\r\n".join(lines).encode() + b"\r\n" + body + f"\r\n--{boundary}--\r\n".encode()


# -- talking to the hub --------------------------------------------------------------------------


def post_webhook(hub, raw, secret: str = WEBHOOK_SECRET, content_type: str = "message/rfc822", authorization: str = None):
    """POST /webhooks/email with one raw message; `authorization` overrides the header (False: none)."""
    headers = {"Content-Type": content_type}
    if authorization is None:
        headers["Authorization"] = f"Bearer {secret}"
    elif authorization is not False:
        headers["Authorization"] = authorization
    return hub.session.post(hub.url("/webhooks/email"), data=wire(raw), headers=headers, timeout=60)


def outcome(r, expected: str) -> dict:
    """The webhook's 200 answer, checked for `expected` and the fields that outcome carries."""
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    body = r.json()
    assert body.get("outcome") == expected, body
    if expected in ("stored", "duplicate"):
        for key, prefix in (("messageId", "msg_"), ("conversationId", "conv_"), ("customerId", "cus_")):
            assert isinstance(body.get(key), str) and body[key].startswith(prefix), body
    if expected == "quarantined":
        assert isinstance(body.get("quarantineId"), str) and body["quarantineId"], body
        assert isinstance(body.get("reason"), str) and body["reason"].strip(), body
    return body


def deliver(hub, mail, expected: str = "stored") -> dict:
    return outcome(post_webhook(hub, mail), expected)


def email_conversations(hub) -> list:
    conversations = hub.paginate("/v1/conversations", params={"channel": "email"})
    assert all(c["channel"] == "email" for c in conversations), conversations
    return conversations


def text_of(message: dict) -> str:
    """A stored message's text with line endings normalized and outer whitespace trimmed."""
    return message["text"].replace("\r\n", "\n").strip()


def inbound_texts(hub) -> list:
    """The text of every inbound email message in the hub, sorted (a message stored twice shows twice)."""
    return sorted(text_of(m) for c in email_conversations(hub) for m in messages_of(hub, c["id"]) if m["direction"] == "inbound")


def identities(hub, customer_id: str) -> list:
    r = hub.get(f"/v1/customers/{customer_id}/identities")
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    return [(i["channel"], i["address"]) for i in r.json()["items"]]


def consents(hub, customer_id: str) -> list:
    r = hub.get(f"/v1/customers/{customer_id}/consents")
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    return r.json()["items"]


def reply(hub, conversation_id: str, text: str, html: str = None) -> dict:
    body = {"text": text} if html is None else {"text": text, "html": html}
    r = hub.post(f"/v1/conversations/{conversation_id}/messages", json=body, timeout=10)
    assert r.status_code == 202, f"{r.status_code} {r.text}"
    message = r.json()
    assert message["direction"] == "outbound" and message["channel"] == "email" and message["text"] == text, message
    return message


def resolve(hub, conversation_id: str):
    r = hub.post(f"/v1/conversations/{conversation_id}/resolve")
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    assert r.json()["status"] == "resolved", r.json()


# -- reading what the hub sent -------------------------------------------------------------------


def hub_message_id(message: dict) -> str:
    return f"<{message['id']}@{HUB_DOMAIN}>"


def relayed(smtp: SmtpCapture, message: dict, timeout: float = WAIT) -> Received:
    """The one mail the relay accepted for this hub message (found by its Message-ID)."""
    wanted = hub_message_id(message)
    [found] = smtp.wait_for_messages(1, timeout, where=lambda r: str(r.message.get("Message-ID", "")).strip() == wanted)
    return found


def ids_in(value) -> list:
    return re.findall(r"<[^<>\s]+>", str(value or ""))


def reply_token(received: Received) -> str:
    addresses = received.message["Reply-To"].addresses
    assert len(addresses) == 1, received.message["Reply-To"]
    match = REPLY_TO.fullmatch(addresses[0].addr_spec)
    assert match, f"Reply-To is not support+TOKEN@{HUB_DOMAIN}: {addresses[0].addr_spec}"
    return match.group(1)


def plain_text(part) -> str:
    return part.get_content().replace("\r\n", "\n").strip()


def raw_header(raw: bytes, name: str) -> str:
    """A header exactly as it went over the wire, unfolded (continuation lines joined), as ASCII text."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = re.sub(r"\r?\n[ \t]", " ", head)
    found = [line.split(":", 1)[1].strip() for line in unfolded.splitlines() if line.lower().startswith(name.lower() + ":")]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def decode_encoded_word(word: str) -> str:
    """One RFC 2047 encoded word decoded on its own, strictly (a split multi-byte character fails here)."""
    charset, encoding, text = ENCODED_WORD.fullmatch(word).groups()
    if encoding in "Bb":
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    else:
        data = binascii.a2b_qp(text.encode(), header=True)
    return data.decode(charset, errors="strict")


def check_wire_format(received: Received):
    """RFC 5322 basics of any mail the hub sends: 7-bit clean (headers encoded, bodies quoted-printable or base64),
    CRLF line endings, no line over 998 octets."""
    raw = received.raw
    assert all(byte < 128 for byte in raw), "the hub sent 8-bit data"
    assert b"\n" not in raw.replace(b"\r\n", b""), "a bare LF in the message"
    longest = max(len(line) for line in raw.split(b"\r\n"))
    assert longest <= 998, f"a line of {longest} octets"


@dataclass
class Thread:
    """A customer mail, the conversation it opened and the agent's reply as the relay received it."""

    conversation_id: str
    customer_id: str
    inbound_id: str  # the customer's Message-ID
    answer: dict  # the hub's reply message
    received: Received

    @property
    def token(self) -> str:
        return reply_token(self.received)

    @property
    def reply_message_id(self) -> str:
        return hub_message_id(self.answer)


def open_thread(hub, smtp: SmtpCapture, subject: str, text: str = "Hello, I need some help.", from_: str = CUSTOMER,
                answer: str = "Thanks for writing, we are looking into it.") -> Thread:
    mail = customer_mail(subject, text, from_=from_)
    stored = deliver(hub, mail)
    sent = reply(hub, stored["conversationId"], answer)
    received = relayed(smtp, sent)
    wait_state(hub, sent["id"], "sent")
    return Thread(stored["conversationId"], stored["customerId"], mail["Message-ID"], sent, received)


def tampered(token: str) -> str:
    """The token with its last character (part of the signature) changed to another of its kind, a letter for a
    letter and a digit for a digit, so it stays well-formed and case folding cannot undo the change."""
    last = token[-1]
    candidates = "23" if last.isdigit() else "ab" if last.isalpha() else "-_"
    replacement = next(c for c in candidates if c.lower() != last.lower())
    return token[:-1] + replacement


# -- the servers themselves ----------------------------------------------------------------------


def test_the_mail_servers_work(smtp_capture, imap_server):
    """The fixtures are sound before the hub is judged by them: the relay accepts, refuses a scripted recipient with
    the scripted reply and defers another once; Dovecot serves a delivered mail and keeps flags set over IMAP."""
    import smtplib

    smtp_capture.reject("gone@example.test", "550 5.1.1 <gone@example.test>: user unknown")
    smtp_capture.reject("busy@example.test", "451 4.3.0 try later", times=1)
    mail = customer_mail("fixture check", "hello")
    with smtplib.SMTP(smtp_capture.host, smtp_capture.port, timeout=10) as client:
        client.send_message(mail, to_addrs=[HUB_ADDRESS])
        for rcpt, code in (("gone@example.test", 550), ("busy@example.test", 451)):
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                client.send_message(mail, to_addrs=[rcpt])
            assert refused.value.recipients[rcpt][0] == code
        client.send_message(mail, to_addrs=["busy@example.test"])
    [received] = smtp_capture.wait_for_messages(1, to=HUB_ADDRESS)
    assert received.message["Subject"] == "fixture check" and received.rcpt_tos == [HUB_ADDRESS]
    smtp_capture.wait_for_messages(1, to="busy@example.test")
    assert smtp_capture.messages(to="gone@example.test") == []

    imap_server.deliver(wire(mail))
    [entry] = imap_server.messages()
    assert entry.message_id == mail["Message-ID"] and "\\Seen" not in entry.flags, entry
    imap_server.set_flags("\\Seen", True)
    assert imap_server.flags_of_all() == {entry.uid: frozenset({"\\Seen"})}


# -- the webhook ---------------------------------------------------------------------------------


def test_webhook_requires_the_secret_and_a_body(hub):
    """No Authorization, a wrong secret, another scheme or an API token: 401 in the error shape; an empty body with
    the right secret: 422 (a body that is not a message, like every invalid body). Nothing of it is stored."""
    mail = customer_mail("Refused", "This must not be stored.")
    for name, authorization in {
        "missing": False,
        "wrong secret": "Bearer hook-secret-2",
        "empty bearer": "Bearer ",
        "basic": "Basic " + base64.b64encode(b"x:" + WEBHOOK_SECRET.encode()).decode(),
        "secret without scheme": WEBHOOK_SECRET,
        "admin API token": f"Bearer {hub.admin_token}",
    }.items():
        r = post_webhook(hub, mail, authorization=authorization)
        assert r.status_code == 401, f"{name}: {r.status_code} {r.text}"
        assert_error(r, 401)
    assert_error(post_webhook(hub, b""), 422)
    assert email_conversations(hub) == []
    deliver(hub, mail)  # the same mail with the right secret is stored
    assert inbound_texts(hub) == ["This must not be stored."]


def test_webhook_refuses_a_message_over_25_mib(hub):
    """A message one byte over 25 MiB is answered 413 in the error shape and not stored; a 1 MiB one is stored."""
    big = customer_mail("A large attachment", "See attached.")
    big.add_attachment(b"\0" * (1024 * 1024), maintype="application", subtype="octet-stream", filename="one-mib.bin")
    deliver(hub, big)

    head = wire(customer_mail("Too large", "x"))
    raw = head + b"y" * (MAX_SIZE + 1 - len(head))
    assert len(raw) == MAX_SIZE + 1
    try:
        r = post_webhook(hub, raw)
    except requests.ConnectionError as error:
        pytest.fail(f"the hub dropped the connection instead of answering 413: {error}")
    assert_error(r, 413)
    assert [c["subject"] for c in email_conversations(hub)] == ["A large attachment"]


def test_inbound_mail_is_stored_with_subject_identity_and_visible_text(hub):
    """A multipart/alternative mail with quoted history: outcome stored with the three ids; the conversation is on
    channel email with the mail's subject; the customer is known by the From address with its domain lowercased; the
    message's text is what the customer wrote, without the quoted history; any Content-Type is accepted."""
    visible = "Thanks, the new address is fine.\nPlease ship it there."
    text = (f"{visible}\n\nOn Tue, 4 Jun 2024 at 10:02, Acme Support <support@example.test> wrote:\n"
            "> Could you confirm your new address?\n>\n> Acme Support\n")
    html = f"<div>{visible.replace(chr(10), '<br>')}</div><blockquote>Could you confirm your new address?</blockquote>"
    mail = customer_mail("New delivery address", text, from_="Wu.Fang@Mail.Customer.TEST", html=html)
    r = post_webhook(hub, mail, content_type="application/octet-stream")
    stored = outcome(r, "stored")

    message = get_message(hub, stored["messageId"])
    assert message["conversationId"] == stored["conversationId"], message
    assert (message["channel"], message["direction"], message["authorKind"]) == ("email", "inbound", "customer"), message
    assert message["deliveryState"] == "received", message
    assert text_of(message) == visible, message["text"]
    conversation = get_conversation(hub, stored["conversationId"])
    assert conversation["channel"] == "email" and conversation["subject"] == "New delivery address", conversation
    assert conversation["customerId"] == stored["customerId"], conversation
    assert ("email", "Wu.Fang@mail.customer.test") in identities(hub, stored["customerId"])
    assert [m["id"] for m in messages_of(hub, stored["conversationId"])] == [stored["messageId"]]


def test_inbound_charsets_and_transfer_encodings_are_decoded(hub):
    """Bodies in ISO-8859-1 quoted-printable, UTF-8 base64 and UTF-8 8bit, and an RFC 2047 Chinese subject, are
    stored as the text the customer wrote."""
    cases = [
        ("Grüße aus München", "Grüße aus München, die Lieferung ist beschädigt.", "iso-8859-1", "quoted-printable"),
        ("订单 1234 还没有到", "您好，我的订单还没有收到，请帮忙查询。", "utf-8", "base64"),
        ("Café", "Le colis est arrivé ouvert — très déçu.", "utf-8", "8bit"),
    ]
    for index, (subject, text, charset, cte) in enumerate(cases):
        mail = customer_mail(subject, text, from_=f"writer{index}@mail.customer.test", charset=charset, cte=cte)
        assert f"Content-Transfer-Encoding: {cte}".encode() in wire(mail)
        stored = deliver(hub, mail)
        assert text_of(get_message(hub, stored["messageId"])) == text
        assert get_conversation(hub, stored["conversationId"])["subject"] == subject


def test_the_same_mail_twice_is_stored_once(hub):
    """A repeat of a mail (same Message-ID) answers `duplicate` with the first one's ids, also four at once and also
    when a relay added a header on the way; nothing new is stored."""
    mail = customer_mail("Delivered twice", "Is anyone there?")
    first = deliver(hub, mail)
    ids = {k: first[k] for k in ("messageId", "conversationId", "customerId")}
    assert {k: deliver(hub, mail, "duplicate")[k] for k in ids} == ids
    with ThreadPoolExecutor(4) as pool:
        for r in pool.map(lambda _: post_webhook(hub, mail), range(4)):
            assert {k: outcome(r, "duplicate")[k] for k in ids} == ids
    relayed_again = b"Received: from mx2.example.test by mx1.example.test; " + format_datetime(datetime.now(timezone.utc)).encode() + b"\r\n" + wire(mail)
    assert {k: outcome(post_webhook(hub, relayed_again), "duplicate")[k] for k in ids} == ids
    assert [m["id"] for m in messages_of(hub, first["conversationId"])] == [first["messageId"]]
    assert len(email_conversations(hub)) == 1


# -- replies over SMTP ---------------------------------------------------------------------------


def test_agent_reply_is_sent_by_smtp_with_every_header(hub, smtp_capture):
    """The reply reaches the relay once, to the customer: From "Acme Support" <support@example.test>, To the
    customer, Subject "Re: …", Message-ID <msg id@example.test>, In-Reply-To and References the customer's mail,
    Reply-To support+TOKEN@example.test, a Date, MIME 1.0, no Auto-Submitted; one text/plain UTF-8 part, quoted-
    printable or base64, 7-bit clean, lines ≤ 998. Then the message is `sent`."""
    mail = customer_mail("Where is my order #1234?", "Hello, my parcel has not arrived.")
    stored = deliver(hub, mail)
    text = "Sorry about that! It leaves our depot today.\nKind regards, Ann"
    answer = reply(hub, stored["conversationId"], text)
    received = relayed(smtp_capture, answer)
    message = received.message

    assert [r.lower() for r in received.rcpt_tos] == [CUSTOMER], received.rcpt_tos
    assert received.mail_from.lower().endswith("@" + HUB_DOMAIN), f"bounces would not come back: MAIL FROM {received.mail_from}"
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (FROM_NAME, HUB_ADDRESS), message["From"]
    assert [a.addr_spec.lower() for a in message["To"].addresses] == [CUSTOMER], message["To"]
    assert message["Subject"] == "Re: Where is my order #1234?", message["Subject"]
    assert message["Message-ID"] == f"<{answer['id']}@{HUB_DOMAIN}>", message["Message-ID"]
    assert HUB_MESSAGE_ID.fullmatch(message["Message-ID"]), message["Message-ID"]
    assert ids_in(message["In-Reply-To"]) == [mail["Message-ID"]], message["In-Reply-To"]
    assert ids_in(message["References"]) == [mail["Message-ID"]], message["References"]
    token = reply_token(received)
    assert len(token) >= 16, f"a reply token this short cannot carry a signature: {token}"
    assert "Auto-Submitted" not in message, message["Auto-Submitted"]
    sent_at = parsedate_to_datetime(str(message["Date"]))
    assert abs((datetime.now(timezone.utc) - sent_at).total_seconds()) < 300, message["Date"]
    assert str(message["MIME-Version"]).strip() == "1.0"

    assert not message.is_multipart() and message.get_content_type() == "text/plain", message.get_content_type()
    assert message.get_content_charset() == "utf-8", message["Content-Type"]
    assert message["Content-Transfer-Encoding"].lower() in ("quoted-printable", "base64"), message["Content-Transfer-Encoding"]
    assert plain_text(message) == text
    check_wire_format(received)

    sent = wait_state(hub, answer["id"], "sent")
    assert sent.get("error") is None, sent
    time.sleep(0.5)
    assert len(smtp_capture.messages(to=CUSTOMER)) == 1


def test_reply_with_html_is_multipart_alternative(hub, smtp_capture):
    """A reply with `html` goes as multipart/alternative: text/plain first, then text/html, both UTF-8 and encoded,
    each carrying exactly what the agent wrote."""
    stored = deliver(hub, customer_mail("Invoice", "Can I get an invoice?"))
    text = "Here is your invoice: https://shop.example/invoice/1234 — thank you!"
    html = '<p>Here is your invoice: <a href="https://shop.example/invoice/1234">invoice 1234</a> &mdash; <b>thank you!</b></p>'
    answer = reply(hub, stored["conversationId"], text, html=html)
    received = relayed(smtp_capture, answer)
    message = received.message

    assert message.get_content_type() == "multipart/alternative", message.get_content_type()
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"], [p.get_content_type() for p in parts]
    for part in parts:
        assert part.get_content_charset() == "utf-8", part["Content-Type"]
        assert part["Content-Transfer-Encoding"].lower() in ("quoted-printable", "base64"), part["Content-Transfer-Encoding"]
    assert plain_text(parts[0]) == text
    assert html in plain_text(parts[1]), plain_text(parts[1])
    check_wire_format(received)
    wait_state(hub, answer["id"], "sent")


def test_chinese_subject_and_text_are_encoded_per_rfc_2047_and_2045(hub, smtp_capture):
    """A Chinese subject comes back as "Re: " + the subject in RFC 2047 encoded words (ASCII on the wire, each word
    ≤ 75 characters and decodable on its own, so no character is split); the Chinese body decodes exactly."""
    subject = "您好，我上周在贵店购买的蓝牙耳机至今还没有收到，订单号是 1234，请帮忙查询一下物流信息，谢谢！"
    stored = deliver(hub, customer_mail(subject, "请问我的订单什么时候发货？"))
    assert get_conversation(hub, stored["conversationId"])["subject"] == subject
    text = "您好，您的订单已发货，预计三天内送达。"
    answer = reply(hub, stored["conversationId"], text)
    received = relayed(smtp_capture, answer)

    on_the_wire = raw_header(received.raw, "Subject")
    words = ENCODED_WORD.findall(on_the_wire)
    assert words, f"no encoded words: {on_the_wire}"
    for match in ENCODED_WORD.finditer(on_the_wire):
        assert len(match.group(0)) <= 75, f"an encoded word of {len(match.group(0))} characters: {match.group(0)}"
        assert match.group(1).lower() == "utf-8", match.group(0)
        decode_encoded_word(match.group(0))
    assert str(received.message["Subject"]) == "Re: " + subject, received.message["Subject"]
    assert plain_text(received.message) == text
    check_wire_format(received)


def test_subject_gets_one_re_prefix(hub, smtp_capture):
    """A conversation whose subject already starts with "Re:" (or "RE:") is answered with one prefix, not "Re: Re:"."""
    for index, subject in enumerate(("Re: Your invoice 2024-17", "RE: Delivery slot")):
        stored = deliver(hub, customer_mail(subject, "See below.", from_=f"re{index}@mail.customer.test"))
        received = relayed(smtp_capture, reply(hub, stored["conversationId"], "Noted."))
        sent = str(received.message["Subject"])
        assert re.fullmatch(r"(?i)re: (?!re:).+", sent), sent
        assert sent[4:] == subject[4:], (sent, subject)


def test_later_reply_answers_the_customers_latest_mail(hub, smtp_capture):
    """The customer answers the hub's reply (Subject "Re: …", In-Reply-To the hub's Message-ID): it joins the
    conversation, whose subject stays; the next reply has In-Reply-To the customer's latest Message-ID and References
    ending with it, naming the first mail too and only this conversation's mails."""
    thread = open_thread(hub, smtp_capture, "Broken zipper")
    second = customer_mail("Re: Broken zipper", "Here is a photo of it.\n\n> Thanks for writing, we are looking into it.",
                           in_reply_to=thread.reply_message_id, references=[thread.inbound_id, thread.reply_message_id])
    assert deliver(hub, second)["conversationId"] == thread.conversation_id
    assert get_conversation(hub, thread.conversation_id)["subject"] == "Broken zipper"

    answer = reply(hub, thread.conversation_id, "Thanks, a replacement is on its way.")
    message = relayed(smtp_capture, answer).message
    assert message["Subject"] == "Re: Broken zipper", message["Subject"]
    assert ids_in(message["In-Reply-To"]) == [second["Message-ID"]], message["In-Reply-To"]
    references = ids_in(message["References"])
    assert references[-1] == second["Message-ID"] and thread.inbound_id in references, references
    assert len(references) == len(set(references)), references
    assert set(references) <= {thread.inbound_id, second["Message-ID"], thread.reply_message_id}, references


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_relay_with_authentication(make_server):
    """With smtp.username/password the hub authenticates to the relay (AUTH over the plain loopback connection)."""
    with SmtpCapture(require_auth=("relay-user", "relay-pass")) as relay:
        hub = make_server(email_config(relay, smtp_auth=("relay-user", "relay-pass")))
        stored = deliver(hub, customer_mail("Auth", "Hello"))
        answer = reply(hub, stored["conversationId"], "Hello back.")
        received = relayed(relay, answer)
        assert received.auth_login == "relay-user", received.auth_login
        wait_state(hub, answer["id"], "sent")


@pytest.fixture
def relay_certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1 (the relay's name in its URL) and its key, made with openssl."""
    cert, key = tmp_path / "relay.pem", tmp_path / "relay.key"
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                           "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    return str(cert), str(key)


def test_starttls_required_sends_over_tls_to_a_trusted_relay(make_server, relay_certificate):
    """`tls: required` with the relay's CA as `caFile`: STARTTLS, then the mail (the relay refuses mail before
    STARTTLS, so a captured message proves the session was encrypted). Without `caFile` the certificate is not
    trusted and the message fails with curl's reason, never sent in clear."""
    with SmtpCapture(starttls=relay_certificate) as relay:
        config = email_config(relay)
        config["email"]["smtp"].update(tls="required", caFile=relay_certificate[0])
        hub = make_server(config)
        thread = open_thread(hub, relay, "Over TLS")
        assert thread.received.message["Subject"] == "Re: Over TLS"

        untrusted = email_config(relay, max_attempts=1)
        untrusted["email"]["smtp"].update(tls="required")
        other = make_server(untrusted)
        stored = deliver(other, customer_mail("Untrusted relay", "Hello?"))
        answer = reply(other, stored["conversationId"], "This must not leave in clear.")
        failed = wait_state(other, answer["id"], "failed")
        assert "certificate" in failed["error"].lower() or "ssl" in failed["error"].lower(), failed
        assert len(relay.messages()) == 1


def test_starttls_required_refuses_a_relay_without_it(make_server, smtp_capture):
    """A relay that offers no STARTTLS gets nothing when `tls` is `required`; with `optional` the mail goes in clear."""
    required = email_config(smtp_capture, max_attempts=1)
    required["email"]["smtp"]["tls"] = "required"
    hub = make_server(required)
    stored = deliver(hub, customer_mail("Needs TLS", "Hello"))
    answer = reply(hub, stored["conversationId"], "Not without TLS.")
    failed = wait_state(hub, answer["id"], "failed")
    assert "tls" in failed["error"].lower() or "ssl" in failed["error"].lower(), failed
    assert smtp_capture.messages() == []

    optional = email_config(smtp_capture)
    optional["email"]["smtp"]["tls"] = "optional"
    relaxed = make_server(optional)
    open_thread(relaxed, smtp_capture, "Clear is fine")


# -- threading -----------------------------------------------------------------------------------


def two_threads(hub, smtp: SmtpCapture):
    """The customer's first conversation, answered and resolved, then a second one, answered and open. Real threading
    into the first cannot be mistaken for the fallback (the customer's latest unresolved conversation: the second)."""
    first = open_thread(hub, smtp, "Order 1111 is late")
    resolve(hub, first.conversation_id)
    second = open_thread(hub, smtp, "Change my address", answer="Which address should we use?")
    assert second.conversation_id != first.conversation_id, "a mail after a resolved conversation did not open a new one"
    assert second.customer_id == first.customer_id
    return first, second


def test_mail_to_the_reply_token_address_joins_its_conversation(hub, smtp_capture):
    """A mail To support+TOKEN@example.test (the token from the first reply's Reply-To), without In-Reply-To or
    References and with a new subject, joins the first conversation (reopening it), not the open second one."""
    first, second = two_threads(hub, smtp_capture)
    assert first.token != second.token
    mail = customer_mail("One more thing", "Can you also add a gift note?", to=f"support+{first.token}@{HUB_DOMAIN}")
    stored = deliver(hub, mail)
    assert stored["conversationId"] == first.conversation_id, (stored, first.conversation_id, second.conversation_id)
    conversation = get_conversation(hub, first.conversation_id)
    assert conversation["subject"] == "Order 1111 is late" and conversation["status"] == "open", conversation


def test_in_reply_to_or_references_join_the_conversation_they_name(hub, smtp_capture):
    """A mail whose In-Reply-To is the first reply's Message-ID joins the first conversation; so does one that names
    it only in References (among ids the hub never sent), not the newer open one."""
    first, second = two_threads(hub, smtp_capture)
    by_in_reply_to = customer_mail("Re: Order 1111 is late", "Any news?", in_reply_to=first.reply_message_id,
                                   references=[first.inbound_id, first.reply_message_id])
    assert deliver(hub, by_in_reply_to)["conversationId"] == first.conversation_id
    resolve(hub, first.conversation_id)
    by_references = customer_mail("Re: Order 1111 is late", "Still nothing.",
                                  references=[first.inbound_id, first.reply_message_id, new_message_id("elsewhere.test")])
    assert deliver(hub, by_references)["conversationId"] == first.conversation_id
    texts = [text_of(m) for m in messages_of(hub, first.conversation_id) if m["direction"] == "inbound"]
    assert texts[-2:] == ["Any news?", "Still nothing."], texts
    assert [text_of(m) for m in messages_of(hub, second.conversation_id) if m["direction"] == "inbound"] == ["Hello, I need some help."]


def test_a_stranger_using_a_token_or_in_reply_to_gets_their_own_conversation(hub, smtp_capture):
    """Another sender writing to the customer's token address, or with In-Reply-To the hub's reply to the customer
    (a forwarded mail, a guessed address), is a different customer in a new conversation; the customer's
    conversation gets nothing."""
    thread = open_thread(hub, smtp_capture, "Private order details")
    before = [m["id"] for m in messages_of(hub, thread.conversation_id)]
    by_token = customer_mail("Re: Private order details", "Let me in.", from_=STRANGER, name="Mallory",
                             to=f"support+{thread.token}@{HUB_DOMAIN}")
    by_in_reply_to = customer_mail("Re: Private order details", "Me too.", from_=STRANGER, name="Mallory",
                                   in_reply_to=thread.reply_message_id, references=[thread.inbound_id, thread.reply_message_id])
    stranger = [deliver(hub, by_token), deliver(hub, by_in_reply_to)]
    for stored in stranger:
        assert stored["conversationId"] != thread.conversation_id and stored["customerId"] != thread.customer_id, stored
        assert ("email", STRANGER) in identities(hub, stored["customerId"])
    assert [m["id"] for m in messages_of(hub, thread.conversation_id)] == before


def test_a_tampered_reply_token_threads_nowhere(hub, smtp_capture):
    """A token with one character changed is not the hub's signature: the customer's mail to it opens a new
    conversation instead of reopening the resolved one the token named."""
    thread = open_thread(hub, smtp_capture, "Refund request")
    resolve(hub, thread.conversation_id)
    mail = customer_mail("About my refund", "Did you get my bank details?", to=f"support+{tampered(thread.token)}@{HUB_DOMAIN}")
    stored = deliver(hub, mail)
    assert stored["conversationId"] != thread.conversation_id, stored
    assert stored["customerId"] == thread.customer_id, stored
    assert get_conversation(hub, thread.conversation_id)["status"] == "resolved"


# -- auto-replies --------------------------------------------------------------------------------


def test_auto_replies_are_stored_without_reopening(hub, smtp_capture):
    """Out-of-office answers to the hub's reply (by token and In-Reply-To), marked by Auto-Submitted, Precedence
    bulk/junk/list or X-Autoreply, are stored in that conversation and leave it resolved; the hub answers none of
    them. A human reply afterwards does reopen it."""
    thread = open_thread(hub, smtp_capture, "Return label")
    resolve(hub, thread.conversation_id)
    for index, headers in enumerate(AUTO_REPLY_HEADERS):
        mail = customer_mail("Automatic reply: Re: Return label", f"I am out of the office until Monday. ({index})",
                             to=f"support+{thread.token}@{HUB_DOMAIN}", in_reply_to=thread.reply_message_id,
                             references=[thread.inbound_id, thread.reply_message_id], headers=headers)
        stored = deliver(hub, mail)
        assert stored["conversationId"] == thread.conversation_id, (headers, stored)
        conversation = get_conversation(hub, thread.conversation_id)
        assert conversation["status"] == "resolved", f"{headers} reopened the conversation: {conversation}"
    inbound = [m for m in messages_of(hub, thread.conversation_id) if m["direction"] == "inbound"]
    assert len(inbound) == 1 + len(AUTO_REPLY_HEADERS), inbound
    time.sleep(0.5)
    assert len(smtp_capture.messages(to=CUSTOMER)) == 1, "the hub answered an auto-reply"

    human = customer_mail("Re: Return label", "Back now, the label did not print.", in_reply_to=thread.reply_message_id,
                          headers={"Auto-Submitted": "no"})
    assert deliver(hub, human)["conversationId"] == thread.conversation_id
    assert get_conversation(hub, thread.conversation_id)["status"] == "open"


def test_an_auto_reply_that_threads_to_nothing_is_quarantined(hub):
    """An auto-reply from an unknown sender naming nothing the hub sent opens no conversation: it is quarantined with
    a reason (and listed); the same mail with Auto-Submitted: no is an ordinary first contact."""
    robot = customer_mail("Automatic reply: Your newsletter", "I am on vacation.", from_="robot@vacation.test", name="",
                          headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"})
    quarantined = deliver(hub, robot, "quarantined")
    assert email_conversations(hub) == []
    assert quarantined["quarantineId"] in {item["id"] for item in hub.paginate("/v1/quarantine")}
    person = customer_mail("A question", "Are you open on Sunday?", from_="person@vacation.test", headers={"Auto-Submitted": "no"})
    deliver(hub, person)
    assert [c["subject"] for c in email_conversations(hub)] == ["A question"]


# -- bounces -------------------------------------------------------------------------------------


def test_permanent_bounce_marks_bounced_suppresses_the_address_and_later_replies_fail(hub, smtp_capture):
    """A DSN (5.1.1, with the whole original attached) naming the hub's reply: outcome bounce with that message's id;
    the message becomes `bounced` with the diagnostic as its error; the address gets opt-outs with source bounce for
    both purposes; the DSN opens no conversation; the next reply fails without reaching the relay."""
    thread = open_thread(hub, smtp_capture, "Warranty claim")
    diagnostic = f"550 5.1.1 <{CUSTOMER}>: Recipient address rejected: User unknown in virtual mailbox table"
    bounce = outcome(post_webhook(hub, dsn(thread.received, "5.1.1", diagnostic, full_original=True)), "bounce")
    assert bounce.get("messageId") == thread.answer["id"], bounce

    bounced = wait_state(hub, thread.answer["id"], "bounced", timeout=5)
    assert bounced["error"] and "5.1.1" in bounced["error"] and "User unknown" in bounced["error"], bounced
    entries = [e for e in consents(hub, thread.customer_id) if e["channel"] == "email" and e["address"].lower() == CUSTOMER]
    by_purpose = {}
    for entry in entries:  # newest first
        by_purpose.setdefault(entry["purpose"], entry)
    assert set(by_purpose) == {"marketing", "transactional"}, entries
    assert all(e["state"] == "opted_out" and e["source"] == "bounce" for e in by_purpose.values()), by_purpose
    assert [c["id"] for c in email_conversations(hub)] == [thread.conversation_id]
    assert len(messages_of(hub, thread.conversation_id)) == 2

    later = reply(hub, thread.conversation_id, "Did you receive our last mail?")
    failed = wait_state(hub, later["id"], "failed")
    assert failed["error"], failed
    time.sleep(1.0)
    assert len(smtp_capture.attempts(to=CUSTOMER, stage="rcpt")) == 1, "a suppressed address reached the relay"


def test_transient_bounce_marks_bounced_without_suppressing(hub, smtp_capture):
    """A DSN with a 4.x.x status (the relay gave up after its queue lifetime; original headers only): the message is
    `bounced` with the diagnostic, but the address is not suppressed, so the next reply is sent."""
    thread = open_thread(hub, smtp_capture, "Exchange")
    diagnostic = "421 4.4.7 Message delivery time exceeded: connection timed out"
    bounce = outcome(post_webhook(hub, dsn(thread.received, "4.4.7", diagnostic)), "bounce")
    assert bounce.get("messageId") == thread.answer["id"], bounce
    bounced = wait_state(hub, thread.answer["id"], "bounced", timeout=5)
    assert "4.4.7" in bounced["error"], bounced
    assert not [e for e in consents(hub, thread.customer_id) if e["state"] == "opted_out"], consents(hub, thread.customer_id)
    later = reply(hub, thread.conversation_id, "Trying again.")
    relayed(smtp_capture, later)
    wait_state(hub, later["id"], "sent")


def test_a_bounce_for_a_message_the_hub_never_sent_changes_nothing(hub, smtp_capture):
    """A DSN naming a Message-ID the hub never sent changes no message and suppresses nothing: it is quarantined
    with the reason, so a supervisor can see it."""
    thread = open_thread(hub, smtp_capture, "Unrelated")
    stray = dsn(thread.received, "5.1.1", "550 5.1.1 user unknown", original_message_id=f"<msg_00000000000000000000000000@{HUB_DOMAIN}>")
    quarantined = outcome(post_webhook(hub, stray), "quarantined")
    assert quarantined.get("messageId") in (None, "") and "delivery report" in quarantined["reason"], quarantined
    assert get_message(hub, thread.answer["id"])["deliveryState"] == "sent"
    assert [c["id"] for c in email_conversations(hub)] == [thread.conversation_id]
    assert not [e for e in consents(hub, thread.customer_id) if e["state"] == "opted_out"]


# -- SMTP failures -------------------------------------------------------------------------------


def test_relay_refusing_the_recipient_with_550_fails_the_message(hub, smtp_capture):
    """550 at RCPT TO: the message is `failed` with the relay's reply in its error, after one attempt."""
    stored = deliver(hub, customer_mail("Hello", "Hi"))
    refusal = f"550 5.1.1 <{CUSTOMER}>: Recipient address rejected: User unknown"
    smtp_capture.reject(CUSTOMER, refusal)
    answer = reply(hub, stored["conversationId"], "Hello!")
    failed = wait_state(hub, answer["id"], "failed")
    assert "5.1.1" in failed["error"] and "User unknown" in failed["error"], failed
    time.sleep(2.0)
    assert [a.code for a in smtp_capture.attempts(to=CUSTOMER, stage="rcpt")] == [550]
    assert smtp_capture.messages(to=CUSTOMER) == []


def test_relay_refusing_the_data_with_554_fails_the_message(hub, smtp_capture):
    """554 after DATA: the message is `failed` with the relay's reply in its error, without a retry."""
    stored = deliver(hub, customer_mail("Hello", "Hi"))
    smtp_capture.reject(CUSTOMER, "554 5.7.1 Message rejected: spam content", stage="data")
    answer = reply(hub, stored["conversationId"], "Cheap watches!")
    failed = wait_state(hub, answer["id"], "failed")
    assert "5.7.1" in failed["error"], failed
    time.sleep(2.0)
    assert [a.code for a in smtp_capture.attempts(to=CUSTOMER, stage="data")] == [554]


def test_relay_deferring_with_451_is_retried_until_sent(make_server, smtp_capture):
    """451 twice, then acceptance: the outbox retries with backoff and the message ends `sent`, relayed once, with
    the same Message-ID it was given when queued."""
    hub = make_server(email_config(smtp_capture, max_attempts=5))
    stored = deliver(hub, customer_mail("Hello", "Hi"))
    smtp_capture.reject(CUSTOMER, "451 4.3.0 Temporary lookup failure, try later", times=2)
    answer = reply(hub, stored["conversationId"], "Hello after a while.")
    wait_state(hub, answer["id"], "sent", timeout=RETRY_WAIT)
    attempts = smtp_capture.attempts(to=CUSTOMER, stage="rcpt")
    assert [a.code for a in attempts] == [451, 451, 250], attempts
    gaps = [later.time - earlier.time for earlier, later in zip(attempts, attempts[1:])]
    assert all(gap >= 0.5 for gap in gaps), f"retries without backoff: {gaps}"
    relayed(smtp_capture, answer)
    assert len(smtp_capture.messages(to=CUSTOMER)) == 1


# -- quarantine ----------------------------------------------------------------------------------


def test_malformed_input_is_quarantined_and_the_raw_bytes_kept(hub):
    """A body without a header block and binary garbage are quarantined with a reason; GET /v1/quarantine lists them
    (channel email, the reason, receivedAt, size) and GET /v1/quarantine/{id}/raw gives back the exact bytes as
    message/rfc822. No conversation is opened."""
    quarantined = {}
    for name, raw in MALFORMED.items():
        quarantined[name] = outcome(post_webhook(hub, raw), "quarantined")
    assert email_conversations(hub) == []

    items = {item["id"]: item for item in hub.paginate("/v1/quarantine")}
    for name, raw in MALFORMED.items():
        item = items.get(quarantined[name]["quarantineId"])
        assert item is not None, f"{name} is not listed: {list(items.values())}"
        assert {"id", "channel", "reason", "receivedAt", "size"} <= set(item), item
        assert item["channel"] == "email" and item["reason"].strip() and item["size"] == len(raw), item
        datetime.fromisoformat(item["receivedAt"].replace("Z", "+00:00"))
        r = hub.get(f"/v1/quarantine/{item['id']}/raw")
        assert r.status_code == 200, f"{r.status_code} {r.text[:200]}"
        assert r.headers.get("Content-Type", "").split(";")[0].strip().lower() == "message/rfc822", dict(r.headers)
        assert r.content == raw, f"{name}: the raw bytes differ"


def test_quarantine_is_for_admins_and_supervisors_only(hub):
    """Supervisors read the quarantine like admins; agents and integrations get 403, no token 401, an unknown id 404."""
    item_id = outcome(post_webhook(hub, MALFORMED["binary garbage"]), "quarantined")["quarantineId"]
    supervisor = staff_token(hub, "supervisor")
    assert item_id in {i["id"] for i in hub.paginate("/v1/quarantine", token=supervisor)}
    r = hub.get(f"/v1/quarantine/{item_id}/raw", token=supervisor)
    assert r.status_code == 200 and r.content == MALFORMED["binary garbage"], r.status_code
    for role in ("agent", "integration"):
        token = staff_token(hub, role)
        assert_error(hub.get("/v1/quarantine", token=token), 403, "forbidden")
        assert_error(hub.get(f"/v1/quarantine/{item_id}/raw", token=token), 403, "forbidden")
    assert_error(hub.session.get(hub.url("/v1/quarantine"), timeout=10), 401)
    assert_error(hub.get("/v1/quarantine/qua_does_not_exist/raw"), 404)


# -- IMAP polling --------------------------------------------------------------------------------


def imap_mail(text: str, message_id: str = None, from_: str = CUSTOMER) -> bytes:
    return wire(customer_mail(f"By IMAP: {text}", text, from_=from_, message_id=message_id))


def wait_imported(hub, texts: list, timeout: float = IMAP_WAIT) -> list:
    """Waits until the hub's inbound texts are exactly `texts` (each once), and returns them."""
    wanted = sorted(texts)
    last = {}

    def arrived():
        last["texts"] = inbound_texts(hub)
        return last["texts"] == wanted

    try:
        wait_for(arrived, timeout, interval=0.2, what=f"the mailbox imported as {wanted}")
    except AssertionError as error:
        raise AssertionError(f"{error}; have {last.get('texts')}\n{hub.log_tail(20)}") from None
    return wanted


def wait_all_seen(imap, timeout: float = IMAP_WAIT) -> dict:
    """Waits until every mail in the mailbox has \\Seen, and returns {uid: flags}."""
    last = {}

    def all_seen():
        last["flags"] = imap.flags_of_all()
        return last["flags"] if last["flags"] and all("\\Seen" in flags for flags in last["flags"].values()) else None

    try:
        return wait_for(all_seen, timeout, interval=0.2, what="every mail in the mailbox flagged \\Seen")
    except AssertionError as error:
        raise AssertionError(f"{error}; flags: {last.get('flags')}") from None


def stays(hub, texts: list, seconds: float = 3.0):
    """Over a few poll cycles the hub's inbound texts stay exactly `texts`: nothing imported twice."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert inbound_texts(hub) == sorted(texts), "something was imported twice"
        time.sleep(0.5)


def test_imap_imports_mail_already_there_and_new_mail_and_marks_it_seen(make_server, smtp_capture, imap_server):
    """Two mails in the mailbox before the hub first starts are imported; one delivered while it runs is imported
    within a few polls; each is stored once, as the webhook would (subject, identity), and flagged \\Seen."""
    imap_server.deliver(imap_mail("first, waiting before the start"))
    imap_server.deliver(imap_mail("second, waiting before the start"))
    hub = make_server(email_config(smtp_capture, imap=imap_server))
    texts = wait_imported(hub, ["first, waiting before the start", "second, waiting before the start"])
    imap_server.deliver(imap_mail("third, delivered while running"))
    texts = wait_imported(hub, texts + ["third, delivered while running"])
    flags = wait_all_seen(imap_server)
    assert len(flags) == 3, flags
    conversation = email_conversations(hub)[0]
    assert conversation["subject"].startswith("By IMAP: "), conversation
    assert ("email", CUSTOMER) in identities(hub, conversation["customerId"])
    stays(hub, texts)


def test_imap_deduplicates_by_message_id_and_quarantines_malformed_mail(make_server, smtp_capture, imap_server):
    """The same mail posted to the webhook and found twice in the mailbox is stored once; a malformed file in the
    mailbox is quarantined; every one of them ends \\Seen."""
    hub = make_server(email_config(smtp_capture, imap=imap_server))
    raw = imap_mail("one mail, three deliveries")
    deliver(hub, raw)
    imap_server.deliver(raw)
    imap_server.deliver(raw)
    imap_server.deliver(MALFORMED["no header block"])
    wait_all_seen(imap_server)
    assert len(imap_server.flags_of_all()) == 3
    stays(hub, ["one mail, three deliveries"])
    sizes = [item["size"] for item in hub.paginate("/v1/quarantine")]
    assert len(MALFORMED["no header block"]) in sizes, sizes


@pytest.mark.parametrize("hard", [False, True], ids=["sigterm", "kill9"])
def test_imap_import_survives_restarts_without_duplicates(make_server, smtp_capture, imap_server, hard):
    """Imported mail (one without a Message-ID among them) is not imported again after a restart — graceful or
    SIGKILL, also right after a delivery — nor when another client clears the \\Seen flags: the hub remembers the
    last UID it stored. Mail delivered while it was down is imported after the start."""
    imap_server.deliver(imap_mail("before the first start"))
    imap_server.deliver(imap_mail("no Message-ID at all", message_id=""))
    hub = make_server(email_config(smtp_capture, imap=imap_server))
    texts = wait_imported(hub, ["before the first start", "no Message-ID at all"])
    wait_all_seen(imap_server)

    if hard:
        hub.kill9()
    else:
        hub.stop()
    imap_server.deliver(imap_mail("delivered while the hub was down"))
    hub.start()
    texts = wait_imported(hub, texts + ["delivered while the hub was down"])

    imap_server.deliver(imap_mail("delivered just before a crash"))
    time.sleep(1.2)  # about one poll: the crash may land before, during or after its import
    hub.restart(hard=hard)
    texts = wait_imported(hub, texts + ["delivered just before a crash"])
    wait_all_seen(imap_server)

    imap_server.set_flags("\\Seen", add=False)
    stays(hub, texts, seconds=3.5)
    assert len(imap_server.flags_of_all()) == 4
