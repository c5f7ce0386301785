"""The agent console in headless Chromium against a real agent desk.

The desk runs in the real web chat channel on a Sanic server in this process (no Rasa
needed: the console only talks to the desk routes, through the channel's CORS); of Rasa's
agent there is only what the channel and the desk read, its SQL tracker store on the
queue's database (the bot conversation, the shopper's transcript and delete routes). The
page is served by the demo page server. A stand-in that serves the same three files without a
Content Security Policy shows what the console's script itself does, with no CSP to catch
its mistakes.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from devkit.servers import free_port, start_webchat_page, stop
from devkit.waiting import eventually
from handover.desk import RESUME_AFTER_CLOSE, AgentDesk
from handover.models import ACTIVE, AGENT, CLOSED
from handover.settings import HandoverSettings
from handover.store import MAX_TEXT_CHARS, HandoverStore, make_engine
from tests.handover.helpers import webchat_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "console-test-token-0123456789"
HOSTILE = "<img src=x onerror=\"document.title='pwned'\">"


class _ConsoleFiles(SimpleHTTPRequestHandler):
    """The console's files as `python -m webchat` serves them, minus the CSP."""

    files = {
        "/agent": ("agent.html", "text/html"),
        "/agent.js": ("agent.js", "text/javascript"),
        "/agent.css": ("agent.css", "text/css"),
    }

    def __init__(self, *args: Any, server_url: str, **kwargs: Any) -> None:
        self.server_url = server_url
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        entry = self.files.get(self.path.split("?")[0])
        if entry is None:
            self.send_error(404)
            return
        data = (
            (ROOT / "webchat" / entry[0])
            .read_bytes()
            .replace(b"http://localhost:5005", self.server_url.encode())
        )
        self.send_response(200)
        self.send_header("Content-Type", f"{entry[1]}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def desk_server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    page_port, bare_port = free_port(), free_port()
    origins = tuple(
        f"http://{host}:{port}"
        for port in (page_port, bare_port)
        for host in ("localhost", "127.0.0.1")
    )
    store = HandoverStore(make_engine(f"sqlite:///{tmp_path / 'rasa.db'}"))
    resumed: list[tuple[str, str]] = []

    async def resumer(conversation_id: str, response: str) -> None:
        resumed.append((conversation_id, response))

    desk = AgentDesk(
        None, store=store, settings=HandoverSettings(agent_tokens={TOKEN: "Sam"}), resumer=resumer
    )
    app, channel = webchat_app(desk, origins)
    tracker_store = SQLTrackerStore(host=str(store.engine.url))
    app.ctx.agent = SimpleNamespace(
        tracker_store=tracker_store, lock_store=InMemoryLockStore(), processor=None
    )
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)

        async def start() -> None:
            server = await app.create_server(
                host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
            )
            assert server is not None
            await server.startup()
            await server.after_start()
            holder["server"] = server
            ready.set()

        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(30)
    api_url = f"http://localhost:{port}"

    page_url, page_proc = start_webchat_page(api_url, port=page_port)
    assert requests.get(page_url + "agent", timeout=5).status_code == 200
    httpd = ThreadingHTTPServer(
        ("127.0.0.1", bare_port), partial(_ConsoleFiles, server_url=api_url)
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield {
            "page": f"http://localhost:{page_port}/agent",
            "shop": f"http://localhost:{page_port}/",
            "api": f"{api_url}/webhooks/webchat",
            "tracker_store": tracker_store,
            "store": store,
            "channel": channel,
            "resumed": resumed,
            "bare_page": f"http://localhost:{bare_port}/agent",
        }
    finally:
        stop(page_proc)
        httpd.shutdown()
        httpd.server_close()

        async def shutdown() -> None:
            server = holder["server"]
            await server.before_stop()
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        tracker_store.engine.dispose()
        store.engine.dispose()


@pytest.fixture()
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are needed")
        pytest.skip("chromium and chromedriver are needed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    try:
        yield driver
    finally:
        driver.quit()


def wait_until(condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Until `condition()` is truthy; the browser's elements raise while they are missing."""
    return eventually(condition, timeout=timeout, ignore=(Exception,), what="the console state")


def test_agent_console_claims_chats_and_closes(desk_server: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    started = time.monotonic()
    store: HandoverStore = desk_server["store"]
    first = store.join(
        "shopper-1",
        order_number="40012345",
        email="anna@example.com",
        topic="order_status",
        description=HOSTILE,
        order_check="no_match",
    ).request
    store.join(
        "shopper-2", email="ben@example.com", topic="returns", description="refund not received"
    )

    browser.get(desk_server["page"])
    find = partial(browser.find_element, By.ID)

    # Signed out, the desk is not shown (it used to show an empty "Waiting 0" queue
    # while shoppers were waiting: the stylesheet's `display: grid` beat `hidden`).
    assert not find("desk").is_displayed()
    find("token").send_keys("not-the-token")
    find("sign-in").click()
    wait_until(lambda: "not accepted" in find("status").text)
    assert not find("desk").is_displayed()

    find("token").send_keys(TOKEN)
    find("sign-in").click()
    wait_until(lambda: find("agent-name").text == "Sam")
    assert find("desk").is_displayed()

    items = wait_until(
        lambda: (lambda li: li if len(li) == 2 else None)(
            browser.find_elements(By.CSS_SELECTOR, "#queue li.request")
        )
    )
    text = items[0].text
    for expected in (
        "anna@example.com",
        "Order: 40012345 (email does NOT match this order",
        "Topic: Order status",
        "Waiting:",
    ):
        assert expected in text
    assert HOSTILE in text  # shown as text ...
    assert browser.find_elements(By.CSS_SELECTOR, "#queue img") == []  # ... never as HTML
    assert browser.title != "pwned"

    items[0].find_element(By.CSS_SELECTOR, "button.claim").click()
    wait_until(lambda: store.get(first.id).status == ACTIVE)
    wait_until(lambda: "anna@example.com" in find("chat-title").text)
    wait_until(
        lambda: (
            ("shopper-1", "handover_status", {"state": "active", "agent_name": "Sam"})
            in desk_server["channel"].emitted
        )
    )
    wait_until(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#queue li.request")) == 1)

    store.add_shopper_message("shopper-1", HOSTILE)
    wait_until(lambda: HOSTILE in find("chat-log").text)
    assert browser.find_elements(By.CSS_SELECTOR, "#chat-log img") == []

    find("reply").send_keys("Hello Anna, Sam here.")
    find("send").click()
    wait_until(
        lambda: any(
            m.sender == AGENT and m.text == "Hello Anna, Sam here."
            for m in store.messages(first.id)
        )
    )
    # the desk stores the message, then emits it to the shopper's room: wait for both
    wait_until(
        lambda: (
            (
                "shopper-1",
                "bot_uttered",
                {"text": "Hello Anna, Sam here.", "sender": "agent", "agent_name": "Sam"},
            )
            in desk_server["channel"].emitted
        )
    )
    wait_until(lambda: "Hello Anna, Sam here." in find("chat-log").text)

    # The first click only asks; closing takes a second one.
    find("close").click()
    wait_until(lambda: find("close").text == "Click again to close")
    time.sleep(0.5)
    assert store.get(first.id).status == ACTIVE
    find("close").click()
    wait_until(lambda: store.get(first.id).status == CLOSED)
    assert find("close").get_attribute("textContent") == "Close chat"
    wait_until(lambda: desk_server["resumed"] == [("shopper-1", RESUME_AFTER_CLOSE)])
    wait_until(lambda: "closed" in find("status").text)

    # The token lives in sessionStorage: a reload keeps the agent signed in.
    browser.refresh()
    wait_until(lambda: find("agent-name").text == "Sam")
    print(f"\nagent console browser test took {time.monotonic() - started:.1f}s")


class _Trap(BaseHTTPRequestHandler):
    """Someone else's server that would gladly take an agent's token (CORS wide open)."""

    seen: list[tuple[str, str, str | None]] = []

    def _answer(self) -> None:
        self.seen.append((self.command, self.path, self.headers.get("Authorization")))
        body = b'{"agent": "Mallory"}'
        self.send_response(200)
        self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
        self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_OPTIONS = _answer

    def log_message(self, *args: Any) -> None:
        pass


def test_a_crafted_link_cannot_send_the_token_elsewhere(
    desk_server: dict[str, Any], browser: Any
) -> None:
    """`/agent?api=<someone else's server>` used to send the token there (issue 11.3);
    the page is served without a CSP here, so only the script itself can refuse."""
    from selenium.webdriver.common.by import By

    _Trap.seen = []
    trap = ThreadingHTTPServer(("127.0.0.1", free_port()), _Trap)
    threading.Thread(target=trap.serve_forever, daemon=True).start()
    try:
        trap_url = f"http://127.0.0.1:{trap.server_address[1]}/steal"
        browser.get(f"{desk_server['bare_page']}?api={trap_url}")
        find = partial(browser.find_element, By.ID)
        find("token").send_keys(TOKEN)
        find("sign-in").click()
        wait_until(lambda: find("agent-name").text == "Sam")  # the real desk answered
        time.sleep(1.0)  # time for a stray request to arrive
        assert _Trap.seen == []
    finally:
        trap.shutdown()
        trap.server_close()


def test_an_overlong_reply_is_refused_with_a_clear_message_and_kept(
    desk_server: dict[str, Any], browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    store: HandoverStore = desk_server["store"]
    request = store.join("shopper-1", email="anna@example.com").request
    store.claim("Sam", request.id)
    browser.get(desk_server["page"])
    find = partial(browser.find_element, By.ID)
    find("token").send_keys(TOKEN)
    find("sign-in").click()
    wait_until(lambda: find("agent-name").text == "Sam")
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "#mine button.open"))[0].click()
    wait_until(lambda: find("reply").is_displayed())

    # A long paste, then one more character typed: nothing may cut it silently.
    browser.execute_script(
        "document.getElementById('reply').value = arguments[0];", "x" * MAX_TEXT_CHARS
    )
    find("reply").send_keys("!")
    assert len(find("reply").get_attribute("value")) == MAX_TEXT_CHARS + 1
    find("send").click()
    wait_until(lambda: "too long" in find("status").text)
    assert f"at most {MAX_TEXT_CHARS}" in find("status").text
    assert len(find("reply").get_attribute("value")) == MAX_TEXT_CHARS + 1  # kept to edit
    assert [m for m in store.messages(request.id) if m.sender == AGENT] == []


def test_complaints_and_erasure_requests_are_marked_as_such(
    desk_server: dict[str, Any], browser: Any
) -> None:
    """Issue 13: a complaint in the queue and an erasure request among the offline
    requests each carry their badge; a plain handover carries none."""
    from selenium.webdriver.common.by import By

    store: HandoverStore = desk_server["store"]
    store.join(
        "complainer",
        email="carla@example.net",
        topic="complaint",
        order_number="40012347",
        description="the zip broke",
    )
    store.join("plain", email="dora@example.net", topic="returns", description="refund")
    store.register_erasure("leaver", email="emil@example.org")
    browser.get(desk_server["page"])
    find = partial(browser.find_element, By.ID)
    find("token").send_keys(TOKEN)
    find("sign-in").click()
    wait_until(lambda: find("agent-name").text == "Sam")

    def item(panel: str, email: str) -> Any:
        for li in browser.find_elements(By.CSS_SELECTOR, f"#{panel} li.request"):
            if email in li.text:
                return li
        return None

    complaint = wait_until(lambda: item("queue", "carla@example.net"))
    assert complaint.find_element(By.CSS_SELECTOR, ".kind").text == "Complaint"
    plain = wait_until(lambda: item("queue", "dora@example.net"))
    assert plain.find_elements(By.CSS_SELECTOR, ".kind") == []
    erasure = wait_until(lambda: item("offline", "emil@example.org"))
    assert erasure.find_element(By.CSS_SELECTOR, ".kind").text == "Erasure request (privacy)"
    assert item("queue", "emil@example.org") is None  # never in the live queue


def sign_in(desk_server: dict[str, Any], browser: Any) -> Callable[[str], Any]:
    """The console, signed in as Sam; returns find-by-id."""
    from selenium.webdriver.common.by import By

    browser.get(desk_server["page"])
    find = partial(browser.find_element, By.ID)
    find("token").send_keys(TOKEN)
    find("sign-in").click()
    wait_until(lambda: find("agent-name").text == "Sam")
    return find


def test_a_chat_the_shopper_deleted_is_closed_and_says_why(
    desk_server: dict[str, Any], browser: Any
) -> None:
    """The shopper deletes the conversation (gear menu) during the agent's chat: the
    console said "Chat not updated: no handover request 7" and kept the reply box open."""
    from selenium.webdriver.common.by import By

    store: HandoverStore = desk_server["store"]
    shopper = desk_server["channel"].signer.issue()
    request = store.join(shopper.session_id, email="anna@example.com").request
    store.claim("Sam", request.id)
    find = sign_in(desk_server, browser)
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "#mine button.open"))[0].click()
    wait_until(lambda: find("reply").is_displayed())
    store.add_shopper_message(shopper.session_id, "I live at Storgatan 1")
    wait_until(lambda: "Storgatan 1" in find("chat-log").text)
    find("reply").send_keys("Thanks, one moment")

    deleted = requests.delete(
        f"{desk_server['api']}/conversations/{shopper.session_id}",
        headers={"Authorization": f"Bearer {shopper.session_token}"},
        timeout=10,
    )
    assert deleted.status_code == 200
    assert deleted.json()["deleted"]["handover_requests"] == 1

    wait_until(lambda: "the shopper deleted the conversation" in find("chat-title").text)
    assert "Chat closed" in find("chat-title").text
    assert "deleted this conversation" in find("status").text
    assert "no handover request" not in find("status").text
    assert not find("reply-form").is_displayed()  # nothing to answer
    assert "Storgatan 1" not in find("chat-panel").text  # and nothing of it stays on screen
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "#mine li") == [])
    time.sleep(2 * 1.5)  # two more chat polls: the notice stays
    assert "deleted this conversation" in find("status").text


def test_a_pressed_button_reads_as_its_title_in_the_bot_conversation(
    desk_server: dict[str, Any], browser: Any
) -> None:
    """The bot conversation showed the raw payload "/human_handoff" where the shopper
    pressed "Yes, connect me"; a payload the bot's buttons don't explain gets a label."""
    from selenium.webdriver.common.by import By

    store: HandoverStore = desk_server["store"]
    asked = time.time() - 60
    offer = [
        {"title": "Yes, connect me", "payload": "/human_handoff"},
        {"title": "No, thanks", "payload": "/deny"},
    ]
    events = [
        UserUttered("my order is late", timestamp=asked),
        BotUttered(
            "Would you like to talk to a person from our customer service?",
            data={"buttons": offer},
            timestamp=asked + 1,
        ),
        UserUttered("/human_handoff", timestamp=asked + 2),
        BotUttered("Is it about an order?", timestamp=asked + 3),
        UserUttered("/affirm", timestamp=asked + 4),  # no button of that payload known
        BotUttered(HOSTILE, timestamp=asked + 5),
    ]
    tracker = DialogueStateTracker.from_events("pressed-1", events)
    asyncio.run(desk_server["tracker_store"].save(tracker))
    request = store.join("pressed-1", email="anna@example.com").request
    store.claim("Sam", request.id)

    find = sign_in(desk_server, browser)
    wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "#mine button.open"))[0].click()
    lines = wait_until(
        lambda: (lambda li: li if len(li) == 6 else None)(
            [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#bot-log li .text")]
        )
    )
    pressed = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#bot-log li .pressed")]
    assert (lines[2], lines[4]) == ("Yes, connect me", "Yes")
    assert pressed == ["(button)", "(button)"]
    assert lines[5] == HOSTILE  # the bot's text as text ...
    assert browser.find_elements(By.CSS_SELECTOR, "#bot-log img") == []  # ... never HTML
    assert "/human_handoff" not in find("bot-log").text
    assert "/affirm" not in find("bot-log").text


def seconds_ago(seconds: float) -> Callable[[], float]:
    """A clock that runs `seconds` behind: a shopper who joined that long ago."""
    return lambda: time.time() - seconds


def test_waiting_times_read_in_seconds_minutes_and_hours(
    desk_server: dict[str, Any], browser: Any
) -> None:
    """A wait of 13 seconds read "Waiting: 0:13 min"."""
    from selenium.webdriver.common.by import By

    store: HandoverStore = desk_server["store"]
    for name, ago in (("hour", 3900.0), ("mins", 150.0)):
        earlier = HandoverStore(store.engine, clock=seconds_ago(ago))
        earlier.join(name, email=f"{name}@example.com")
    store.join("now", email="now@example.com")
    sign_in(desk_server, browser)

    def waiting() -> list[str]:
        items = browser.find_elements(By.CSS_SELECTOR, "#queue li.request")
        found = [re.search(r"Waiting: ([^\n]*?)\s*$", i.text, re.M) for i in items]
        return [m.group(1).split("  ")[0] if m else "" for m in found]

    shown = wait_until(lambda: (lambda w: w if len(w) == 3 else None)(waiting()))
    assert shown[:2] == ["1 h 5 min", "2 min"]
    assert re.fullmatch(r"\d{1,2} s", shown[2]), shown
