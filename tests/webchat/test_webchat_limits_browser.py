"""How the widget takes the server's refusals (issue 11) and its limits: an expired stored
session, messages over the rate limit and a text over the length limit, in headless
Chromium against the real server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.webchat.conftest import SECRET
from tests.webchat.test_webchat_browser import send, stored_session, texts

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def signed(session_id: str, issued: int) -> str:
    digest = hmac.new(SECRET.encode(), f"{session_id}.{issued}".encode(), hashlib.sha256).digest()
    return f"{issued}." + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_an_expired_stored_session_starts_a_fresh_chat_once(
    browser_stack: dict[str, Any], driver: Any
) -> None:
    wait = WebDriverWait(driver, 40)
    driver.get(browser_stack["page_url"])
    old_id = uuid.uuid4().hex
    old = {"session_id": old_id, "session_token": signed(old_id, int(time.time()) - 91 * 86400)}
    driver.execute_script(
        "localStorage.setItem('retail-assistant-webchat', arguments[0])", json.dumps(old)
    )
    driver.refresh()
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher"))).click()

    wait.until(lambda d: any("bot" in t.lower() for t in texts(d, ".rwc-from-bot .rwc-text")))
    fresh = stored_session(driver)
    assert fresh["session_id"] != old_id
    assert "ended" in driver.find_element(By.CSS_SELECTOR, ".rwc-status").text
    time.sleep(3)  # no loop of new sessions: the one it got stays
    assert stored_session(driver) == fresh
    assert len(texts(driver, ".rwc-from-bot")) == 1  # one introduction


def test_a_message_over_the_rate_limit_gets_a_notice_and_stays_in_the_input(
    browser_stack: dict[str, Any], driver: Any
) -> None:
    wait = WebDriverWait(driver, 40)
    driver.get(browser_stack["page_url"])
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher"))).click()
    wait.until(lambda d: texts(d, ".rwc-from-bot .rwc-text"))
    # The introduction took one of the conversation's 5 messages per 10 s.
    for n in range(5):
        send(driver, f"question {n}")
    notice = wait.until(
        lambda d: [t for t in texts(d, ".rwc-from-system .rwc-text") if "wait" in t]
    )
    assert "faster than I can read" in notice[0]
    box = driver.find_element(By.ID, "rwc-input")
    assert box.get_attribute("value") == "question 4"


def test_messages_refused_for_speed_look_unsent_and_one_text_comes_back(
    browser_stack: dict[str, Any], driver: Any
) -> None:
    """A refused message looked sent, and each refused text went back onto what the box
    held, so the next ones ran together ("question 4question 5...") and were refused too."""
    wait = WebDriverWait(driver, 40)
    driver.get(browser_stack["page_url"])
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher"))).click()
    wait.until(lambda d: texts(d, ".rwc-from-bot .rwc-text"))
    questions = [f"question {n}" for n in range(8)]
    for question in questions:  # the introduction took one of the 5 messages per 10 s
        send(driver, question)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".rwc-not-sent")) == 4)
    time.sleep(1)
    assert texts(driver, ".rwc-from-shopper.rwc-not-sent .rwc-text") == questions[4:]
    assert texts(driver, ".rwc-from-shopper:not(.rwc-not-sent) .rwc-text") == questions[:4]
    assert all(t.endswith("Not sent") for t in texts(driver, ".rwc-not-sent"))
    box = driver.find_element(By.ID, "rwc-input")
    assert box.get_attribute("value") in questions[4:]  # one of them, whole, once


def test_a_long_paste_is_kept_whole_said_to_be_too_long_and_not_sent(
    browser_stack: dict[str, Any], driver: Any
) -> None:
    """The box had maxlength=2000: a pasted 5,000-character text was cut without a word
    and the first 2,000 characters were sent."""
    wait = WebDriverWait(driver, 40)
    driver.get(browser_stack["page_url"])
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher"))).click()
    wait.until(lambda d: texts(d, ".rwc-from-bot .rwc-text"))
    box = driver.find_element(By.ID, "rwc-input")
    pasted = ("The parcel came damaged. " * 200)[:4999] + "!"
    box.click()
    driver.execute_cdp_cmd("Input.insertText", {"text": pasted})  # as a paste inserts it
    assert box.get_attribute("value") == pasted
    note = driver.find_element(By.ID, "rwc-limit")
    wait.until(lambda d: note.is_displayed())
    assert note.text == "5,000 of 2,000 characters. Please shorten your message to send it."
    assert box.get_attribute("aria-invalid") == "true"
    assert box.get_attribute("aria-describedby") == "rwc-limit"

    box.send_keys(Keys.ENTER)
    wait.until(lambda d: "too long" in d.find_element(By.CSS_SELECTOR, ".rwc-status").text)
    time.sleep(1)
    assert texts(driver, ".rwc-from-shopper") == []  # nothing went
    assert box.get_attribute("value") == pasted  # kept, to be shortened

    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("The parcel came damaged.")
    assert not note.is_displayed()
    assert box.get_attribute("aria-invalid") is None
    box.send_keys(Keys.ENTER)
    wait.until(lambda d: texts(d, ".rwc-from-shopper .rwc-text") == ["The parcel came damaged."])
