"""The customer's delivery plan end to end: an SMS provider double (sms_double.py) and a real SMTP server (aiosmtpd)
on loopback. A reply whose SMS comes back undelivered reaches the customer once by email; a customer who sent STOP
gets no marketing SMS but does get marketing email where email consent exists; a reply follows the customer's
current preference ("email me, not SMS, while I am abroad"); the customer's own preferences page, from the link in
every mail."""

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from conftest import assert_error, get_message, messages_of, wait_state
from mail_servers import SmtpCapture
from sms_double import SmsDouble, send_twilio_status, twilio_status_fields
from test_email import HUB_ADDRESS, email_config
from test_sms import ACCOUNT_SID, AUTH_TOKEN, CUSTOMER, TW_NUMBER, VG, VG2, conversation_with, sms_config, twilio_in

EMAIL = "ana.lima@mail.customer.test"


@pytest.fixture
def double():
    with SmsDouble({ACCOUNT_SID: AUTH_TOKEN}, {VG["apiKey"]: VG["apiSecret"], VG2["apiKey"]: VG2["apiSecret"]}) as provider:
        yield provider


@pytest.fixture
def hub(make_server, double, smtp_capture: SmtpCapture):
    """SMS through the double (profile `tw`), email through the capture relay."""

    def config(port: int) -> dict:
        return {**sms_config(double)(port), **email_config(smtp_capture)}

    return make_server(config)


def customer_on_sms_and_email(hub, text: str) -> tuple:
    """A customer who wrote by SMS and whose email address an agent added: (conversation, customer id)."""
    conversation, _ = conversation_with(hub, twilio_in(hub, text)["Body"])
    r = hub.post(f"/v1/customers/{conversation['customerId']}/identities", json={"channel": "email", "address": EMAIL})
    assert r.status_code == 201, f"{r.status_code} {r.text}"
    assert r.json()["address"] == EMAIL and r.json()["verified"] is False, r.json()
    return conversation, conversation["customerId"]


def reply(hub, conversation_id: str, text: str) -> dict:
    r = hub.post(f"/v1/conversations/{conversation_id}/messages", json={"text": text}, timeout=10)
    assert r.status_code == 202, f"{r.status_code} {r.text}"
    return r.json()


def midday_zone() -> str:
    """A fixed-offset time zone where it is about noon now, so quiet hours (21:00–08:00) never defer the test."""
    offset = 12 - datetime.now(timezone.utc).hour  # -11 … 12: noon today, the same date as in UTC
    # Etc/GMT-N is UTC+N (POSIX signs are inverted).
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def test_an_undelivered_sms_reaches_the_customer_once_by_email(hub, double, smtp_capture):
    """The reply goes by SMS (where the customer wrote); the carrier reports it undelivered; the same text goes by
    email, once, recorded in the same conversation as a message whose `fallbackOf` is the SMS. A repeated report
    changes nothing."""
    conversation, _ = customer_on_sms_and_email(hub, "Is my order on its way?")
    sms = reply(hub, conversation["id"], "Yes: it ships today, tracking 1Z999.")
    assert sms["channel"] == "sms"
    wait_state(hub, sms["id"], "sent")
    send = double.wait_for_sends(1, to=CUSTOMER)[0]

    fields = twilio_status_fields(ACCOUNT_SID, send["id"], "undelivered", CUSTOMER, TW_NUMBER, "30003")
    for _ in range(2):  # the provider retries its callback
        r = send_twilio_status(send["status_callback"], AUTH_TOKEN, fields)
        assert r.status_code in (200, 204), f"{r.status_code} {r.text}"
    assert get_message(hub, sms["id"])["deliveryState"] == "undelivered"

    mail = smtp_capture.wait_for_messages(1, to=EMAIL)[0]
    assert "Yes: it ships today, tracking 1Z999." in mail.message.get_body(preferencelist=("plain",)).get_content()
    fallback = [m for m in messages_of(hub, conversation["id"]) if m.get("fallbackOf") == sms["id"]]
    assert len(fallback) == 1 and fallback[0]["channel"] == "email", fallback
    wait_state(hub, fallback[0]["id"], "sent")
    time.sleep(1.5)  # nothing else may follow
    assert len(smtp_capture.messages(to=EMAIL)) == 1
    assert len(double.sent_messages(to=CUSTOMER)) == 1


def test_after_stop_marketing_goes_by_email_where_email_consent_exists(hub, double, smtp_capture):
    """STOP by SMS opts the number out; the customer opted in to marketing email (recorded by an agent). Marketing
    by SMS is refused (422 consent_refused); without a channel the planner sends it by email; no SMS goes out."""
    _, customer_id = customer_on_sms_and_email(hub, "Hello")
    twilio_in(hub, "STOP")
    double.wait_for_sends(1, to=CUSTOMER)  # the STOP confirmation, which the law requires
    assert hub.request("PATCH", f"/v1/customers/{customer_id}", json={"timeZone": midday_zone()}).status_code == 200
    r = hub.post(f"/v1/customers/{customer_id}/consents",
                 json={"channel": "email", "address": EMAIL, "purpose": "marketing", "state": "opted_in", "evidence": "newsletter form"})
    assert r.status_code == 201 and r.json()["source"] == "api", r.text

    by_sms = hub.post("/v1/outbound", json={"customerId": customer_id, "channel": "sms", "text": "Spring sale!", "purpose": "marketing"})
    assert_error(by_sms, 422, "consent_refused")
    planned = hub.post("/v1/outbound", json={"customerId": customer_id, "text": "Spring sale!", "purpose": "marketing"})
    assert planned.status_code == 202, planned.text
    assert planned.json()["channel"] == "email"
    mail = smtp_capture.wait_for_messages(1, to=EMAIL)[0]
    assert "Spring sale!" in mail.message.get_body(preferencelist=("plain",)).get_content()
    time.sleep(1.0)
    assert [s["text"] for s in double.sent_messages(to=CUSTOMER) if "Spring" in s["text"]] == []


def test_consent_needs_one_of_the_customers_addresses(hub):
    """Recording consent for an address the customer does not have is 422; a bad body is 400/422; nothing recorded."""
    conversation, customer_id = customer_on_sms_and_email(hub, "Hi")
    r = hub.post(f"/v1/customers/{customer_id}/consents",
                 json={"channel": "email", "address": "someone.else@example.org", "purpose": "marketing", "state": "opted_in"})
    assert_error(r, 422, "unknown_address")
    assert hub.post(f"/v1/customers/{customer_id}/consents", json={"channel": "fax"}).status_code in (400, 422)
    taken = hub.post(f"/v1/customers/{customer_id}/identities", json={"channel": "sms", "address": "not-a-number"})
    assert_error(taken, 422)


def test_a_reply_follows_the_customers_current_preference(hub, double, smtp_capture):
    """"Email me, not SMS, while I am abroad": during the window the agent's reply in the SMS conversation goes by
    email; the conversation keeps it; no SMS is sent."""
    conversation, customer_id = customer_on_sms_and_email(hub, "I am travelling next week")
    now = datetime.now(timezone.utc)
    window = {"scope": "service", "channels": ["email"],
              "validFrom": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "validUntil": (now + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    r = hub.request("PUT", f"/v1/customers/{customer_id}/preferences", json={"items": [window]})
    assert r.status_code == 200, r.text
    answer = reply(hub, conversation["id"], "Safe travels! We will write by email.")
    assert answer["channel"] == "email" and answer["conversationId"] == conversation["id"], answer
    mail = smtp_capture.wait_for_messages(1, to=EMAIL)[0]
    assert mail.message["From"].addresses[0].addr_spec == HUB_ADDRESS
    wait_state(hub, answer["id"], "sent")
    assert double.sent_messages(to=CUSTOMER) == []


def test_an_sms_without_a_delivery_report_in_time_goes_by_email(make_server, double, smtp_capture):
    """`outbox.receiptTimeoutSeconds`: the carrier never reports on the SMS; after the timeout the same text goes by
    email, once, and the SMS keeps `sent` with an error saying no report came."""

    def config(port: int) -> dict:
        return {**sms_config(double)(port), **email_config(smtp_capture), "outbox": {"receiptTimeoutSeconds": 1}}

    hub = make_server(config)
    conversation, _ = customer_on_sms_and_email(hub, "Send me the code")
    sms = reply(hub, conversation["id"], "Your code is 4711.")
    wait_state(hub, sms["id"], "sent")
    mail = smtp_capture.wait_for_messages(1, to=EMAIL, timeout=15)[0]
    assert "Your code is 4711." in mail.message.get_body(preferencelist=("plain",)).get_content()
    late = get_message(hub, sms["id"])
    assert late["deliveryState"] == "sent" and late["error"].startswith("no delivery report"), late
    time.sleep(2.5)  # two more timeouts: nothing else
    assert len(smtp_capture.messages(to=EMAIL)) == 1


def test_the_preferences_page_from_the_link_in_every_mail(make_server, double, smtp_capture):
    """Every mail ends with the customer's preferences link; marketing mail offers it as one-click unsubscribe
    (RFC 8058). The page (GET changes nothing) lists the addresses; saving records marketing consents with source
    `preferences` and the channel for replies; a One-Click POST opts out of all marketing. A forged link is 404."""

    def config(port: int) -> dict:
        merged = {**sms_config(double)(port), **email_config(smtp_capture)}
        merged["customers"] = {"preferencesSecret": "prefs-secret"}
        merged["http"] = {"publicBaseUrl": f"http://127.0.0.1:{port}"}
        return merged

    hub = make_server(config)
    conversation, customer_id = customer_on_sms_and_email(hub, "Hello")
    link = hub.get(f"/v1/customers/{customer_id}/preferences-link").json()["url"]
    assert link.startswith(f"{hub.base_url}/p/"), link

    # A reply by email carries the link.
    prefs = {"items": [{"scope": "service", "channels": ["email"]}]}
    assert hub.request("PUT", f"/v1/customers/{customer_id}/preferences", json=prefs).status_code == 200
    reply(hub, conversation["id"], "Here is your answer.")
    mail = smtp_capture.wait_for_messages(1, to=EMAIL)[0]
    assert link in mail.message.get_body(preferencelist=("plain",)).get_content()
    assert mail.message["List-Unsubscribe"] is None, "a reply is not marketing"

    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"], page.text
    assert EMAIL in page.text and CUSTOMER in page.text
    assert [c["source"] for c in hub.get(f"/v1/customers/{customer_id}/consents").json()["items"]] == [], "a GET changes nothing"

    saved = requests.post(link, data={"marketing": f"email:{EMAIL}", "service": "sms"}, timeout=10)
    assert saved.status_code == 200 and "Saved" in saved.text
    ledger = {(c["channel"], c["state"], c["source"]) for c in hub.get(f"/v1/customers/{customer_id}/consents").json()["items"]}
    assert ledger == {("email", "opted_in", "preferences"), ("sms", "opted_out", "preferences")}, ledger
    items = hub.get(f"/v1/customers/{customer_id}/preferences").json()["items"]
    assert items == [{"scope": "service", "channels": ["sms", "email"]}], items

    # Marketing mail offers one-click unsubscribe through the same link.
    assert hub.request("PATCH", f"/v1/customers/{customer_id}", json={"timeZone": midday_zone()}).status_code == 200
    r = hub.post("/v1/outbound", json={"customerId": customer_id, "channel": "email", "text": "Autumn sale", "purpose": "marketing"})
    assert r.status_code == 202, r.text
    offer = smtp_capture.wait_for_messages(2, to=EMAIL)[-1]
    assert offer.message["List-Unsubscribe"] == f"<{link}>" and offer.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = requests.post(link, data="List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"},
                              timeout=10, allow_redirects=False)
    assert one_click.status_code == 200, one_click.status_code
    latest = [c for c in hub.get(f"/v1/customers/{customer_id}/consents").json()["items"] if c["channel"] == "email"][0]
    assert latest["state"] == "opted_out" and latest["source"] == "preferences", latest

    assert requests.get(link[:-2] + "zz", timeout=10).status_code == 404
