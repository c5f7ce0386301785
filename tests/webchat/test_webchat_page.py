"""The demo page server: the right files, the Rasa URL filled in, nothing else served."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devkit.servers import start_webchat_page, stop  # noqa: E402
from services.seed import build_seed  # noqa: E402

RASA = "http://rasa.example:5005"


@pytest.fixture(scope="module")
def page() -> Iterator[str]:
    url, proc = start_webchat_page(RASA)
    yield url
    stop(proc)


def test_demo_page_embeds_the_widget_with_one_script_tag(page: str) -> None:
    reply = requests.get(page, timeout=10)
    assert reply.status_code == 200
    assert reply.text.count("<script") == 1
    assert f'src="/widget.js" data-server-url="{RASA}"' in reply.text
    policy = reply.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert f"connect-src 'self' {RASA} ws://rasa.example:5005" in policy


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("widget.js", "text/javascript"),
        ("widget.css", "text/css"),
        ("vendor/socket.io.min.js", "text/javascript"),
        ("vendor/socket.io-client.LICENSE", "text/plain"),
    ],
)
def test_widget_files_are_served(page: str, path: str, kind: str) -> None:
    reply = requests.get(page + path, timeout=10)
    assert reply.status_code == 200, f"{path}: run `npm ci --prefix webchat`?"
    assert reply.headers["Content-Type"].startswith(kind)
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_privacy_notice(page: str) -> None:
    text = requests.get(page + "privacy", timeout=10).text
    for needed in ("bot", "90 days", "until you delete", "no personal data", "Download", "Delete"):
        assert needed in text


@pytest.mark.parametrize(
    "path",
    ["__main__.py", "package.json", "node_modules/socket.io-client/package.json", "../Makefile",
     "%2e%2e/Makefile", "index.html%2f..%2fMakefile"],
)  # fmt: skip
def test_nothing_else_is_served(page: str, path: str) -> None:
    assert requests.get(page + path, timeout=10).status_code == 404


def test_the_demo_page_shows_the_assistants_shop_and_catalogue(page: str) -> None:
    """A newcomer asks about what the page shows: same shop name, products that the
    reference catalogue has, at the same price (it used to show "Chelsea boots")."""
    text = requests.get(page, timeout=10).text
    shop = re.search(
        r'shop_name:.*?initial_value: "([^"]+)"', (ROOT / "domain/shared.yml").read_text(), re.S
    )
    assert shop and f"<strong>{shop[1]}</strong>" in text
    catalogue = {p.article_number: p for p in build_seed(date.today()).products}
    shown = re.findall(r'data-article="(\d{6})"><span[^>]*></span>([^<]+?) <b>€([\d.]+)</b>', text)
    assert len(shown) == 3
    for article, name, price in shown:
        assert (catalogue[article].name, catalogue[article].price) == (name, price)


def test_every_demo_page_the_assistant_links_is_served(page: str) -> None:
    """The page slots (account, password reset, newsletter, terms...) point at the demo
    page server; a shopper clicking one in the demo chat got "Not found"."""
    domain = (ROOT / "domain/shared.yml").read_text()
    paths = re.findall(r'initial_value: "http://localhost:8080/([^"]*)"', domain)
    assert len(paths) >= 5
    for path in paths:
        assert requests.get(page + path, timeout=10).status_code == 200, path
