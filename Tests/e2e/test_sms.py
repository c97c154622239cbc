"""SMS: Twilio and Vonage webhooks into a real server, and the hub's sends to a provider double (sms_double.py).

Every server is configured with `sms.publicBaseUrl` = its own URL (the port is chosen before the config is
written) and the profiles' `baseUrl` = the double, so the hub's sends, StatusCallback URLs and media fetches all
stay on loopback. Signatures are computed by sms_double from PROTOCOLS.md, never by the hub's code. Every wait
has a timeout, so a message that never comes fails the test instead of hanging it.
"""

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from xml.etree import ElementTree

import pytest

from conftest import assert_error, get_message, messages_of, wait_for, wait_state
from sms_double import (
    SmsDouble,
    new_twilio_sid,
    new_vonage_id,
    self_test,
    send_twilio_inbound,
    send_twilio_status,
    send_vonage_dlr,
    send_vonage_inbound,
    sign_vonage,
    twilio_inbound_fields,
    twilio_invalid_to,
    twilio_server_error,
    twilio_signature,
    twilio_status_fields,
    twilio_too_many_requests,
    twilio_unsubscribed,
    vonage_dlr_fields,
    vonage_inbound_fields,
    vonage_throttled,
)

ACCOUNT_SID = "AC" + "6b1f2f7bd0a34f0c9d7a1e2b3c4d5e6f"
AUTH_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
TW_NUMBER = "+15005550006"
CUSTOMER = "+15551230001"

VG = {"provider": "vonage", "apiKey": "abcd1234", "apiSecret": "Vg-api-secret-1", "signatureSecret": "vg-sig-secret-md5hash",
      "signatureMethod": "md5hash", "from": "+447700900000"}
VG2 = {"provider": "vonage", "apiKey": "efgh5678", "apiSecret": "Vg-api-secret-2", "signatureSecret": "vg2-sig-secret-sha256",
       "signatureMethod": "sha256", "from": "+447700900099"}
VG_PROFILES = {"vg": VG, "vg2": VG2}
VG_CUSTOMER = "447700900001"  # Vonage writes numbers as digits without '+'

STOP_REPLY = "You are unsubscribed and will receive no more messages. Reply START to resubscribe."
START_REPLY = "You are resubscribed. Reply STOP to unsubscribe."
HELP_REPLY = "Acme support: reply to this number to reach us. Reply STOP to unsubscribe."

MAX_MEDIA = 5 * 1024 * 1024
WAIT = 10.0


# -- configuration and fixtures ------------------------------------------------------------------


def sms_config(double: SmsDouble, public_base_url: str = None, default_profile: str = "tw", **settings):
    """The switchboard.json of an SMS hub, as a function of the hub's port (see make_server)."""

    def build(port: int) -> dict:
        sms = {
            "publicBaseUrl": public_base_url or f"http://127.0.0.1:{port}",
            "defaultRegion": "US",
            "stopReply": STOP_REPLY,
            "startReply": START_REPLY,
            "helpReply": HELP_REPLY,
            "defaultProfile": default_profile,
            "profiles": ["tw", "vg", "vg2"],
            "profile": {
                "tw": {"provider": "twilio", "accountSid": ACCOUNT_SID, "authToken": AUTH_TOKEN, "from": TW_NUMBER, "baseUrl": double.base_url},
                "vg": {**VG, "baseUrl": double.base_url},
                "vg2": {**VG2, "baseUrl": double.base_url},
            },
        }
        sms.update(settings)
        return {"sms": sms}

    return build


@pytest.fixture
def double():
    with SmsDouble({ACCOUNT_SID: AUTH_TOKEN}, {VG["apiKey"]: VG["apiSecret"], VG2["apiKey"]: VG2["apiSecret"]}) as provider:
        yield provider


@pytest.fixture
def hub(make_server, double):
    """A server whose SMS profiles point at the double, default profile `tw`, optOutPolicy left at its default."""
    return make_server(sms_config(double))


# -- helpers -------------------------------------------------------------------------------------


def digits(number: str) -> str:
    return number.lstrip("+")


def assert_empty_twiml(r):
    """Twilio's expected answer: 200, text/xml, an empty <Response/>."""
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    assert r.headers.get("Content-Type", "").split(";")[0].strip().lower() == "text/xml", dict(r.headers)
    root = ElementTree.fromstring(r.content)
    assert root.tag == "Response" and len(root) == 0 and not (root.text or "").strip(), r.text


def twilio_in(hub, body: str, from_: str = CUSTOMER, **kwargs) -> dict:
    """Delivers a correctly signed Twilio inbound message and checks the answer; returns the fields sent."""
    fields = twilio_inbound_fields(ACCOUNT_SID, from_, TW_NUMBER, body, **kwargs)
    assert_empty_twiml(send_twilio_inbound(hub.base_url, "tw", AUTH_TOKEN, fields))
    return fields


def vonage_fields(text: str, profile: str = "vg", msisdn: str = VG_CUSTOMER, **kwargs) -> dict:
    p = VG_PROFILES[profile]
    return vonage_inbound_fields(msisdn, digits(p["from"]), text, api_key=p["apiKey"], **kwargs)


def vonage_send(hub, fields: dict, profile: str = "vg", method: str = "GET", **kwargs):
    p = VG_PROFILES[profile]
    return send_vonage_inbound(hub.base_url, profile, fields, p["signatureSecret"], p["signatureMethod"], method, **kwargs)


def vonage_in(hub, text: str, profile: str = "vg", method: str = "GET", **kwargs) -> dict:
    """Delivers a correctly signed Vonage inbound message and checks the 204; returns the fields sent."""
    fields = vonage_fields(text, profile, **kwargs)
    r = vonage_send(hub, fields, profile, method)
    assert r.status_code == 204, f"{r.status_code} {r.text}"
    return fields


def sms_conversations(hub) -> list:
    conversations = hub.paginate("/v1/conversations", params={"channel": "sms"})
    assert all(c["channel"] == "sms" for c in conversations), conversations
    return conversations


def sms_messages(hub, direction: str = None) -> list:
    found = [m for c in sms_conversations(hub) for m in messages_of(hub, c["id"])]
    return [m for m in found if direction is None or m["direction"] == direction]


def inbound_texts(hub) -> list:
    return sorted(m["text"] for m in sms_messages(hub, "inbound"))


def conversation_with(hub, text: str, timeout: float = 5.0) -> tuple:
    """(conversation, message) of the inbound SMS with this text."""

    def find():
        for conversation in sms_conversations(hub):
            for message in messages_of(hub, conversation["id"]):
                if message["direction"] == "inbound" and message["text"] == text:
                    return conversation, message
        return None

    return wait_for(find, timeout, what=f"an inbound sms {text!r}")


def identities(hub, customer_id: str) -> list:
    r = hub.get(f"/v1/customers/{customer_id}/identities")
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    return [(i["channel"], i["address"]) for i in r.json()["items"]]


def reply(hub, conversation_id: str, text: str) -> dict:
    r = hub.post(f"/v1/conversations/{conversation_id}/messages", json={"text": text}, timeout=10)
    assert r.status_code == 202, f"{r.status_code} {r.text}"
    message = r.json()
    assert message["direction"] == "outbound" and message["channel"] == "sms" and message["text"] == text, message
    return message


def outbound(hub, customer_id: str, text: str, purpose: str):
    return hub.post("/v1/outbound", json={"customerId": customer_id, "channel": "sms", "text": text, "purpose": purpose}, timeout=10)


def consents(hub, customer_id: str) -> list:
    r = hub.get(f"/v1/customers/{customer_id}/consents")
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    items = r.json()["items"]
    for item in items:
        assert {"channel", "address", "purpose", "state", "source", "createdAt"} <= set(item), item
        assert item["state"] in ("opted_in", "opted_out") and item["purpose"] in ("marketing", "transactional"), item
    times = [datetime.fromisoformat(item["createdAt"].replace("Z", "+00:00")) for item in items]
    assert times == sorted(times, reverse=True), f"the ledger is not newest first: {items}"
    return items


def current_consent(items: list, address: str) -> dict:
    """{purpose: newest entry} for (sms, address); the ledger is newest first."""
    newest = {}
    for item in items:
        if item["channel"] == "sms" and item["address"] == address:
            newest.setdefault(item["purpose"], item)
    return newest


def texts_sent(double: SmsDouble, to: str) -> list:
    return [s["text"] for s in double.sent_messages(to=to)]


# -- the double itself ---------------------------------------------------------------------------


def test_double_reproduces_the_providers_published_signature_vectors():
    """The signatures these tests send are right: Twilio's and Vonage's own test vectors come out of sms_double."""
    self_test()


# -- Twilio inbound ------------------------------------------------------------------------------


def test_twilio_inbound_is_verified_stored_and_answered_with_empty_twiml(hub):
    """A signed inbound SMS gets 200 text/xml <Response/> and is stored once: channel sms, the Body as text, in a
    conversation of a customer known by the sender's E.164 number."""
    body = "Where is my order #1234?"
    twilio_in(hub, body)

    conversations = sms_conversations(hub)
    assert len(conversations) == 1, conversations
    conversation, message = conversation_with(hub, body)
    assert message["channel"] == "sms" and message["direction"] == "inbound", message
    assert message["authorKind"] == "customer" and message["kind"] == "message", message
    assert message["deliveryState"] == "received", message
    assert [m["id"] for m in messages_of(hub, conversation["id"])] == [message["id"]]
    assert ("sms", CUSTOMER) in identities(hub, conversation["customerId"])


def test_twilio_webhook_delivered_five_times_is_stored_once(hub):
    """Twilio retries with the same MessageSid; five deliveries (one, then four at once) all succeed and store one message."""
    fields = twilio_inbound_fields(ACCOUNT_SID, CUSTOMER, TW_NUMBER, "Retried by the provider")
    deliver = lambda _: send_twilio_inbound(hub.base_url, "tw", AUTH_TOKEN, fields)  # noqa: E731
    assert_empty_twiml(deliver(0))
    with ThreadPoolExecutor(4) as pool:
        for r in pool.map(deliver, range(4)):
            assert_empty_twiml(r)
    messages = sms_messages(hub, "inbound")
    assert [m["text"] for m in messages] == ["Retried by the provider"], messages


def test_twilio_bad_signatures_are_refused_and_nothing_is_stored(hub):
    """Forged, missing, over another URL, over another token, a tampered Body, an added field: 403 invalid_signature
    and nothing stored; an unknown profile is 404 profile_not_found. A correct one afterwards is stored."""
    url = f"{hub.base_url}/webhooks/sms/tw"
    fields = twilio_inbound_fields(ACCOUNT_SID, CUSTOMER, TW_NUMBER, "Transfer $500 to me")
    good = twilio_signature(AUTH_TOKEN, url, fields)
    tampered = {**fields, "Body": "Transfer $5000 to me"}
    added = {**fields, "Extra": "injected"}
    refused = {
        "forged": dict(fields=fields, signature=twilio_signature("0" * 32, url, fields)),
        "garbage": dict(fields=fields, signature="not-a-signature"),
        "missing": dict(fields=fields, signature=False),
        "empty": dict(fields=fields, signature=""),
        "other path": dict(fields=fields, url_for_signature=f"{hub.base_url}/webhooks/sms/vg"),
        "other host": dict(fields=fields, url_for_signature=url.replace("127.0.0.1", "evil.example")),
        "with a query": dict(fields=fields, url_for_signature=url + "?x=1"),
        "tampered body": dict(fields=tampered, signature=good),
        "added field": dict(fields=added, signature=good),
    }
    for name, case in refused.items():
        r = send_twilio_inbound(hub.base_url, "tw", AUTH_TOKEN, **case)
        assert r.status_code == 403, f"{name}: {r.status_code} {r.text}"
        assert_error(r, 403, "invalid_signature")
    assert_error(send_twilio_inbound(hub.base_url, "nope", AUTH_TOKEN, fields), 404, "profile_not_found")
    assert sms_messages(hub) == [], "a refused webhook stored something"

    assert_empty_twiml(send_twilio_inbound(hub.base_url, "tw", AUTH_TOKEN, fields, signature=good))
    assert inbound_texts(hub) == ["Transfer $500 to me"]


def test_twilio_signature_is_checked_against_the_public_url_with_or_without_the_default_port(make_server, double):
    """Behind a proxy the hub rebuilds the signed URL from sms.publicBaseUrl, not from the request: a signature over
    the public URL is accepted with the default port written or not (:443 for https, :80 for http), and one over
    another scheme, port or host is refused."""
    cases = [
        ("https://sms-hub.example.test",
         ["https://sms-hub.example.test", "https://sms-hub.example.test:443"],
         ["http://sms-hub.example.test", "https://sms-hub.example.test:8443", "https://other.example.test"]),
        ("http://sms-hub.example.test:80",
         ["http://sms-hub.example.test", "http://sms-hub.example.test:80"],
         ["https://sms-hub.example.test", "http://sms-hub.example.test:8080"]),
    ]
    for public, accepted, refused in cases:
        hub = make_server(sms_config(double, public_base_url=public))
        for base in accepted + refused:
            fields = twilio_inbound_fields(ACCOUNT_SID, CUSTOMER, TW_NUMBER, f"signed over {base}")
            r = send_twilio_inbound(hub.base_url, "tw", AUTH_TOKEN, fields, url_for_signature=f"{base}/webhooks/sms/tw")
            if base in accepted:
                assert_empty_twiml(r)
            else:
                assert_error(r, 403, "invalid_signature")
        assert inbound_texts(hub) == sorted(f"signed over {base}" for base in accepted), public


def test_twilio_unknown_fields_are_accepted_and_the_text_kept_exactly(hub):
    """Providers add fields without notice: geo fields, AddOns JSON and a field nobody knows are signed and accepted;
    a Body with +, &, =, %, a newline, non-Latin letters and an emoji is stored exactly."""
    body = "Grüß Gott + 1 & 2 = 3 (100%)\nsecond line 你好 😀"
    twilio_in(hub, body, extra={
        "FromCity": "SAN FRANCISCO",
        "FromCountry": "US",
        "AddOns": '{"status":"successful","message":null,"code":null,"results":{}}',
        "MessagingServiceSid": "MG" + uuid.uuid4().hex,
        "SomeFieldTwilioAddsNextYear": "a=b&c=d",
    })
    assert inbound_texts(hub) == [body]


# -- Vonage inbound ------------------------------------------------------------------------------


def test_vonage_inbound_get_post_and_json_are_verified(hub):
    """Vonage webhooks by GET query, POST form and POST JSON, signed md5hash (profile vg) and HMAC-SHA256 (vg2, upper-
    and lowercase hex), are stored with 204; a retry stores nothing new; stale or future timestamps are 403
    stale_timestamp; a wrong, missing, wrong-method or tampered signature is 403 invalid_signature."""
    texts = ["Tom & Jerry = best friends", "Second, by form: 50% off?", "Third — über JSON ✓", "Fourth, lowercase HMAC"]
    first = vonage_fields(texts[0], "vg")
    signed = sign_vonage(first, VG["signatureSecret"], "md5hash")
    exactly = dict(timestamp=signed["timestamp"], nonce=signed["nonce"], sig=signed["sig"])
    r = vonage_send(hub, first, "vg", "GET", **exactly)
    assert r.status_code == 204, f"{r.status_code} {r.text}"
    vonage_in(hub, texts[1], "vg", "POST")
    vonage_in(hub, texts[2], "vg2", "JSON", kind="unicode")
    fourth = vonage_fields(texts[3], "vg2")
    r = vonage_send(hub, fourth, "vg2", "GET", uppercase=False)
    assert r.status_code == 204, f"{r.status_code} {r.text}"

    # The provider's retry: the same request again, byte for byte.
    r = vonage_send(hub, first, "vg", "GET", **exactly)
    assert r.status_code == 204, f"retry: {r.status_code} {r.text}"
    r = vonage_send(hub, first, "vg", "POST")  # and once more, signed afresh
    assert r.status_code == 204, f"retry: {r.status_code} {r.text}"

    now = int(time.time())
    for when in (now - 600, now + 600):
        fields = vonage_fields(f"stale {when}")
        assert_error(vonage_send(hub, fields, "vg", "GET", timestamp=when), 403, "stale_timestamp")
    fields = vonage_fields("bad signatures")
    stamp = dict(timestamp=now, nonce=str(uuid.uuid4()))
    original = sign_vonage(fields, VG["signatureSecret"], "md5hash", **stamp)
    for name, kwargs in {
        "wrong secret": dict(stamp, sig=sign_vonage(fields, "not-the-secret", "md5hash", **stamp)["sig"]),
        "missing": dict(stamp, sig=False),
        "tampered text": dict(stamp, sig=original["sig"]),
    }.items():
        sent = {**fields, "text": "tampered"} if name == "tampered text" else fields
        for method in ("GET", "POST", "JSON"):
            r = vonage_send(hub, sent, "vg", method, **kwargs)
            assert r.status_code == 403, f"{name} by {method}: {r.status_code} {r.text}"
            assert_error(r, 403, "invalid_signature")
    wrong_method = vonage_fields("md5hash on the sha256 profile", "vg2")
    r = send_vonage_inbound(hub.base_url, "vg2", wrong_method, VG2["signatureSecret"], "md5hash", "GET")
    assert_error(r, 403, "invalid_signature")
    r = send_vonage_inbound(hub.base_url, "vg2", wrong_method, VG["signatureSecret"], "sha256", "GET")
    assert_error(r, 403, "invalid_signature")

    assert inbound_texts(hub) == sorted(texts)
    conversation, _ = conversation_with(hub, texts[0])
    assert ("sms", "+" + VG_CUSTOMER) in identities(hub, conversation["customerId"])


def test_vonage_concatenated_parts_are_stored_once_joined_in_part_order(hub):
    """Parts 3, 1, 1 again, then 2: nothing is stored before the last part, then exactly one message with the texts
    joined in part order; parts delivered again afterwards store nothing."""
    ref = str(100 + int(time.time()) % 800)
    texts = {1: "The quick brown fox ", 2: "jumps over the lazy dog, ", 3: "and that is the whole story."}
    ids = {part: new_vonage_id() for part in texts}
    fields = {part: vonage_fields(texts[part], message_id=ids[part], concat=(ref, 3, part)) for part in texts}

    for part in (3, 1, 1):
        r = vonage_send(hub, fields[part], "vg", "POST")
        assert r.status_code == 204, f"part {part}: {r.status_code} {r.text}"
    time.sleep(0.3)
    assert sms_messages(hub, "inbound") == [], "a message was stored before its last part arrived"

    r = vonage_send(hub, fields[2], "vg", "POST")
    assert r.status_code == 204, f"part 2: {r.status_code} {r.text}"
    whole = texts[1] + texts[2] + texts[3]
    wait_for(lambda: inbound_texts(hub) == [whole], 5, what="the joined message")
    for part in (2, 3):
        r = vonage_send(hub, fields[part], "vg", "JSON")
        assert r.status_code == 204, f"part {part} again: {r.status_code} {r.text}"
    assert inbound_texts(hub) == [whole]


# -- outbound through Twilio ---------------------------------------------------------------------


def test_agent_reply_is_sent_through_twilio(hub, double):
    """An agent reply reaches the double once: Basic auth AccountSid:AuthToken, To the customer, From the profile's
    number, the Body, StatusCallback {publicBaseUrl}/webhooks/sms/tw/status?message={id} and an Idempotency-Key;
    the message then shows deliveryState sent and the sid as providerMessageId."""
    conversation, _ = conversation_with(hub, twilio_in(hub, "Can someone call me back?")["Body"])
    message = reply(hub, conversation["id"], "Sure, expect a call within the hour.")

    [send] = double.wait_for_sends(1, to=CUSTOMER)
    assert send["auth"] == (ACCOUNT_SID, AUTH_TOKEN), send["auth"]
    assert send["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json", send["path"]
    assert send["form"]["To"] == CUSTOMER and send["form"]["From"] == TW_NUMBER, send["form"]
    assert send["form"]["Body"] == "Sure, expect a call within the hour.", send["form"]
    assert send["form"]["StatusCallback"] == f"{hub.base_url}/webhooks/sms/tw/status?message={message['id']}", send["form"]
    assert send["idempotency_key"], send["headers"]

    sent = wait_state(hub, message["id"], "sent")
    assert sent["providerMessageId"] == send["id"] and re.fullmatch(r"SM[0-9a-f]{32}", send["id"]), (sent, send["id"])
    assert sent.get("error") is None, sent
    time.sleep(0.5)
    assert len(double.attempts(to=CUSTOMER)) == 1, double.attempts(to=CUSTOMER)


def test_retryable_errors_are_retried_with_backoff_and_one_idempotency_key(hub, double):
    """429, then 500, then 201: the message ends sent with the sid of the one stored send; every attempt carried the
    same Idempotency-Key, and retries waited (backoff) instead of hammering."""
    conversation, _ = conversation_with(hub, twilio_in(hub, "Hello?")["Body"])
    double.script(CUSTOMER, twilio_too_many_requests(), twilio_server_error())
    message = reply(hub, conversation["id"], "Sorry for the wait.")

    sent = wait_state(hub, message["id"], "sent", timeout=15)
    attempts = double.attempts(to=CUSTOMER)
    assert [a["answer_status"] for a in attempts] == [429, 500, 201], attempts
    keys = {a["idempotency_key"] for a in attempts}
    assert len(keys) == 1 and None not in keys, keys
    [send] = double.sent_messages(to=CUSTOMER)
    assert sent["providerMessageId"] == send["id"], (sent, send)
    gaps = [later["time"] - earlier["time"] for earlier, later in zip(attempts, attempts[1:])]
    assert all(gap >= 0.5 for gap in gaps), f"retries without backoff: {gaps}"


def test_permanent_twilio_error_fails_the_message_without_retrying(hub, double):
    """400 with Twilio code 21211 is not retryable: the message is failed, its error carries 21211, one attempt only."""
    conversation, _ = conversation_with(hub, twilio_in(hub, "Text me the details")["Body"])
    double.script(CUSTOMER, twilio_invalid_to(CUSTOMER))
    message = reply(hub, conversation["id"], "Here are the details.")

    failed = wait_state(hub, message["id"], "failed")
    assert failed["error"] and "21211" in failed["error"], failed
    assert [a["answer_status"] for a in double.attempts(to=CUSTOMER)] == [400]
    assert double.sent_messages(to=CUSTOMER) == []


def test_twilio_status_callbacks_move_forward_only_and_must_be_signed(hub, double):
    """A forged, unsigned, tampered or otherwise-signed callback is 403 and changes nothing. delivered then a late
    sent: stays delivered. undelivered with ErrorCode 30003: undelivered, error has 30003. Unknown message: 204."""
    conversation, _ = conversation_with(hub, twilio_in(hub, "Status please")["Body"])
    first = reply(hub, conversation["id"], "first reply")
    second = reply(hub, conversation["id"], "second reply")
    for message in (first, second):
        wait_state(hub, message["id"], "sent")
    sends = {s["text"]: s for s in double.wait_for_sends(2, to=CUSTOMER)}
    one, two = sends["first reply"], sends["second reply"]

    def status(send, state, error_code=None, **kwargs):
        fields = twilio_status_fields(ACCOUNT_SID, send["id"], state, CUSTOMER, TW_NUMBER, error_code)
        return send_twilio_status(send["status_callback"], AUTH_TOKEN, fields, **kwargs)

    callback = one["status_callback"]
    delivered = twilio_status_fields(ACCOUNT_SID, one["id"], "delivered", CUSTOMER, TW_NUMBER)
    failed = twilio_status_fields(ACCOUNT_SID, one["id"], "failed", CUSTOMER, TW_NUMBER, 30008)
    for name, kwargs in {
        "forged": dict(signature=twilio_signature("0" * 32, callback, delivered)),
        "missing": dict(signature=False),
        "signed without the query": dict(signature=twilio_signature(AUTH_TOKEN, callback.split("?")[0], delivered)),
        "signed for another message": dict(signature=twilio_signature(AUTH_TOKEN, two["status_callback"], delivered)),
    }.items():
        r = send_twilio_status(callback, AUTH_TOKEN, delivered, **kwargs)
        assert r.status_code == 403, f"{name}: {r.status_code} {r.text}"
        assert_error(r, 403, "invalid_signature")
    r = send_twilio_status(callback, AUTH_TOKEN, failed, signature=twilio_signature(AUTH_TOKEN, callback, delivered))
    assert_error(r, 403, "invalid_signature")  # tampered: signed as delivered, sent as failed
    time.sleep(0.3)
    assert get_message(hub, first["id"])["deliveryState"] == "sent", "a refused callback changed the message"

    r = status(one, "delivered")
    assert r.status_code == 204, f"{r.status_code} {r.text}"
    wait_state(hub, first["id"], "delivered", timeout=5)
    r = status(one, "sent")
    assert r.status_code == 204, f"{r.status_code} {r.text}"
    time.sleep(0.3)
    assert get_message(hub, first["id"])["deliveryState"] == "delivered"

    r = status(two, "undelivered", 30003)
    assert r.status_code == 204, f"{r.status_code} {r.text}"
    undelivered = wait_state(hub, second["id"], "undelivered", timeout=5)
    assert undelivered["error"] and "30003" in undelivered["error"], undelivered

    unknown = f"{hub.base_url}/webhooks/sms/tw/status?message=msg_{uuid.uuid4().hex}"
    fields = twilio_status_fields(ACCOUNT_SID, new_twilio_sid(), "delivered", CUSTOMER, TW_NUMBER)
    r = send_twilio_status(unknown, AUTH_TOKEN, fields)
    assert r.status_code == 204, f"unknown message: {r.status_code} {r.text}"


# -- keywords and consent ------------------------------------------------------------------------


def test_stop_start_and_help_keywords_with_the_default_opt_out_policy(hub, double):
    """STOP (any case, padded) is stored, records an opt-out (source keyword) and sends stopReply; then, with the
    default policy "all", marketing and transactional sends are refused with 422 consent_refused (nothing queued)
    and an agent reply fails with an opt-out reason without reaching the provider. START opts back in and sends
    startReply; HELP sends helpReply and leaves the ledger as it was."""
    conversation, _ = conversation_with(hub, twilio_in(hub, "  Stop ")["Body"])  # stored as sent
    customer_id = conversation["customerId"]

    def ledger_state(state):
        def newest_all_in_state():
            newest = current_consent(consents(hub, customer_id), CUSTOMER)
            return newest if newest and all(e["state"] == state for e in newest.values()) else None
        return newest_all_in_state

    newest = wait_for(ledger_state("opted_out"), 5, what="an opt-out in the ledger")
    for entry in newest.values():
        assert entry["source"] == "keyword", entry
        assert entry.get("evidence"), entry
    double.wait_for_sends(1, to=CUSTOMER, where=lambda s: s["text"] == STOP_REPLY)
    confirmations = [m for m in messages_of(hub, conversation["id"]) if m["direction"] == "outbound"]
    assert [(m["text"], m["authorKind"]) for m in confirmations] == [(STOP_REPLY, "system")], confirmations

    before = len(messages_of(hub, conversation["id"]))
    for purpose in ("marketing", "transactional"):
        error = assert_error(outbound(hub, customer_id, f"a {purpose} message", purpose), 422, "consent_refused")
        assert "opt" in error["message"].lower(), error
    assert len(messages_of(hub, conversation["id"])) == before, "a refused send was queued"

    answer = reply(hub, conversation["id"], "But wait, about your order...")
    failed = wait_state(hub, answer["id"], "failed")
    assert failed["error"] and "opt" in failed["error"].lower(), failed
    time.sleep(0.3)
    assert "But wait, about your order..." not in [a["text"] for a in double.attempts(to=CUSTOMER)]

    twilio_in(hub, "START")
    newest = wait_for(ledger_state("opted_in"), 5, what="an opt-in in the ledger")
    assert all(entry["source"] == "keyword" for entry in newest.values()), newest
    double.wait_for_sends(1, to=CUSTOMER, where=lambda s: s["text"] == START_REPLY)
    r = outbound(hub, customer_id, "Your order shipped.", "transactional")
    assert r.status_code == 202, f"{r.status_code} {r.text}"
    double.wait_for_sends(1, to=CUSTOMER, where=lambda s: s["text"] == "Your order shipped.")

    entries = len(consents(hub, customer_id))
    twilio_in(hub, "help")
    double.wait_for_sends(1, to=CUSTOMER, where=lambda s: s["text"] == HELP_REPLY)
    assert len(consents(hub, customer_id)) == entries, "HELP changed the consent ledger"


def test_opt_out_policy_marketing_still_lets_transactional_messages_through(make_server, double):
    """With optOutPolicy "marketing", STOP refuses marketing (422 consent_refused) while a transactional send and an
    agent reply still reach the provider."""
    hub = make_server(sms_config(double, optOutPolicy="marketing"))
    conversation, _ = conversation_with(hub, twilio_in(hub, "STOP")["Body"])
    customer_id = conversation["customerId"]
    double.wait_for_sends(1, to=CUSTOMER, where=lambda s: s["text"] == STOP_REPLY)
    newest = wait_for(lambda: current_consent(consents(hub, customer_id), CUSTOMER), 5, what="a ledger entry")
    marketing = newest.get("marketing", {})
    assert marketing.get("state") == "opted_out" and marketing.get("source") == "keyword", newest
    assert newest.get("transactional", {}).get("state") != "opted_out", newest

    assert_error(outbound(hub, customer_id, "20% off everything!", "marketing"), 422, "consent_refused")
    r = outbound(hub, customer_id, "Your appointment is tomorrow at 10:00.", "transactional")
    assert r.status_code == 202, f"{r.status_code} {r.text}"
    wait_state(hub, r.json()["id"], "sent")
    answer = reply(hub, conversation["id"], "Noted, you will get no more offers.")
    wait_state(hub, answer["id"], "sent")
    assert {"Your appointment is tomorrow at 10:00.", "Noted, you will get no more offers."} <= set(texts_sent(double, CUSTOMER))
    assert "20% off everything!" not in [a["text"] for a in double.attempts(to=CUSTOMER)]


def test_twilio_21610_fails_the_message_and_records_a_provider_opt_out(hub, double):
    """Twilio answers 21610 (the recipient opted out at the carrier): the message fails with 21610 in its error and the
    ledger gets an opt-out with source provider, so marketing is refused afterwards."""
    conversation, _ = conversation_with(hub, twilio_in(hub, "hi")["Body"])
    double.script(CUSTOMER, twilio_unsubscribed())
    message = reply(hub, conversation["id"], "Hello there!")

    failed = wait_state(hub, message["id"], "failed")
    assert failed["error"] and "21610" in failed["error"], failed
    assert [a["answer_status"] for a in double.attempts(to=CUSTOMER)] == [400]
    newest = wait_for(lambda: current_consent(consents(hub, conversation["customerId"]), CUSTOMER), 5, what="a ledger entry")
    assert any(e["state"] == "opted_out" and e["source"] == "provider" for e in newest.values()), newest
    assert_error(outbound(hub, conversation["customerId"], "Big sale!", "marketing"), 422, "consent_refused")


# -- Vonage outbound -----------------------------------------------------------------------------


def test_vonage_outbound_encoding_throttling_and_delivery_receipts(make_server, double):
    """Through a Vonage profile: the double receives api_key, api_secret, from/to as digits, the text, a client-ref and
    callback {publicBaseUrl}/webhooks/sms/vg/status?message={id}; GSM text goes as type text, Chinese as type=unicode;
    status "1" (throttled) is retried under the same client-ref; a signed DLR `delivered` makes the message delivered,
    an unsigned one is 403."""
    hub = make_server(sms_config(double, default_profile="vg"))
    customer = "+" + VG_CUSTOMER
    conversation, _ = conversation_with(hub, vonage_in(hub, "Hello from London", "vg", "POST")["text"])
    assert ("sms", customer) in identities(hub, conversation["customerId"])

    first = reply(hub, conversation["id"], "Thanks, we are on it.")
    [send] = double.wait_for_sends(1, provider="vonage", to=customer)
    form = send["form"]
    assert (form["api_key"], form["api_secret"]) == (VG["apiKey"], VG["apiSecret"]), form
    assert (form["from"], form["to"], form["text"]) == (digits(VG["from"]), VG_CUSTOMER, "Thanks, we are on it."), form
    assert form.get("type", "text") == "text", form
    assert form.get("client-ref"), form
    assert form["callback"] == f"{hub.base_url}/webhooks/sms/vg/status?message={first['id']}", form
    sent = wait_state(hub, first["id"], "sent")
    assert sent["providerMessageId"] == send["id"] and re.fullmatch(r"[0-9A-F]{16}", send["id"]), (sent, send)

    chinese = "您好，您的订单已发货。"
    double.script(customer, vonage_throttled())
    second = reply(hub, conversation["id"], chinese)
    wait_state(hub, second["id"], "sent", timeout=15)
    attempts = [a for a in double.attempts(provider="vonage", to=customer) if a["text"] == chinese]
    assert [a["answer"]["messages"][0]["status"] for a in attempts] == ["1", "0"], attempts
    assert len({a["idempotency_key"] for a in attempts}) == 1, attempts
    [unicode_send] = [s for s in double.sent_messages(provider="vonage") if s["text"] == chinese]
    assert unicode_send["form"].get("type") == "unicode", unicode_send["form"]

    dlr = vonage_dlr_fields(send["id"], VG_CUSTOMER, digits(VG["from"]), "delivered", "0", form["client-ref"], VG["apiKey"])
    r = send_vonage_dlr(form["callback"], dlr, VG["signatureSecret"], "md5hash", "JSON", sig=False)
    assert_error(r, 403, "invalid_signature")
    r = send_vonage_dlr(form["callback"], dlr, "wrong-secret", "md5hash", "POST")
    assert_error(r, 403, "invalid_signature")
    assert get_message(hub, first["id"])["deliveryState"] == "sent"
    r = send_vonage_dlr(form["callback"], dlr, VG["signatureSecret"], "md5hash", "JSON")
    assert r.status_code == 204, f"{r.status_code} {r.text}"
    wait_state(hub, first["id"], "delivered", timeout=5)
    accepted = vonage_dlr_fields(send["id"], VG_CUSTOMER, digits(VG["from"]), "accepted", "0", form["client-ref"], VG["apiKey"])
    r = send_vonage_dlr(form["callback"], accepted, VG["signatureSecret"], "md5hash", "POST")
    assert r.status_code == 204, f"{r.status_code} {r.text}"
    time.sleep(0.3)
    assert get_message(hub, first["id"])["deliveryState"] == "delivered"


def test_replies_leave_from_the_number_the_customer_wrote_to(hub, double):
    """With several numbers, an agent's reply goes out through the profile whose number the customer wrote to
    (here the Vonage profile vg2, not the default Twilio profile), with that profile's credentials and status URL."""
    conversation, _ = conversation_with(hub, vonage_in(hub, "Writing to your second number", "vg2", "POST")["text"])
    answer = reply(hub, conversation["id"], "Answered from the second number.")
    customer = "+" + VG_CUSTOMER
    [send] = double.wait_for_sends(1, provider="vonage", to=customer)
    form = send["form"]
    assert form["api_key"] == VG2["apiKey"] and form["from"] == digits(VG2["from"]), form
    assert form["callback"] == f"{hub.base_url}/webhooks/sms/vg2/status?message={answer['id']}", form
    assert double.sent_messages(provider="twilio") == []

    # A Twilio conversation is still answered through Twilio.
    twilio_conversation, _ = conversation_with(hub, twilio_in(hub, "And one to the Twilio number")["Body"])
    reply(hub, twilio_conversation["id"], "Answered from Twilio.")
    [twilio_send] = double.wait_for_sends(1, provider="twilio", to=CUSTOMER)
    assert twilio_send["form"]["From"] == TW_NUMBER, twilio_send["form"]


# -- MMS -----------------------------------------------------------------------------------------


def check_attachment_served(hub, attachment: dict, data: bytes, content_type: str):
    assert attachment["contentType"] == content_type and attachment["size"] == len(data), attachment
    assert attachment.get("filename"), attachment
    assert attachment["url"].startswith("/v1/media/"), attachment
    r = hub.get(attachment["url"], timeout=10)
    assert r.status_code == 200, f"{r.status_code} {r.text[:200]}"
    assert r.headers.get("Content-Type", "").split(";")[0].strip() == content_type, dict(r.headers)
    assert r.content == data, "the stored media differs from the provider's"
    r = hub.session.get(hub.url(attachment["url"]), timeout=10)  # no token
    assert r.status_code == 401, f"media served without a token: {r.status_code}"


def attachments_of(hub, body: str, count: int, timeout: float = WAIT) -> list:
    def ready():
        _, message = conversation_with(hub, body)
        return message["attachments"] if len(message["attachments"]) >= count else None

    return wait_for(ready, timeout, what=f"{count} attachment(s) on {body!r}")


def test_mms_media_is_fetched_with_credentials_and_served_to_staff(hub, double):
    """NumMedia=1: the hub fetches MediaUrl0 with Basic auth (the double refuses anything else) and keeps it as an
    attachment (filename, contentType, size, url); GET {url} with a staff token returns the same bytes and type."""
    data = b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes * 2048
    url = double.add_media("damage.png", data, "image/png")
    twilio_in(hub, "Here is the damage", media=[(url, "image/png")])

    [attachment] = attachments_of(hub, "Here is the damage", 1)
    check_attachment_served(hub, attachment, data, "image/png")
    fetches = double.media_fetches("damage.png")
    assert any(f["authorized"] and f["status"] == 200 for f in fetches), fetches


def test_mms_media_behind_twilios_redirect_is_followed(hub, double):
    """Twilio's media URLs answer 307 to their storage: the hub authenticates at the media URL and follows the redirect."""
    data = b"\xff\xd8\xff\xe0" + uuid.uuid4().bytes * 1024
    url = double.add_twilio_media(ACCOUNT_SID, data, "image/jpeg")
    twilio_in(hub, "Photo attached", media=[(url, "image/jpeg")])

    [attachment] = attachments_of(hub, "Photo attached", 1)
    check_attachment_served(hub, attachment, data, "image/jpeg")


def test_oversized_mms_media_is_not_kept_but_the_message_is(hub, double):
    """A 6 MiB media item next to a small one: the message and the small attachment are stored; nothing over 5 MiB
    is served (the big item is left out or kept without its bytes)."""
    small = b"GIF89a" + uuid.uuid4().bytes * 256
    big = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * (6 * 1024 * 1024)
    small_url = double.add_media("small.gif", small, "image/gif")
    big_url = double.add_media("big.mp4", big, "video/mp4")
    twilio_in(hub, "Two files", media=[(small_url, "image/gif"), (big_url, "video/mp4")])

    conversation_with(hub, "Two files", timeout=WAIT)
    wait_for(lambda: double.media_fetches("big.mp4") and double.media_fetches("small.gif"), WAIT, what="both media fetched")
    time.sleep(1.0)
    _, message = conversation_with(hub, "Two files")
    served = []
    for attachment in message["attachments"]:
        if not attachment.get("url"):
            continue
        r = hub.get(attachment["url"], timeout=10)
        if r.status_code == 200:
            assert len(r.content) <= MAX_MEDIA, f"served {len(r.content)} bytes for {attachment}"
            served.append(r.content)
    assert small in served, message["attachments"]


# -- segments ------------------------------------------------------------------------------------


def test_segment_counts(hub):
    """GSM-7 is 160 per message and 153 per part, the extension table (^{}[]~\\|€) counting 2; anything else is UCS-2,
    70/67 per part, counted in UTF-16 code units (an emoji is 2). `characters` is in those units."""
    cases = [
        ("a" * 160, "GSM-7", 160, 1, 160),
        ("a" * 161, "GSM-7", 161, 2, 153),
        ("a" * 306, "GSM-7", 306, 2, 153),
        ("a" * 307, "GSM-7", 307, 3, 153),
        ("€" * 80, "GSM-7", 160, 1, 160),
        ("€" + "a" * 159, "GSM-7", 161, 2, 153),
        ("^{}[]~\\|" + "a" * 144, "GSM-7", 160, 1, 160),
        ("Café à la crème, ñoño, Ärger @ £5 " * 4, "GSM-7", 136, 1, 160),  # accents of the GSM-7 basic table
        ("你" * 70, "UCS-2", 70, 1, 70),
        ("你" * 71, "UCS-2", 71, 2, 67),
        ("您好，您的订单已发货。", "UCS-2", 11, 1, 70),
        ("😀" * 35, "UCS-2", 70, 1, 70),
        ("😀" * 35 + "a", "UCS-2", 71, 2, 67),
        ("😀", "UCS-2", 2, 1, 70),
        ("ç", "UCS-2", 1, 1, 70),  # GSM-7 has Ç but not ç
    ]
    for text, encoding, characters, segments, per_segment in cases:
        r = hub.get("/v1/sms/segments", params={"text": text}, timeout=10)
        assert r.status_code == 200, f"{r.status_code} {r.text}"
        expected = {"encoding": encoding, "characters": characters, "segments": segments, "perSegment": per_segment}
        assert r.json() == expected, f"{text[:20]!r}…: {r.json()} != {expected}"


# -- durability ----------------------------------------------------------------------------------


def test_acknowledged_inbound_and_concat_parts_survive_kill9(hub):
    """An inbound SMS answered 200 survives SIGKILL; the provider's retry after the restart stores nothing new; a
    concatenated message whose first parts came before the crash is completed by the last part after it."""
    public = hub.base_url
    fields = twilio_in(hub, "Please do not lose this")
    ref = str(100 + int(time.time()) % 800)
    parts = {1: "Kept across ", 2: "a crash."}
    part_fields = {n: vonage_fields(parts[n], message_id=new_vonage_id(), concat=(ref, 2, n)) for n in parts}
    r = vonage_send(hub, part_fields[1], "vg", "POST")
    assert r.status_code == 204, f"{r.status_code} {r.text}"

    hub.kill9()
    hub.start()

    assert inbound_texts(hub) == ["Please do not lose this"]
    r = send_twilio_inbound(hub.base_url, "tw", AUTH_TOKEN, fields, url_for_signature=f"{public}/webhooks/sms/tw")
    assert_empty_twiml(r)
    r = vonage_send(hub, part_fields[2], "vg", "POST")
    assert r.status_code == 204, f"{r.status_code} {r.text}"
    wait_for(lambda: inbound_texts(hub) == sorted(["Please do not lose this", "Kept across a crash."]), 5,
             what="the completed message after the restart")
