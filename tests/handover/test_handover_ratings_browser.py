"""The agent console's "My ratings" panel in headless Chromium, against the real desk."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import pytest

from handover.store import HandoverStore
from tests.handover.test_handover_console_browser import (  # noqa: F401  (fixtures)
    TOKEN,
    browser,
    desk_server,
    wait_until,
)
from tests.retention.retention_support import create_rasa_schema

pytestmark = pytest.mark.browser


def test_an_agent_sees_their_ratings_and_comments(
    desk_server: dict[str, Any],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    from selenium.webdriver.common.by import By

    from tests.handover.test_handover_ratings import add_rating, served

    store: HandoverStore = desk_server["store"]
    create_rasa_schema(str(store.engine.url))
    holder: Any = type("Holder", (), {"store": store})()
    served(holder, "rated-1", "Sam")
    served(holder, "rated-2", "Sam")
    now = time.time()
    add_rating(holder, "rated-1", 5, now + 1, "Sam was <b>great</b>")
    add_rating(holder, "rated-2", 2, now + 2)

    browser.get(desk_server["page"])
    find = partial(browser.find_element, By.ID)
    find("token").send_keys(TOKEN)
    find("sign-in").click()
    wait_until(lambda: find("agent-name").text == "Sam")
    find("my-ratings").find_element(By.TAG_NAME, "summary").click()
    wait_until(lambda: "2 ratings, average 3.50 of 5" in find("my-ratings-summary").text)
    comments = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#my-ratings-comments li")]
    assert len(comments) == 1 and comments[0].endswith("5/5: Sam was <b>great</b>")
    assert browser.find_elements(By.CSS_SELECTOR, "#my-ratings-comments b") == []
