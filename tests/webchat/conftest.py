"""The whole web chat stack for the browser test: action server, Rasa, demo page, Chromium.

Rasa runs with the repository's credentials.yml plus the fake agent desk extension of
tests/channels, on a temporary SQLite tracker store. Chromium is Debian's (`chromium` and
`chromium-driver`); without it the browser test is skipped locally and fails in CI.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `pytest` (unlike `python -m pytest`) does not add the cwd
    sys.path.insert(0, str(ROOT))

from devkit.servers import (  # noqa: E402
    find_model,
    free_port,
    start_action_server,
    start_rasa,
    start_webchat_page,
    stop,
    write_endpoints,
)

SECRET = "browser-test-secret-" + "b" * 32


@pytest.fixture(scope="session")
def browser_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    model = find_model()
    db_url = f"sqlite:///{tmp_path_factory.mktemp('webchat-browser') / 'rasa.db'}"
    page_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCHAT_")}
    env.update(
        APP_ENV="test",
        WEBCHAT_SECRET=SECRET,
        WEBCHAT_ALLOWED_ORIGINS=f"http://localhost:{page_port},http://127.0.0.1:{page_port}",
        DATABASE_URL=db_url,
        PYTHONPATH=str(ROOT),
    )
    actions_url, actions = start_action_server(env)
    procs = [actions]
    try:
        endpoints = write_endpoints(
            tmp_path_factory.mktemp("endpoints") / "e.yml", actions_url, db_url
        )
        # The channel as credentials.yml configures it, plus the fake agent desk.
        credentials = yaml.safe_load((ROOT / "credentials.yml").read_text())
        credentials["channels.webchat.WebchatInput"]["extensions"] = [
            "tests.channels.fake_extension:FakeDesk"
        ]
        credentials_path = endpoints.with_name("credentials.yml")
        credentials_path.write_text(yaml.safe_dump(credentials))
        rasa_url, rasa = start_rasa(
            model,
            {**env, "ACTION_SERVER_URL": actions_url},
            credentials_path,
            endpoints_path=endpoints,
        )
        procs.append(rasa)
        rasa_port = rasa_url.rsplit(":", 1)[1]
        page_url, page = start_webchat_page(f"http://localhost:{rasa_port}", port=page_port)
        procs.append(page)
        engine = sa.create_engine(db_url)
        yield {"rasa_url": rasa_url, "page_url": page_url, "engine": engine}
        engine.dispose()
    finally:
        for proc in reversed(procs):
            stop(proc)


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        message = "Debian's chromium and chromium-driver are needed (apt-get install ...)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=360,740",  # a phone
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    browser.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield browser
        # Shown by pytest only when the test failed: what the page and console said.
        for entry in browser.get_log("browser"):
            print("console:", entry.get("level"), entry.get("message"))
        print(
            "widget:",
            browser.execute_script(
                "var r = document.querySelector('.rwc-root'); return r ? r.innerText : 'no widget'"
            ),
        )
    finally:
        browser.quit()
