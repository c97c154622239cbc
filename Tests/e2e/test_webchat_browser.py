"""Web chat in a real browser: headless Chromium drives the widget on the demo page while an agent answers through the inbox API.

Needs Chromium and its driver (apt: chromium chromium-driver; pip: selenium). Without them the
tests are skipped, unless $CI is set: in CI a missing browser is a failure, not a skip.
Screenshots go to $SCREENSHOT_DIR (default Tests/e2e/artifacts/).
"""

import hashlib
import hmac
import os
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import REPO_ROOT, wait_for
from test_webchat import new_visitor, sent

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INJECTION = "<img src=x onerror=alert(1)>"
WAIT = 10
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

try:
    from selenium import webdriver
    from selenium.common.exceptions import (
        NoAlertPresentException,
        StaleElementReferenceException,
        TimeoutException,
        WebDriverException,
    )
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    SELENIUM_ERROR = None
except ImportError as error:  # reported by require_browser(), so CI fails instead of silently skipping
    SELENIUM_ERROR = error


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_browser():
    problems = []
    if SELENIUM_ERROR is not None:
        problems.append(f"selenium is not importable ({SELENIUM_ERROR}; pip install selenium)")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            problems.append(f"{path} is missing (apt-get install chromium chromium-driver)")
    if problems:
        reason = "headless Chromium tests need: " + "; ".join(problems)
        if in_ci():
            pytest.fail(reason + " — $CI is set, so this is a failure, not a skip")
        pytest.skip(reason)


def screenshot_dir() -> Path:
    path = Path(os.environ.get("SCREENSHOT_DIR") or REPO_ROOT / "Tests" / "e2e" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_driver(lang: str = "en-US"):
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--disable-dev-shm-usage", f"--lang={lang}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(10)
    return driver


@pytest.fixture
def browser(request):
    require_browser()
    yield from _driver(request, "en-US")


@pytest.fixture
def chinese_browser(request):
    require_browser()
    yield from _driver(request, "zh-CN")


def _driver(request, lang: str):
    """A driver, quit at teardown; when the test failed, its last screen is saved as webchat-failure-<test>.png."""
    failed_before = request.session.testsfailed
    driver = make_driver(lang)
    try:
        yield driver
    finally:
        try:
            if request.session.testsfailed > failed_before:
                driver.save_screenshot(str(screenshot_dir() / f"webchat-failure-{request.node.name}.png"))
        except Exception:
            pass
        driver.quit()


# -- page helpers -------------------------------------------------------------------------------


def wait(driver, timeout: float = WAIT):
    return WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))


def css(driver, selector: str):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def displayed(driver, selector: str):
    """The element if it exists and is displayed, else False (a WebDriverWait condition)."""
    found = css(driver, selector)
    return found[0] if found and found[0].is_displayed() else False


def message_texts(driver, selector: str = "#sbw-messages .sbw-msg") -> list:
    return [element.text for element in css(driver, selector)]


def wait_for_message(driver, side: str, text: str, timeout: float = WAIT):
    """Waits for a `.sbw-from-{side}` message whose visible text is exactly `text`, and returns it."""

    def find(d):
        for element in css(d, f"#sbw-messages .sbw-from-{side}"):
            if element.text == text:
                return element
        return False

    try:
        return wait(driver, timeout).until(find)
    except TimeoutException:
        raise AssertionError(
            f"no .sbw-from-{side} message reading {text!r} within {timeout}s; messages: {message_texts(driver)}"
        ) from None


def open_page(driver, server):
    driver.get(server.url("/"))
    launcher = wait(driver).until(lambda d: displayed(d, "#sbw-launcher"))
    wait(driver).until(lambda d: d.execute_script("return !!(window.SwitchboardWidget && window.SwitchboardWidget.state)"))
    return launcher


def open_panel(driver):
    css(driver, "#sbw-launcher")[0].click()
    wait(driver).until(lambda d: displayed(d, "#sbw-panel"))


def close_panel(driver):
    css(driver, "#sbw-launcher")[0].click()
    wait(driver).until(lambda d: not displayed(d, "#sbw-panel"))


def type_and_send(driver, text: str):
    box = wait(driver).until(lambda d: (lambda e: e if e and e.is_enabled() else False)(displayed(d, "#sbw-input")))
    box.clear()
    box.send_keys(text)
    css(driver, "#sbw-send")[0].click()


def widget_state(driver) -> dict:
    return driver.execute_script("return window.SwitchboardWidget.state()")


def assert_no_alert(driver):
    try:
        alert = driver.switch_to.alert
    except NoAlertPresentException:
        return
    text = alert.text
    alert.dismiss()
    raise AssertionError(f"an alert was shown: {text!r} (markup in a message was executed)")


def assert_no_script_errors(driver):
    try:
        entries = driver.get_log("browser")
    except WebDriverException:
        return
    errors = [e["message"] for e in entries if e.get("level") == "SEVERE" and "Uncaught" in e.get("message", "")]
    assert not errors, f"uncaught script errors in the page: {errors}"


# -- the inbox side ------------------------------------------------------------------------------


def the_webchat_conversation(server) -> dict:
    def one():
        items = server.paginate("/v1/conversations", params={"channel": "webchat"})
        return items[0] if len(items) == 1 else None

    return wait_for(one, WAIT, what="exactly one webchat conversation in the inbox")


def inbound_texts(server, conversation_id: str) -> list:
    messages = server.paginate(f"/v1/conversations/{conversation_id}/messages")
    return [m["text"] for m in messages if m["direction"] == "inbound"]


def agent_reply(server, conversation_id: str, text: str):
    r = server.post(f"/v1/conversations/{conversation_id}/messages", json={"text": text}, timeout=10)
    assert r.status_code == 202, f"{r.status_code} {r.text}"


# -- tests ----------------------------------------------------------------------------------------


def test_visitor_and_agent_chat_in_a_real_browser(server, browser):
    """The widget sends, receives agent replies live, shows markup as text, shows typing and unread, and restores history on reload."""
    driver = browser
    shots = screenshot_dir()
    first = "Hi, I need help with order 1234"
    agent_text = "Hello from an agent"
    later = "Are you still there?"

    launcher = open_page(driver, server)
    label = launcher.get_attribute("aria-label") or ""
    assert re.search(r"[A-Za-z]{2}", label) and not CJK.search(label), f"launcher aria-label is not English: {label!r}"

    open_panel(driver)
    if displayed(driver, "#sbw-prechat"):
        css(driver, "#sbw-name")[0].send_keys("Ana Browser")
        css(driver, "#sbw-start")[0].click()
        wait(driver).until(lambda d: not displayed(d, "#sbw-prechat"))

    # 1. The visitor writes; the message is stored as an inbound webchat message.
    type_and_send(driver, first)
    wait_for_message(driver, "visitor", first)
    conversation_id = the_webchat_conversation(server)["id"]
    wait_for(lambda: inbound_texts(server, conversation_id) == [first], WAIT, what="the first message in the inbox")
    state = wait(driver).until(lambda d: (lambda s: s if s and s.get("connected") else False)(widget_state(d)))
    assert state["transport"] == "websocket", state
    assert str(state["visitorId"]).startswith("vis_"), state
    visitor_id = state["visitorId"]

    # 2. An agent replies through the inbox API; it appears live.
    agent_reply(server, conversation_id, agent_text)
    wait_for_message(driver, "agent", agent_text)
    driver.save_screenshot(str(shots / "webchat-conversation.png"))

    # 3. Markup is shown as text: no <img>, no alert, stored byte for byte.
    type_and_send(driver, INJECTION)
    shown = wait_for_message(driver, "visitor", INJECTION)
    assert shown.text == INJECTION
    assert css(driver, "#sbw-messages img") == [], "an <img> element was created from message text"
    assert "<img" not in shown.get_attribute("innerHTML"), shown.get_attribute("innerHTML")
    time.sleep(0.3)  # an onerror handler would have fired by now
    assert_no_alert(driver)
    wait_for(lambda: inbound_texts(server, conversation_id) == [first, INJECTION], WAIT, what="the injection text in the inbox")

    # 4. Agent typing shows the indicator.
    assert not displayed(driver, "#sbw-typing"), "the typing indicator shows before any agent typed"
    r = server.post(f"/v1/conversations/{conversation_id}/typing", timeout=10)
    assert r.status_code == 204, f"{r.status_code} {r.text}"
    wait(driver, 5).until(lambda d: displayed(d, "#sbw-typing"))

    # 5. Panel closed: a reply raises the unread badge to 1; opening the panel clears it.
    close_panel(driver)
    assert not displayed(driver, "#sbw-badge"), "unread badge shown with nothing unread"
    agent_reply(server, conversation_id, later)
    badge = wait(driver).until(lambda d: displayed(d, "#sbw-badge"))
    assert badge.text.strip() == "1", f"badge reads {badge.text!r}"
    open_panel(driver)
    wait_for_message(driver, "agent", later)
    wait(driver, 5).until(lambda d: not displayed(d, "#sbw-badge"))
    assert_no_alert(driver)
    assert_no_script_errors(driver)

    # 6. Reload: the same visitor, the whole history in order, markup still text.
    expected = [first, agent_text, INJECTION, later]
    driver.refresh()
    open_page(driver, server)
    open_panel(driver)
    assert not displayed(driver, "#sbw-prechat"), "the pre-chat form came back after a reload: the session was not kept"
    try:
        wait(driver).until(lambda d: message_texts(d) == expected)
    except TimeoutException:
        raise AssertionError(f"history after reload is {message_texts(driver)}, expected {expected}") from None
    assert [e.text for e in css(driver, "#sbw-messages .sbw-from-visitor")] == [first, INJECTION]
    assert [e.text for e in css(driver, "#sbw-messages .sbw-from-agent")] == [agent_text, later]
    assert css(driver, "#sbw-messages img") == []
    state = widget_state(driver)
    assert state["visitorId"] == visitor_id, state
    last_reply = [m for m in server.paginate(f"/v1/conversations/{conversation_id}/messages") if m["text"] == later]
    assert state["lastId"] == last_reply[-1]["id"], (state, last_reply)
    assert_no_alert(driver)
    assert_no_script_errors(driver)
    driver.save_screenshot(str(shots / "webchat-after-reload.png"))

    # The inbox saw each visitor message exactly once, whatever the widget retried.
    assert inbound_texts(server, conversation_id) == [first, INJECTION]


def test_widget_speaks_chinese_to_a_chinese_browser(server, chinese_browser):
    """With navigator.languages = zh-CN the widget's labels are Chinese (the launcher's aria-label has CJK characters)."""
    driver = chinese_browser
    launcher = open_page(driver, server)
    languages = driver.execute_script("return navigator.languages")
    assert languages and languages[0].lower().startswith("zh"), f"the browser was not set to Chinese: {languages}"
    label = launcher.get_attribute("aria-label") or ""
    assert CJK.search(label), f"launcher aria-label is not Chinese: {label!r}"


def test_outside_opening_hours_the_widget_says_when_the_center_opens(server, browser):
    """A supervisor stores opening hours for the default queue; outside them the widget says the center is closed and when it opens."""
    driver = browser
    today = datetime.now(timezone.utc).date()
    config = server.get("/v1/routing/configuration").json()
    config["calendars"] = [{
        "id": "office", "timeZone": "UTC",
        "hours": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "open": "00:00", "close": "24:00"}],
        "holidays": [str(today), str(today + timedelta(days=1))],
    }]
    config["queues"][0]["calendarId"] = "office"
    stored = server.request("PUT", "/v1/routing/configuration", json=config)
    assert stored.status_code == 200, stored.text

    open_page(driver, server)
    open_panel(driver)
    if displayed(driver, "#sbw-prechat"):
        css(driver, "#sbw-start")[0].click()
        wait(driver).until(lambda d: not displayed(d, "#sbw-prechat"))
    notice = wait(driver).until(lambda d: (lambda e: e if e and "closed" in e.text else False)(displayed(d, "#sbw-offline")))
    assert "open again" in notice.text, notice.text
    # The visitor can still leave an address and write.
    assert displayed(driver, "#sbw-offline input")
    driver.save_screenshot(str(screenshot_dir() / "webchat-closed.png"))
    assert_no_script_errors(driver)


def test_a_visitor_who_signs_in_sees_their_history_and_keeps_chatting(make_server, browser):
    """The page signs the visitor in mid-chat (SwitchboardWidget.identify): the chat joins the known customer,
    the widget shows that customer's earlier chat, and replies keep arriving live."""
    server = make_server({"webchat": {"identitySecret": "s3cret"}})
    signature = hmac.new(b"s3cret", b"user-42", hashlib.sha256).hexdigest()
    known = new_visitor(server, identifier="user-42", signature=signature, name="Ana")
    earlier = sent(server, known["token"], "my parcel is late")
    known_customer = server.get(f"/v1/conversations/{earlier['conversationId']}").json()["customerId"]

    driver = browser
    open_page(driver, server)
    open_panel(driver)
    if displayed(driver, "#sbw-prechat"):
        css(driver, "#sbw-start")[0].click()
        wait(driver).until(lambda d: not displayed(d, "#sbw-prechat"))
    type_and_send(driver, "hello from the browser")
    wait_for_message(driver, "visitor", "hello from the browser")
    assert message_texts(driver) == ["hello from the browser"]

    driver.execute_script("return window.SwitchboardWidget.identify(arguments[0], arguments[1])", "user-42", signature)
    try:
        wait(driver).until(lambda d: message_texts(d) == ["my parcel is late", "hello from the browser"])
    except TimeoutException:
        raise AssertionError(f"after signing in the widget shows {message_texts(driver)}") from None
    conversations = server.paginate("/v1/conversations", params={"channel": "webchat"})
    assert {c["customerId"] for c in conversations} == {known_customer}, conversations

    # The socket follows the known customer: an agent's reply arrives live.
    agent_reply(server, earlier["conversationId"], "Your parcel ships today")
    wait_for_message(driver, "agent", "Your parcel ships today")
    assert_no_script_errors(driver)
