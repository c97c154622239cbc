"""Campaigns end to end: customers imported from CSV, the shipped `spring-sale` template, a real SMTP relay
(aiosmtpd) and the SMS provider double. Each recipient gets one message on their channel in their language; the
launch is blocked by what recipients lack, with file and line; RFC 8058 one-click unsubscribe lands in the
ledger; replies come back into the inbox in the campaign's conversation; pause, resume and cancel act on the
outbox at once."""

import email
import email.policy
import re
import time

import pytest

from conftest import assert_error, messages_of, run_cli, wait_for
from mail_servers import SmtpCapture
from test_delivery_plan import double, midday_zone  # noqa: F401 (the SMS provider double fixture)
from test_email import customer_mail, email_config, outcome, post_webhook
from test_sms import sms_config, twilio_in

UNSUBSCRIBE = re.compile(r"https?://[^\s<>\"]+/u/([0-9a-z_]+\.[0-9a-z]+)")
DATA = {"code": "SPRING15", "endsOn": "31 May"}


@pytest.fixture
def hub(make_server, double, smtp_capture: SmtpCapture):
    """Email through the capture relay, SMS through the double (profile `tw`)."""

    def config(port: int) -> dict:
        return {**sms_config(double)(port), **email_config(smtp_capture), "outbox": {"leaseSeconds": 5}}

    return make_server(config)


def import_customers(hub, tmp_path, lines: list) -> None:
    """Imports `lines` (after the header) with the CLI into the running hub's database."""
    source = tmp_path / f"customers-{time.monotonic_ns()}.csv"
    source.write_text("externalId,name,email,phone,timeZone,locale,tags,emailMarketing,smsMarketing,city\n" + "\n".join(lines) + "\n")
    result = run_cli("customers", "import", str(source), "--database", hub.db_path, cwd=hub.workdir, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def customer_id(hub, address: str) -> str:
    items = hub.get("/v1/customers", params={"q": address}).json()["items"]
    assert len(items) == 1, items
    return items[0]["id"]


def launch(hub, audience: str, template: str = "spring-sale", data: dict = DATA, **fields) -> dict:
    r = hub.post("/v1/campaigns", json={"name": "Spring sale", "template": template, "audience": audience, "data": data, **fields})
    assert r.status_code == 201, r.text
    campaign = r.json()
    assert campaign["state"] == "draft" and campaign["id"].startswith("cmp_"), campaign
    r = hub.post(f"/v1/campaigns/{campaign['id']}/launch")
    assert r.status_code == 202, r.text
    return r.json()


def stats(hub, campaign_id: str) -> dict:
    r = hub.get(f"/v1/campaigns/{campaign_id}/stats")
    assert r.status_code == 200, r.text
    return r.json()


def settled(hub, campaign_id: str, timeout: float = 30.0) -> dict:
    """The stats once the campaign is planned and nothing is left to send."""

    def done():
        s = stats(hub, campaign_id)
        return s if s["state"] == "completed" and s["total"]["pending"] == 0 else None

    return wait_for(done, timeout, interval=0.3, what="the campaign planned and sent")


def body_text(received) -> str:
    return received.message.get_body(preferencelist=("plain",)).get_content()


def test_each_recipient_gets_one_message_on_their_channel_in_their_language(hub, double, smtp_capture, tmp_path):
    zone = midday_zone()
    import_customers(hub, tmp_path, [
        f"S1,Ana Lima,ana@shop.test,,{zone},en,spring,opted_in,,Shenzhen",
        f"S2,王芳,wang@shop.test,,{zone},zh-CN,spring,opted_in,,",
        f"S3,Bo,,+15551230003,{zone},en,spring,,opted_in,",
        f"S4,No Consent,none@shop.test,,{zone},en,spring,opted_out,,",
        f"S5,Other,other@shop.test,,{zone},en,autumn,opted_in,,",
    ])
    r = hub.post("/v1/audiences/preview", json={"audience": 'tags has "spring"'})
    assert r.status_code == 200 and r.json()["count"] == 4, r.text

    campaign = launch(hub, 'tags has "spring"')
    assert campaign["state"] == "scheduled" and campaign["audienceSize"] == 4, campaign
    result = settled(hub, campaign["id"])
    assert result["planned"] == 4 and result["total"]["targeted"] == 3, result
    assert result["skipped"]["no_consent"] == 1 and result["total"]["sent"] == 3, result
    assert result["channels"]["email"]["targeted"] == 2 and result["channels"]["sms"]["targeted"] == 1, result

    ana = smtp_capture.wait_for_messages(1, to="ana@shop.test")
    wang = smtp_capture.wait_for_messages(1, to="wang@shop.test")
    assert len(ana) == 1 and len(wang) == 1
    assert smtp_capture.messages(to="none@shop.test") == [] and smtp_capture.messages(to="other@shop.test") == []
    mail = ana[0]
    assert str(mail.message["Subject"]) == "Ana, your spring offer: 15% off with code SPRING15", mail.message["Subject"]
    text = body_text(mail)
    assert "SPRING15" in text and "Shenzhen" in text, text
    # RFC 8058: the header and the visible link are the same one-click URL of this message.
    header = str(mail.message["List-Unsubscribe"])
    assert str(mail.message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    token = UNSUBSCRIBE.search(header).group(1)
    assert token in text, text
    assert re.search(r"[\u4e00-\u9fff]", str(email.message_from_bytes(wang[0].raw, policy=email.policy.default)["Subject"]))
    sms = double.wait_for_sends(1, to="+15551230003")
    assert len(sms) == 1 and "SPRING15" in sms[0]["text"] and "STOP" in sms[0]["text"], sms

    recipients = hub.get(f"/v1/campaigns/{campaign['id']}/recipients").json()["items"]
    assert sorted((x["outcome"], x.get("reason"), x.get("channel")) for x in recipients) == [
        ("queued", None, "email"), ("queued", None, "email"), ("queued", None, "sms"), ("skipped", "no_consent", None),
    ], recipients

    # GET shows a confirmation and changes nothing; the mail client's one-click POST unsubscribes, without a redirect.
    page = hub.session.get(hub.url(f"/u/{token}"), timeout=10)
    assert page.status_code == 200 and "ana@shop.test" in page.text and "<form" in page.text, page.text
    ana_id = customer_id(hub, "ana@shop.test")
    marketing = lambda: [c for c in hub.get(f"/v1/customers/{ana_id}/consents").json()["items"] if c["purpose"] == "marketing"]
    assert marketing()[0]["state"] == "opted_in"
    for _ in range(2):
        done = hub.session.post(hub.url(f"/u/{token}"), data="List-Unsubscribe=One-Click", allow_redirects=False,
                                headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
        assert done.status_code == 200, done.text
    latest = marketing()
    assert latest[0]["state"] == "opted_out" and latest[0]["source"] == "unsubscribe", latest
    assert len([c for c in latest if c["source"] == "unsubscribe"]) == 1, latest
    assert stats(hub, campaign["id"])["total"]["unsubscribed"] == 1
    assert hub.session.get(hub.url("/u/msg_01HZZZZZZZZZZZZZZZZZZZZZZZ.aaaa"), timeout=10).status_code == 404

    # Replies: Bo answers the SMS; Wang answers the mail (its reply address names the campaign's conversation).
    twilio_in(hub, "Is it valid in the app?", from_="+15551230003")
    reply = customer_mail("Re: spring", "Does it work online?", from_="wang@shop.test", name="王芳",
                          to=str(wang[0].message["Reply-To"]).split("<")[-1].strip(">"))
    landed = outcome(post_webhook(hub, reply), "stored")
    replied = wait_for(lambda: (lambda s: s if s["total"]["replied"] == 2 else None)(stats(hub, campaign["id"])), 10,
                       what="two replies counted")
    assert replied["channels"]["sms"]["replied"] == 1 and replied["channels"]["email"]["replied"] == 1, replied
    conversation = hub.get(f"/v1/conversations/{landed['conversationId']}").json()
    assert conversation["campaignId"] == campaign["id"] and conversation["status"] == "open", conversation
    assert f"campaign:{campaign['id']}" in conversation["tags"], conversation
    texts = [m["text"] for m in messages_of(hub, conversation["id"])]
    assert len(texts) == 2 and "SPRING15" in texts[0] and "Does it work online?" in texts[1], texts


def test_a_launch_is_blocked_by_what_recipients_lack_with_file_and_line(hub, tmp_path):
    import_customers(hub, tmp_path, [
        "B1,Ana,a@shop.test,,,en,vip,opted_in,,Shenzhen",
        "B2,Bo,b@shop.test,,,en,vip,opted_in,,",
    ])
    # A template that uses an undeclared variable is refused with its part and line.
    bad = {"variables": ["data.code"], "defaultLocale": "en",
           "locales": {"en": {"emailSubject": "Hi", "emailText": "Code {{data.code}}", "sms": "Hi\n{{attributes.city}}"}}}
    r = hub.request("PUT", "/v1/templates/city-note", json=bad)
    error = assert_error(r, 422, "template_invalid")
    assert "en/sms:2" in error["message"], error
    bad["variables"].append("attributes.city")
    r = hub.request("PUT", "/v1/templates/city-note", json=bad)
    assert r.status_code == 200, r.text
    assert_error(hub.request("PUT", "/v1/templates/spring-sale", json=bad), 409, "template_shipped")

    draft = hub.post("/v1/campaigns", json={"name": "City", "template": "city-note", "audience": 'tags has "vip"'}).json()
    message = assert_error(hub.post(f"/v1/campaigns/{draft['id']}/launch"), 422, "launch_blocked")["message"]
    assert "attributes.city (en/sms:2) is missing for 1 of 2 recipients" in message, message
    assert "data.code (en/email.text:1) has no value" in message, message
    assert hub.get(f"/v1/campaigns/{draft['id']}").json()["state"] == "draft"

    empty = hub.post("/v1/campaigns", json={"name": "Nobody", "template": "spring-sale", "audience": 'tags has "none"', "data": DATA}).json()
    assert "the audience is empty" in assert_error(hub.post(f"/v1/campaigns/{empty['id']}/launch"), 422, "launch_blocked")["message"]
    assert_error(hub.post("/v1/campaigns", json={"name": "x", "template": "no-such-template"}), 404)
    assert_error(hub.post("/v1/campaigns", json={"name": "x", "template": "spring-sale", "audience": "tier ="}), 422)


def test_previews_show_each_channel_with_segments_cost_and_size(hub, tmp_path):
    import_customers(hub, tmp_path, ["P1,王芳,wang@shop.test,+15551230009,,zh-CN,,opted_in,opted_in,"])
    wang = customer_id(hub, "wang@shop.test")
    r = hub.post("/v1/templates/spring-sale/preview", json={"customerId": wang, "data": DATA})
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["locale"] == "zh" and set(preview["channels"]) == {"email", "sms", "webchat"}, preview
    sms = preview["channels"]["sms"]
    assert sms["segments"]["encoding"] == "UCS-2" and sms["segments"]["segments"] >= 1, sms
    assert sms["estimatedCost"] == round(sms["segments"]["segments"] * 0.0079, 4) and sms["currency"] == "USD", sms
    mail = preview["channels"]["email"]
    assert mail["bytes"] > len(mail["text"].encode()) and "SPRING15" in mail["text"] and "<html" in mail["html"], mail
    templates = hub.get("/v1/templates").json()["items"]
    names = {t["name"]: t for t in templates}
    assert {"spring-sale", "birthday-care"} <= set(names) and names["spring-sale"]["problems"] == [], names
    assert names["spring-sale"]["source"] == "file" and names["spring-sale"]["locales"] == ["en", "zh"], names


def test_audience_filters_are_values_never_sql(hub, tmp_path):
    import_customers(hub, tmp_path, [
        "A1,Ana,a@shop.test,,,en,new-parent,opted_in,,Shenzhen",
        "A2,Bo,b@shop.test,,,en,new-parent,opted_in,,Beijing",
    ])
    ok = hub.post("/v1/audiences/preview", json={"audience": 'tags has "new-parent" and city = "Shenzhen"'}).json()
    assert ok["count"] == 1 and ok["sample"][0]["name"] == "Ana", ok
    for attempt in ['city = "x\' OR 1=1 --"', 'city = "\\"); DROP TABLE customer; --"', "tags has \"') OR ('1'='1\"",
                    'attributes["city\') OR 1=1 --"] = "x"']:
        r = hub.post("/v1/audiences/preview", json={"audience": attempt})
        assert r.status_code == 200 and r.json()["count"] == 0, (attempt, r.text)
    assert hub.post("/v1/audiences/preview", json={"audience": ""}).json()["count"] == 2
    error = assert_error(hub.post("/v1/audiences/preview", json={"audience": "city = "}), 422)
    assert "column" in error["message"], error


def test_pause_holds_resume_goes_on_cancel_stops(hub, smtp_capture, tmp_path):
    zone = midday_zone()
    import_customers(hub, tmp_path, [f"T{i},C{i},t{i}@shop.test,,{zone},en,slow,opted_in,," for i in range(12)])
    campaign = launch(hub, 'tags has "slow"', throttle={"perSecond": {"email": 2}})
    smtp_capture.wait_for_messages(2, where=lambda m: m.rcpt_tos[0].startswith("t"))
    r = hub.post(f"/v1/campaigns/{campaign['id']}/pause")
    assert r.status_code == 200 and r.json()["state"] == "paused", r.text
    time.sleep(1.0)  # a send already claimed may still land
    held = len(smtp_capture.messages())
    time.sleep(2.0)
    assert len(smtp_capture.messages()) == held, "mail went out while paused"
    assert_error(hub.post(f"/v1/campaigns/{campaign['id']}/pause"), 409, "campaign_not_running")
    assert hub.post(f"/v1/campaigns/{campaign['id']}/resume").json()["state"] in ("sending", "completed")
    smtp_capture.wait_for_messages(held + 2, timeout=10)
    cancelled = hub.post(f"/v1/campaigns/{campaign['id']}/cancel").json()
    assert cancelled["state"] == "cancelled", cancelled
    time.sleep(1.0)
    final = len(smtp_capture.messages())
    time.sleep(2.0)
    assert len(smtp_capture.messages()) == final < 12, "mail went out after the cancel"
    numbers = stats(hub, campaign["id"])
    assert numbers["total"]["pending"] == 0 and numbers["total"]["sent"] == final, numbers
    # Each address got at most one mail.
    addresses = [m.rcpt_tos[0] for m in smtp_capture.messages()]
    assert len(addresses) == len(set(addresses)), addresses


def test_a_birthday_automation_reaches_whoever_has_their_birthday_once(hub, smtp_capture, tmp_path):
    """A campaign with a trigger: the shipped birthday-care template goes to the customer whose birthday it is
    in their time zone, once; the others wait for their day; the automation stays `sending`."""
    zone = midday_zone()
    now = time.gmtime()
    today = time.strftime("%m-%d", now)
    other = "01-01" if today != "01-01" else "07-01"
    import_customers(hub, tmp_path, [
        f"H1,Ana Lima,ana@bday.test,,{zone},en,,opted_in,,",
        f"H2,Bo,bo@bday.test,,{zone},en,,opted_in,,",
    ])
    for address, birthday in (("ana@bday.test", f"1990-{today}"), ("bo@bday.test", f"1985-{other}")):
        r = hub.request("PATCH", f"/v1/customers/{customer_id(hub, address)}", json={"attributes": {"birthday": birthday}})
        assert r.status_code == 200, r.text
    campaign = launch(hub, "", template="birthday-care", data={"giftCode": "BDAY-7Q2"},
                      trigger={"attribute": "birthday", "localTime": "00:01"})
    assert campaign["trigger"] == {"attribute": "birthday", "localTime": "00:01"}, campaign
    mail = smtp_capture.wait_for_messages(1, to="ana@bday.test")[0]
    assert "BDAY-7Q2" in body_text(mail) and "Ana" in body_text(mail), body_text(mail)
    time.sleep(2.5)  # another look of the runner: nothing new
    assert len(smtp_capture.messages(to="ana@bday.test")) == 1 and smtp_capture.messages(to="bo@bday.test") == []
    recipients = hub.get(f"/v1/campaigns/{campaign['id']}/recipients").json()["items"]
    assert [(r["customerId"], r["occurrence"]) for r in recipients] == [(customer_id(hub, "ana@bday.test"), time.strftime("%Y", now))]
    assert stats(hub, campaign["id"])["state"] == "sending"


def test_a_numbers_sending_limit_spaces_its_texts(make_server, double, smtp_capture, tmp_path):
    """`sms.profile.NAME.perSecond`: the provider's limit for a number; the campaign's texts reach the provider
    no faster than that (replies and campaigns alike go through the same pace)."""

    def config(port: int) -> dict:
        settings = {**sms_config(double)(port), **email_config(smtp_capture)}
        settings["sms"]["profile"]["tw"]["perSecond"] = 4
        return settings

    hub = make_server(config)
    zone = midday_zone()
    import_customers(hub, tmp_path, [f"R{i},Text {i},,+1555700{i:04d},{zone},en,paced,,opted_in," for i in range(6)])
    launch(hub, 'tags has "paced"')
    sends = double.wait_for_sends(6, timeout=20)
    times = sorted(s["time"] for s in sends)
    assert times[-1] - times[0] >= 5 * 0.25 * 0.9, times  # six sends at 4/s span at least 1.25 s
