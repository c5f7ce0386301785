"""A shopper in headless Chromium on a phone-sized screen: open, chat, download, delete, XSS.

One long test because it is one visit: each step depends on the conversation so far.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from devkit.waiting import eventually

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

XSS = "<img src=x onerror=alert(1)>"


def texts(driver: Any, selector: str) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, selector)]


def wait_for_file(folder: Path, suffix: str, timeout: float = 20) -> Path:
    done = eventually(
        lambda: [p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0],
        timeout=timeout,
        what=f"a {suffix} download in {folder}",
        ignore=(FileNotFoundError,),  # a partial download renamed while we looked
    )
    return done[0]


def stored_session(driver: Any) -> dict[str, str]:
    raw = driver.execute_script("return localStorage.getItem('retail-assistant-webchat')")
    return json.loads(raw) if raw else {}


def event_count(engine: sa.engine.Engine, conversation_id: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT COUNT(*) FROM events WHERE sender_id = :s"), {"s": conversation_id}
            ).scalar_one()
        )


def send(driver: Any, text: str) -> None:
    box = driver.find_element(By.ID, "rwc-input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def open_menu_item(driver: Any, wait: WebDriverWait, action: str) -> None:
    driver.find_element(By.CSS_SELECTOR, ".rwc-gear").click()
    item = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, f'[data-action="{action}"]')))
    item.click()


def test_shopper_chats_downloads_deletes_and_sees_html_as_text(
    browser_stack: dict[str, Any], driver: Any
) -> None:
    wait = WebDriverWait(driver, 40)
    driver.get(browser_stack["page_url"])

    # Open the widget from the keyboard; the bot introduces itself.
    launcher = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher")))
    launcher.send_keys(Keys.ENTER)
    wait.until(lambda d: any("bot" in t.lower() for t in texts(d, ".rwc-from-bot .rwc-text")))
    # ... and links the privacy notice: a real link, opened in a new tab.
    [privacy] = driver.find_elements(By.CSS_SELECTOR, ".rwc-from-bot .rwc-text a.rwc-link")
    assert privacy.get_attribute("href").endswith("/privacy")
    assert privacy.get_attribute("rel") == "noopener noreferrer"
    panel = driver.find_element(By.ID, "rwc-panel")
    assert panel.get_attribute("aria-label")
    assert driver.find_element(By.CSS_SELECTOR, ".rwc-messages").get_attribute("aria-live")
    width = driver.execute_script("return window.innerWidth")
    rect = panel.rect
    assert rect["x"] >= 0 and rect["x"] + rect["width"] <= width, (rect, width)
    session = stored_session(driver)
    assert len(session["session_id"]) == 32

    # Say hi and get an answer.
    bots_before = len(texts(driver, ".rwc-from-bot"))
    send(driver, "hi")
    wait.until(lambda d: "hi" in texts(d, ".rwc-from-shopper .rwc-text"))
    wait.until(lambda d: len(texts(d, ".rwc-from-bot")) > bots_before)

    # A reload resumes the same conversation and shows it again.
    driver.refresh()
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher"))).click()
    wait.until(lambda d: "hi" in texts(d, ".rwc-from-shopper .rwc-text"))
    assert stored_session(driver) == session

    # Download both formats from the gear menu and read them.
    open_menu_item(driver, wait, "download-txt")
    txt = wait_for_file(driver.downloads, ".txt").read_text()
    assert "You: hi" in txt
    assert "Assistant (bot):" in txt
    assert session["session_id"] in txt
    open_menu_item(driver, wait, "download-json")
    data = json.loads(wait_for_file(driver.downloads, ".json").read_text())
    assert [m["text"] for m in data["messages"] if m["sender"] == "shopper"] == ["hi"]

    # Delete, confirm, and the conversation is gone: screen, storage and database.
    assert event_count(browser_stack["engine"], session["session_id"]) > 0
    open_menu_item(driver, wait, "delete")
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, '[data-action="confirm-delete"]')))
    driver.find_element(By.CSS_SELECTOR, '[data-action="confirm-delete"]').click()
    wait.until(lambda d: stored_session(d).get("session_id") not in (None, session["session_id"]))
    assert "hi" not in texts(driver, ".rwc-from-shopper .rwc-text")
    assert "deleted" in driver.find_element(By.CSS_SELECTOR, ".rwc-status").text
    assert event_count(browser_stack["engine"], session["session_id"]) == 0
    wait.until(lambda d: any("bot" in t.lower() for t in texts(d, ".rwc-from-bot .rwc-text")))

    # HTML in a message is shown as text and never runs.
    send(driver, XSS)
    wait.until(lambda d: XSS in texts(d, ".rwc-from-shopper .rwc-text"))
    assert driver.find_elements(By.CSS_SELECTOR, ".rwc-messages img") == []
    time.sleep(1)
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - raises when there is no alert


def test_agent_messages_and_queue_status(browser_stack: dict[str, Any], driver: Any) -> None:
    """The handover seam as the shopper sees it (driven by the fake agent desk)."""
    wait = WebDriverWait(driver, 40)
    rasa = browser_stack["rasa_url"]
    driver.get(browser_stack["page_url"])
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher"))).click()
    wait.until(lambda d: texts(d, ".rwc-from-bot .rwc-text"))
    cid = stored_session(driver)["session_id"]

    status = {"state": "waiting", "position": 3, "estimated_wait_minutes": 6}
    requests.post(f"{rasa}/webhooks/webchat/agent/status/{cid}", json=status, timeout=10)
    bar = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".rwc-handover")))
    assert "number 3" in bar.text and "6 min" in bar.text
    bar.find_element(By.TAG_NAME, "button").click()
    wait.until(
        lambda d: requests.get(f"{rasa}/webhooks/webchat/agent/seen/{cid}", timeout=10).json()[
            "left_queue"
        ]
    )

    requests.post(
        f"{rasa}/webhooks/webchat/agent/say/{cid}",
        json={"text": "Hi, Sam here <b>!</b>", "agent_name": "Sam"},
        timeout=10,
    )
    wait.until(lambda d: texts(d, ".rwc-from-agent .rwc-text") == ["Hi, Sam here <b>!</b>"])
    assert "Sam" in driver.find_element(By.CSS_SELECTOR, ".rwc-from-agent .rwc-sender").text
    requests.post(
        f"{rasa}/webhooks/webchat/agent/status/{cid}",
        json={"state": "active", "agent_name": "Sam"},
        timeout=10,
    )
    wait.until(
        lambda d: "chatting with Sam" in d.find_element(By.CSS_SELECTOR, ".rwc-handover").text
    )
    # The bot is silent while an agent chats: no "typing" dots for the shopper's message
    # (they stayed up for 20 s, as if an answer were coming).
    send(driver, "thanks, one more thing")
    wait.until(lambda d: "thanks, one more thing" in texts(d, ".rwc-from-shopper .rwc-text"))
    assert not driver.find_element(By.CSS_SELECTOR, ".rwc-typing").is_displayed()

    # The agent closes: the bar says so until the shopper talks to the bot again.
    requests.post(
        f"{rasa}/webhooks/webchat/agent/status/{cid}", json={"state": "closed"}, timeout=10
    )
    wait.until(lambda d: "left the chat" in d.find_element(By.CSS_SELECTOR, ".rwc-handover").text)
    send(driver, "how can I pay?")
    wait.until(ec.invisibility_of_element_located((By.CSS_SELECTOR, ".rwc-handover")))


def test_the_newest_message_stays_in_view_when_buttons_or_the_queue_bar_appear(
    browser_stack: dict[str, Any], driver: Any
) -> None:
    """The bar (like suggested answers) takes room from the message list after the list
    has scrolled to its end; the newest message used to be left half hidden."""
    wait = WebDriverWait(driver, 40)
    rasa = browser_stack["rasa_url"]
    driver.get(browser_stack["page_url"])
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher"))).click()
    wait.until(lambda d: texts(d, ".rwc-from-bot .rwc-text"))
    cid = stored_session(driver)["session_id"]
    for n in range(8):  # more than the list can show on a phone
        requests.post(
            f"{rasa}/webhooks/webchat/agent/say/{cid}",
            json={"text": f"Message {n} of a longer conversation.", "agent_name": "Sam"},
            timeout=10,
        )
    wait.until(lambda d: len(texts(d, ".rwc-from-agent")) == 8)
    hidden_below = (
        "var l = document.querySelector('.rwc-messages');"
        " return l.scrollHeight - l.scrollTop - l.clientHeight;"
    )
    # A question with suggested answers in the same event (like "Cancel order ...?").
    buttons = [
        {"title": "Yes, cancel it", "payload": "/affirm"},
        {"title": "No", "payload": "/deny"},
    ]
    requests.post(
        f"{rasa}/webhooks/webchat/agent/say/{cid}",
        json={"text": "Cancel order 40012360?", "agent_name": "Sam", "buttons": buttons},
        timeout=10,
    )
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".rwc-quick-reply")))
    eventually(
        lambda: driver.execute_script(hidden_below) <= 1, timeout=5, what="the question in view"
    )
    status = {"state": "waiting", "position": 2, "estimated_wait_minutes": 8}
    requests.post(f"{rasa}/webhooks/webchat/agent/status/{cid}", json=status, timeout=10)
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".rwc-handover")))
    eventually(
        lambda: driver.execute_script(hidden_below) <= 1, timeout=5, what="the list at its end"
    )


def test_messages_that_come_while_the_panel_is_closed_show_on_the_launcher(
    browser_stack: dict[str, Any], driver: Any
) -> None:
    """Nothing told a shopper with the panel closed that an agent had written. On a
    Swedish page, so the launcher's label is checked in a language other than English."""
    wait = WebDriverWait(driver, 40)
    rasa = browser_stack["rasa_url"]
    driver.get(browser_stack["page_url"] + "?lang=sv")
    launcher = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher")))
    launcher.click()
    wait.until(lambda d: texts(d, ".rwc-from-bot .rwc-text"))
    cid = stored_session(driver)["session_id"]
    launcher.click()  # closed again
    badge = driver.find_element(By.CSS_SELECTOR, ".rwc-unread")
    assert not badge.is_displayed()
    assert launcher.get_attribute("aria-label") == "Öppna chatten"

    for text in ("Hej, det är Sam.", "Jag har hittat din order."):
        requests.post(
            f"{rasa}/webhooks/webchat/agent/say/{cid}",
            json={"text": text, "agent_name": "Sam"},
            timeout=10,
        )
    wait.until(lambda d: badge.is_displayed() and badge.text == "2")
    assert launcher.get_attribute("aria-label") == "Öppna chatten (nya meddelanden)"

    launcher.click()
    wait.until(lambda d: len(texts(d, ".rwc-from-agent .rwc-text")) == 2)
    assert not badge.is_displayed()
    assert launcher.get_attribute("aria-label") == "Stäng chatten"
