"""A crash in the middle of a campaign: 20,000 recipients, half by email to a real SMTP relay (aiosmtpd), half by
SMS to the provider double. The hub is killed with SIGKILL while sending, then restarted on the same database.
Every recipient gets the message; nobody gets a second copy except the messages the dispatcher had in flight at
the crash, which the campaign's stats count (`resentAfterCrash`)."""

import collections
import os
import time


from conftest import wait_for
from test_campaigns import import_customers, launch, settled, stats
from test_delivery_plan import double, midday_zone  # noqa: F401 (the SMS provider double fixture)
from test_email import email_config
from test_sms import sms_config

RECIPIENTS = int(os.environ.get("CAMPAIGN_CRASH_RECIPIENTS", "20000"))
IN_FLIGHT = 32  # the dispatcher's batch: what it may be sending at the moment of a crash


def test_a_crash_while_sending_sends_nobody_a_second_copy_beyond_those_in_flight(make_server, double, smtp_capture, tmp_path):
    def config(port: int) -> dict:
        return {**sms_config(double)(port), **email_config(smtp_capture), "outbox": {"leaseSeconds": 5}}

    hub = make_server(config)
    half = RECIPIENTS // 2
    zone = midday_zone()  # where quiet hours hold nothing back, whatever the hour the test runs at
    lines = [f"E{i},Mail {i},m{i}@crash.test,,{zone},en,crash,opted_in,," for i in range(half)]
    lines += [f"S{i},Text {i},,+1555{i:07d},{zone},en,crash,,opted_in," for i in range(RECIPIENTS - half)]
    import_customers(hub, tmp_path, lines)

    started = time.monotonic()
    campaign = launch(hub, 'tags has "crash"')

    def delivered() -> int:
        return len(smtp_capture.messages()) + len(double.attempts())

    wait_for(lambda: delivered() >= RECIPIENTS // 4, 120, interval=0.05, what="a quarter of the campaign sent")
    hub.kill9()
    at_crash = delivered()
    hub.start()
    result = settled(hub, campaign["id"], timeout=600)
    elapsed = time.monotonic() - started

    mails = collections.Counter(m.rcpt_tos[0].lower() for m in smtp_capture.messages())
    texts = collections.Counter(a["to"] for a in double.attempts())
    assert set(mails) == {f"m{i}@crash.test" for i in range(half)}, "some email recipients got nothing"
    assert set(texts) == {f"+1555{i:07d}" for i in range(RECIPIENTS - half)}, "some SMS recipients got nothing"
    second_copies = sum(n - 1 for n in mails.values()) + sum(n - 1 for n in texts.values())
    reported = result["total"]["resentAfterCrash"]
    print(f"\n{RECIPIENTS} recipients in {elapsed:.1f} s; killed after {at_crash} sends; "
          f"second copies {second_copies}, reported resent after the crash {reported} (at most {IN_FLIGHT} in flight)")
    assert result["planned"] == RECIPIENTS and result["total"]["targeted"] == RECIPIENTS, result
    assert result["total"]["sent"] == RECIPIENTS, result
    assert second_copies <= reported <= IN_FLIGHT, (second_copies, reported)
    # The SMS provider's idempotency key recognises a resend: no customer's phone shows two texts.
    assert len(double.sent_messages()) == RECIPIENTS - half
    assert stats(hub, campaign["id"])["state"] == "completed"
