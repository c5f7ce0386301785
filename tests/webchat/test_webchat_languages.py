"""The widget and its pages in four languages, without Rasa: strings tables, the demo
server's translated pages, and how the widget picks its language in a real Chromium.

The browser part needs no model: the widget draws itself before it connects, so a page
with an unreachable chat server shows every label the shopper would see first.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devkit.servers import start_webchat_page, stop  # noqa: E402

WIDGET = ROOT / "webchat" / "widget.js"
CONSOLE = ROOT / "webchat" / "agent.js"
LANGUAGES = ("en", "sv", "fi", "nb")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def strings_tables(script: Path = WIDGET) -> dict[str, dict[str, str]]:
    """The widget's (or the console's) STRINGS table, read from between its markers (it is
    written as JSON)."""
    source = script.read_text(encoding="utf-8")
    block = source.split("// strings-begin", 1)[1].split("// strings-end", 1)[0]
    literal = block.strip().removeprefix("var STRINGS =").strip().removesuffix(";")
    tables: dict[str, dict[str, str]] = json.loads(literal)
    return tables


def test_the_widget_speaks_exactly_the_four_languages() -> None:
    assert tuple(strings_tables()) == LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_strings_table_has_the_english_keys_and_no_empty_value(language: str) -> None:
    tables = strings_tables()
    english, table = tables["en"], tables[language]
    assert sorted(table) == sorted(english), (
        f"missing: {sorted(set(english) - set(table))}, extra: {sorted(set(table) - set(english))}"
    )
    empty = [key for key, value in table.items() if not isinstance(value, str) or not value.strip()]
    assert not empty
    untranslated = [k for k, v in table.items() if v == english[k] and k not in ("send", "cancel")]
    # A few words are the same in English and another language; most must not be.
    assert len(untranslated) <= 3, untranslated


def test_no_shopper_text_is_written_outside_the_strings_tables() -> None:
    """A text the tables hold in four languages but the code spells out in English shows
    English on a Nordic page (it did: "You left the queue..." on a Swedish page)."""
    source = WIDGET.read_text(encoding="utf-8")
    before, rest = source.split("// strings-begin", 1)
    code = before + rest.split("// strings-end", 1)[1]
    literals = {m.group(2) for m in re.finditer(r"(['\"`])((?:(?!\1).){12,}?)\1", code)}
    english = {text for text in strings_tables()["en"].values() if len(text.split()) >= 3}
    assert not english & literals
    # and no sentence is assigned to the page as a literal
    assert not re.findall(r"textContent\s*=\s*['\"`][A-Z][a-z]+ [^'\"`]*['\"`]", code)


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match_english(language: str) -> None:
    tables = strings_tables()
    for key, text in tables[language].items():
        expected = set(PLACEHOLDER.findall(tables["en"][key]))
        assert set(PLACEHOLDER.findall(text)) == expected, (language, key, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_consoles_own_texts_exist_in_every_language(language: str) -> None:
    """The agent console's table (webchat/agent.js): the keys of "en", none empty, the
    same placeholders. Units ("{n} min") and short words ("Ja") may equal another's."""
    tables = strings_tables(CONSOLE)
    assert tuple(tables) == LANGUAGES
    english, table = tables["en"], tables[language]
    assert sorted(table) == sorted(english)
    assert all(isinstance(v, str) and v.strip() for v in table.values())
    for key, text in table.items():
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[key])), key


# --- the demo page server ---------------------------------------------------------------

UNREACHABLE = "http://127.0.0.1:9"  # nothing listens: the widget draws itself and waits


@pytest.fixture(scope="module")
def page() -> Iterator[str]:
    url, proc = start_webchat_page(UNREACHABLE)
    yield url
    stop(proc)


@pytest.mark.parametrize(
    ("query", "lang", "needle"),
    [
        ("", "en", "What the chat stores"),
        ("?lang=sv", "sv", "Vad chatten sparar"),
        ("?lang=sv-SE", "sv", "Vad chatten sparar"),
        ("?lang=fi", "fi", "Mitä chat tallentaa"),
        ("?lang=nb", "nb", "Hva chatten lagrer"),
        ("?lang=no", "nb", "Hva chatten lagrer"),
        ("?lang=de", "en", "What the chat stores"),
    ],
)
def test_privacy_notice_in_the_asked_language(
    page: str, query: str, lang: str, needle: str
) -> None:
    reply = requests.get(page + "privacy" + query, timeout=10)
    assert reply.status_code == 200
    assert f'<html lang="{lang}">' in reply.text
    assert needle in reply.text
    assert "90" in reply.text  # the retention period is in every translation


@pytest.mark.parametrize("lang", LANGUAGES)
def test_demo_page_per_language_with_a_switcher(page: str, lang: str) -> None:
    reply = requests.get(page + ("" if lang == "en" else f"?lang={lang}"), timeout=10)
    assert reply.status_code == 200
    assert f'<html lang="{lang}">' in reply.text
    assert reply.text.count("<script") == 1
    assert f'src="/widget.js" data-server-url="{UNREACHABLE}"' in reply.text
    for other in LANGUAGES[1:]:
        assert f'href="/?lang={other}"' in reply.text
    assert reply.text.count('aria-current="page"') == 1


# --- the widget's choice of language, in Chromium ------------------------------------------

PICKS = [
    # (page's <html lang>, the tag's data-lang, the widget's language)
    ("sv-SE", None, "sv"),
    ("fi-FI", None, "fi"),
    ("no", None, "nb"),
    ("nn", None, "nb"),
    ("nb-NO", None, "nb"),
    ("de", None, "en"),
    ("en", "sv", "sv"),
    ("sv", "fi", "fi"),
    ("fi", "xx", "fi"),
]
EXPECTED = {  # what a shopper sees first, per language
    "en": ("Open chat", "Type your message…", "Download conversation (.txt)", "Privacy notice"),
    "sv": ("Öppna chatten", "Skriv ditt meddelande…", "Ladda ner konversationen (.txt)",
           "Integritetsinformation"),
    "fi": ("Avaa chat", "Kirjoita viestisi…", "Lataa keskustelu (.txt)", "Tietosuojaseloste"),
    "nb": ("Åpne chatten", "Skriv meldingen din…", "Last ned samtalen (.txt)",
           "Personvernerklæring"),
}  # fmt: skip


@pytest.mark.browser
@pytest.mark.parametrize(("html_lang", "data_lang", "expected"), PICKS)
def test_widget_picks_its_language_from_the_tag_or_the_page(
    page: str, driver: Any, html_lang: str, data_lang: str | None, expected: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # The privacy page has no widget: embed one the way a shop page would, on a page of
    # the given language (the script comes from the same server, as the CSP requires).
    driver.get(page + "privacy")
    driver.execute_script(
        """
        document.documentElement.setAttribute('lang', arguments[0]);
        var tag = document.createElement('script');
        tag.src = '/widget.js';
        tag.setAttribute('data-server-url', arguments[1]);
        if (arguments[2]) { tag.setAttribute('data-lang', arguments[2]); }
        document.body.appendChild(tag);
        """,
        html_lang,
        UNREACHABLE,
        data_lang,
    )
    wait = WebDriverWait(driver, 20)
    launcher = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".rwc-launcher"))
    open_label, placeholder, download, privacy = EXPECTED[expected]
    assert launcher.get_attribute("aria-label") == open_label
    assert driver.find_element(By.CSS_SELECTOR, ".rwc-root").get_attribute("lang") == expected
    launcher.click()
    box = driver.find_element(By.ID, "rwc-input")
    assert box.get_attribute("placeholder") == placeholder
    driver.find_element(By.CSS_SELECTOR, ".rwc-gear").click()
    menu = driver.find_element(By.ID, "rwc-menu")
    wait.until(lambda d: menu.is_displayed())
    assert download in menu.text
    link = driver.find_element(By.CSS_SELECTOR, "#rwc-menu a")
    assert link.text == privacy
    href = link.get_attribute("href")
    assert href.endswith("/privacy" if expected == "en" else f"/privacy?lang={expected}")
