"""The shopper's widget against the real agent desk, in headless Chromium: the queue and
agent bars after a reload and in a second tab, the rating only after the agent has
closed the chat, and the launcher's count of what came while the panel was closed.

The desk and the channel run in this process (tests/handover/test_handover_console_browser.py
`desk_server`); the shop page with the widget comes from the demo page server.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import requests
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from handover.store import HandoverStore
from tests.handover.test_handover_console_browser import (  # noqa: F401  (fixtures)
    TOKEN,
    browser,
    desk_server,
    wait_until,
)

pytestmark = pytest.mark.browser

AGENT = {"Authorization": f"Bearer {TOKEN}"}


def find(page: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return page.find_element(By.CSS_SELECTOR, selector)


def texts(page: Any, selector: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in page.find_elements(By.CSS_SELECTOR, selector)]


def open_panel(page: Any) -> None:
    launcher = wait_until(lambda: find(page, ".rwc-launcher"))
    if launcher.get_attribute("aria-expanded") != "true":
        launcher.click()
    wait_until(lambda: find(page, "#rwc-panel").is_displayed())


def close_panel(page: Any) -> None:
    find(page, ".rwc-close").click()
    wait_until(lambda: not find(page, "#rwc-panel").is_displayed())


def send(page: Any, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    box = find(page, "#rwc-input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def bar(page: Any) -> str:
    """The handover bar as the shopper sees it (empty when hidden)."""
    return str(find(page, ".rwc-handover").text)


def rating_shown(page: Any) -> bool:
    from selenium.webdriver.common.by import By

    return any(e.is_displayed() for e in page.find_elements(By.CSS_SELECTOR, ".rwc-rating"))


def test_queue_and_agent_stay_in_view_and_the_rating_waits_for_the_agent(
    desk_server: dict[str, Any],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    store: HandoverStore = desk_server["store"]
    api = desk_server["api"] + "/agent"
    browser.get(desk_server["shop"])
    open_panel(browser)
    cid = wait_until(
        lambda: browser.execute_script(
            "return JSON.parse(localStorage.getItem('retail-assistant-webchat')).session_id"
        )
    )
    send(browser, "my parcel never came")
    send(browser, "can someone help me?")
    wait_until(lambda: len(texts(browser, ".rwc-from-shopper")) == 2)
    # What Rasa would have stored of it (no Rasa here), so that a reload has a history.
    said = [UserUttered("my parcel never came"), BotUttered("You are number 1 in the queue.")]
    asyncio.run(desk_server["tracker_store"].save(DialogueStateTracker.from_events(cid, said)))
    request = store.join(cid, email="anna@example.com", topic="track_parcel").request
    wait_until(lambda: "number 1 in the queue" in bar(browser))

    # Closing the panel while an agent is awaited asks for no rating: the chat goes on
    # (the card came, and used up the rating the agent should have had).
    close_panel(browser)
    time.sleep(0.5)
    assert not rating_shown(browser)

    # A reload shows where the shopper stands, with the button the bot tells them about.
    browser.refresh()
    open_panel(browser)
    wait_until(lambda: "number 1 in the queue" in bar(browser))
    wait_until(lambda: "my parcel never came" in texts(browser, ".rwc-from-shopper .rwc-text"))
    time.sleep(1)  # the history has loaded, and the bar stays
    assert "number 1 in the queue" in bar(browser)
    assert find(browser, ".rwc-handover button").text == "Leave queue"

    claimed = requests.post(
        f"{api}/claim", json={"request_id": request.id}, headers=AGENT, timeout=10
    )
    assert claimed.status_code == 200, claimed.text
    wait_until(lambda: "You are chatting with Sam." in bar(browser))
    assert not find(browser, ".rwc-handover button").is_displayed()

    # A second tab knows the agent too, and closing its panel asks for no rating either.
    first_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(desk_server["shop"])
    open_panel(browser)
    wait_until(lambda: "You are chatting with Sam." in bar(browser))
    time.sleep(1)
    assert "You are chatting with Sam." in bar(browser)
    close_panel(browser)

    # What the agent writes while the panel is closed shows on the launcher until it opens,
    # also on a page loaded meanwhile (the shopper browses on while chatting).
    browser.refresh()
    launcher = wait_until(lambda: find(browser, ".rwc-launcher"))
    assert launcher.get_attribute("aria-label") == "Open chat"
    wait_until(  # connected at once, the panel still closed
        lambda: "chatting with Sam" in find(browser, ".rwc-handover").get_attribute("textContent")
    )
    reply = requests.post(
        f"{api}/requests/{request.id}/messages",
        json={"text": "Hi, Sam here."},
        headers=AGENT,
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    wait_until(lambda: find(browser, ".rwc-unread").text == "1")
    assert launcher.get_attribute("aria-label") == "Open chat (new messages)"
    assert not rating_shown(browser)
    open_panel(browser)
    wait_until(lambda: "Hi, Sam here." in texts(browser, ".rwc-from-agent .rwc-text"))
    assert not find(browser, ".rwc-unread").is_displayed()
    assert launcher.get_attribute("aria-label") == "Close chat"

    # The agent closes the chat: now the rating is offered, in both tabs.
    closed = requests.post(f"{api}/requests/{request.id}/close", headers=AGENT, timeout=10)
    assert closed.status_code == 200, closed.text
    wait_until(lambda: "The agent has left the chat" in bar(browser))
    wait_until(lambda: rating_shown(browser))
    assert "How was this chat?" in find(browser, ".rwc-rating").text
    browser.switch_to.window(first_tab)
    wait_until(lambda: rating_shown(browser))
