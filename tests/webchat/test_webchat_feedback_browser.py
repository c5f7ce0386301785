"""A shopper in headless Chromium votes on an answer and rates the chat.

What the widget sent is checked where it ends up: in the conversation's transcript.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.webchat.test_webchat_browser import send, stored_session, texts

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def transcript(rasa_url: str, session: dict[str, str]) -> list[dict[str, Any]]:
    reply = requests.get(
        f"{rasa_url}/webhooks/webchat/conversations/{session['session_id']}/transcript",
        headers={"Authorization": f"Bearer {session['session_token']}"},
        timeout=10,
    )
    assert reply.status_code == 200
    return list(reply.json()["messages"])


def feedback(rasa_url: str, session: dict[str, str]) -> list[dict[str, Any]]:
    return [m["feedback"] for m in transcript(rasa_url, session) if "feedback" in m]


def announced(driver: Any) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, ".rwc-announcer").get_attribute("textContent"))


def test_shopper_votes_on_an_answer_and_rates_the_chat(
    browser_stack: dict[str, Any], driver: Any
) -> None:
    wait = WebDriverWait(driver, 40)
    rasa = browser_stack["rasa_url"]
    driver.get(browser_stack["page_url"])
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher"))).click()
    wait.until(lambda d: texts(d, ".rwc-from-bot .rwc-text"))
    send(driver, "hi")
    wait.until(lambda d: len(texts(d, ".rwc-from-bot .rwc-text")) >= 2)
    send(driver, "how long does delivery take?")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".rwc-from-bot")) >= 3)
    session = stored_session(driver)

    # Keyboard: focus the last answer's "not helpful" button and press Enter, then change.
    last = driver.find_elements(By.CSS_SELECTOR, ".rwc-from-bot")[-1]
    down = last.find_element(By.CSS_SELECTOR, '[data-helpful="false"]')
    up = last.find_element(By.CSS_SELECTOR, '[data-helpful="true"]')
    message_id = last.find_element(By.CSS_SELECTOR, ".rwc-vote").get_attribute("data-message-id")
    down.send_keys(Keys.ENTER)
    wait.until(lambda d: down.get_attribute("aria-pressed") == "true")
    assert up.get_attribute("aria-pressed") == "false"
    wait.until(lambda d: "not helpful" in announced(d))
    up.click()
    wait.until(lambda d: up.get_attribute("aria-pressed") == "true")
    assert down.get_attribute("aria-pressed") == "false"
    assert feedback(rasa, session) == [
        {"message_id": message_id, "helpful": False},
        {"message_id": message_id, "helpful": True},
    ]
    assert driver.find_elements(By.CSS_SELECTOR, ".rwc-rating:not([hidden])") == []

    # Closing the panel after two messages offers the rating beside the launcher.
    driver.find_element(By.CSS_SELECTOR, ".rwc-close").click()
    card = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".rwc-rating")))
    assert "How was this chat?" in card.text
    card.find_element(By.CSS_SELECTOR, '[data-rating="4"]').click()
    box = wait.until(ec.visibility_of_element_located((By.ID, "rwc-rating-comment")))
    box.send_keys("Quick answer, thanks")
    card.find_element(By.CSS_SELECTOR, '[data-action="send-rating"]').click()
    wait.until(ec.invisibility_of_element_located((By.CSS_SELECTOR, ".rwc-rating")))
    assert feedback(rasa, session)[-1] == {"rating": 4, "comment": "Quick answer, thanks"}

    # A reload shows the vote as given and never asks for a rating again.
    driver.refresh()
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher"))).click()
    group = f'.rwc-vote[data-message-id="{message_id}"]'
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, group))
    pressed = driver.find_element(By.CSS_SELECTOR, f'{group} [aria-pressed="true"]')
    assert pressed.get_attribute("data-helpful") == "true"
    assert not [t for t in texts(driver, ".rwc-message") if "Rated the conversation" in t]
    send(driver, "thanks, bye")
    wait.until(lambda d: "thanks, bye" in texts(d, ".rwc-from-shopper .rwc-text"))
    driver.find_element(By.CSS_SELECTOR, ".rwc-close").click()
    assert driver.find_elements(By.CSS_SELECTOR, ".rwc-rating:not([hidden])") == []


def test_agent_closing_the_chat_asks_once_and_no_thanks_stores_nothing(
    browser_stack: dict[str, Any], driver: Any
) -> None:
    wait = WebDriverWait(driver, 40)
    rasa = browser_stack["rasa_url"]
    driver.get(browser_stack["page_url"])
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher"))).click()
    wait.until(lambda d: texts(d, ".rwc-from-bot .rwc-text"))
    session = stored_session(driver)
    cid = session["session_id"]
    requests.post(
        f"{rasa}/webhooks/webchat/agent/status/{cid}", json={"state": "closed"}, timeout=10
    )
    card = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".rwc-panel .rwc-rating")))
    # The chat goes on around the card.
    send(driver, "hi")
    wait.until(lambda d: len(texts(d, ".rwc-from-bot .rwc-text")) >= 2)
    card.find_element(By.CSS_SELECTOR, '[data-action="skip-rating"]').click()
    wait.until(ec.invisibility_of_element_located((By.CSS_SELECTOR, ".rwc-rating")))
    requests.post(
        f"{rasa}/webhooks/webchat/agent/status/{cid}", json={"state": "closed"}, timeout=10
    )
    send(driver, "what are your opening hours")
    wait.until(lambda d: len(texts(d, ".rwc-from-bot .rwc-text")) >= 3)
    assert driver.find_elements(By.CSS_SELECTOR, ".rwc-rating:not([hidden])") == []
    assert feedback(rasa, session) == []


def test_leaving_the_queue_says_so_and_asks_for_no_rating(
    browser_stack: dict[str, Any], driver: Any
) -> None:
    """No agent ever joined: the bar must not say one left, and there is nothing to rate."""
    wait = WebDriverWait(driver, 40)
    rasa = browser_stack["rasa_url"]
    driver.get(browser_stack["page_url"])
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher"))).click()
    wait.until(lambda d: texts(d, ".rwc-from-bot .rwc-text"))
    cid = stored_session(driver)["session_id"]
    status = {"state": "waiting", "position": 1, "estimated_wait_minutes": 4}
    requests.post(f"{rasa}/webhooks/webchat/agent/status/{cid}", json=status, timeout=10)
    bar = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".rwc-handover")))
    # What the agent desk sends when the shopper presses "Leave queue".
    requests.post(f"{rasa}/webhooks/webchat/agent/status/{cid}", json={"state": "left"}, timeout=10)
    wait.until(lambda d: "left the queue" in bar.text)
    assert "agent has left" not in bar.text
    assert driver.find_elements(By.CSS_SELECTOR, ".rwc-rating:not([hidden])") == []


def test_a_thanks_after_two_messages_offers_the_rating_in_the_panel(
    browser_stack: dict[str, Any], driver: Any
) -> None:
    wait = WebDriverWait(driver, 40)
    driver.get(browser_stack["page_url"])
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".rwc-launcher"))).click()
    wait.until(lambda d: texts(d, ".rwc-from-bot .rwc-text"))
    send(driver, "thanks")  # a first message: too early to ask
    wait.until(lambda d: len(texts(d, ".rwc-from-bot .rwc-text")) >= 2)
    assert driver.find_elements(By.CSS_SELECTOR, ".rwc-rating:not([hidden])") == []
    send(driver, "how long does delivery take?")
    wait.until(lambda d: len(texts(d, ".rwc-from-bot .rwc-text")) >= 3)
    send(driver, "Thank you, bye!")
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".rwc-panel .rwc-rating")))
    assert driver.find_element(By.ID, "rwc-input").is_enabled()
