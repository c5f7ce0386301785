"""Every response speaks every language, and scripts/translations.py puts them there.

The first test is the gate on the real domain: a response without a Swedish, Finnish or
Norwegian variation, or a translation whose {placeholders} or button payloads differ from
the English one, fails it (a shopper would get English mid-conversation, see a raw
"{order_ref}", or press a button that does something else). The rest run the script's
import, export and check on a small domain in a temporary folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.translations import (
    DOMAIN,
    LANGUAGES,
    check,
    export,
    import_translations,
    language_of,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "translations.py"


def test_every_response_of_the_real_domain_is_translated_consistently() -> None:
    problems = check(DOMAIN, LANGUAGES)
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} problems)"


SMALL = """\
version: "3.1"

# A comment at the top that the import must keep.

responses:
  # --- greeting ---
  utter_greet:
    - text: "Hello! What can I do for you?"
    - text: "Hi there! How can I help you today?"
  # Asked before the order form.
  utter_ask_confirm:
    - text: >-
        Shall I cancel order {order_number} for you? Once it is cancelled, anything you paid goes
        back to your original payment method within 5 working days.
      buttons:
        - title: "Yes"
          payload: "/affirm"
        - title: "No"
          payload: "/deny"

  utter_bye:
    - text: "Goodbye from {shop_name}!"
"""

SWEDISH: dict[str, list[dict[str, Any]]] = {
    "utter_greet": [
        {"text": "Hej! Vad kan jag hjälpa dig med?"},
        {"text": "Hej där! Hur kan jag hjälpa dig i dag?"},
    ],
    "utter_ask_confirm": [
        {
            "text": (
                "Ska jag avbryta order {order_number} åt dig? När den är avbruten går allt du "
                "har betalat tillbaka till ditt ursprungliga betalsätt inom 5 arbetsdagar."
            ),
            "buttons": [
                {"title": "Ja", "payload": "/affirm"},
                {"title": "Nej", "payload": "/deny"},
            ],
        }
    ],
    "utter_bye": [{"text": "Hej då från {shop_name}!"}],
}


@pytest.fixture
def domain(tmp_path: Path) -> Path:
    folder = tmp_path / "domain"
    folder.mkdir()
    (folder / "small.yml").write_text(SMALL, encoding="utf-8")
    return folder


def responses(domain: Path) -> dict[str, list[dict[str, Any]]]:
    data = yaml.safe_load((domain / "small.yml").read_text(encoding="utf-8"))
    return dict(data["responses"])


def sv(value: str = "sv") -> list[dict[str, str]]:
    return [{"type": "slot", "name": "language", "value": value}]


def test_import_adds_variations_after_the_english_ones_and_keeps_the_file(domain: Path) -> None:
    report = import_translations(domain, "sv", SWEDISH)
    assert report.problems == []
    assert sorted(report.imported) == ["utter_ask_confirm", "utter_bye", "utter_greet"]

    result = responses(domain)
    greet = result["utter_greet"]
    assert [v.get("condition") for v in greet] == [None, None, sv(), sv()]
    assert [v["text"] for v in greet[2:]] == [e["text"] for e in SWEDISH["utter_greet"]]
    confirm = result["utter_ask_confirm"][1]
    assert confirm["text"] == SWEDISH["utter_ask_confirm"][0]["text"]
    assert confirm["buttons"] == [
        {"title": "Ja", "payload": "/affirm"},
        {"title": "Nej", "payload": "/deny"},
    ]

    text = (domain / "small.yml").read_text(encoding="utf-8")
    # Every original line is still there, in order; comments and blank lines included.
    remaining = iter(text.splitlines())
    assert all(any(line == other for other in remaining) for line in SMALL.splitlines())
    # The long translation is a folded block within the width, like the English one.
    assert "      text: >-\n        Ska jag avbryta order {order_number}" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    # The Swedish goodbye sits right after the English one, before the file ends.
    assert text.rstrip().endswith('text: "Hej då från {shop_name}!"')
    assert check(domain, ["sv"]) == []


def test_import_skips_a_language_already_there_and_refuses_bad_entries(domain: Path) -> None:
    import_translations(domain, "sv", {"utter_bye": SWEDISH["utter_bye"]})

    broken = {
        "utter_greet": [{"text": "Hei!"}],  # one entry for two English variations
        "utter_ask_confirm": [
            {
                "text": "Perutaanko tilaus {order_id}?",  # renamed placeholder
                "buttons": [
                    {"title": "Kyllä", "payload": "/affirm"},
                    {"title": "Ei", "payload": "/deny"},
                ],
            }
        ],
        "utter_bye": [{"text": "Näkemiin, {shop_name}!"}],
        "utter_nothing": [{"text": "?"}],
    }
    payload_changed = {
        "utter_ask_confirm": [
            {
                "text": "Perutaanko tilaus {order_number}?",
                "buttons": [
                    {"title": "Kyllä", "payload": "/kylla"},
                    {"title": "Ei", "payload": "/deny"},
                ],
            }
        ]
    }
    report = import_translations(domain, "fi", broken)
    assert report.imported == ["utter_bye"]
    problems = "\n".join(report.problems)
    assert "utter_greet: 1 entries for 2 English variations" in problems
    assert "utter_ask_confirm: placeholders ['order_id'] differ" in problems
    assert "utter_nothing: no such response" in problems
    report = import_translations(domain, "fi", payload_changed)
    assert report.problems == [
        "utter_ask_confirm: button payloads ['/kylla', '/deny'] differ from English "
        "['/affirm', '/deny']"
    ]
    # Swedish again: already there, nothing written twice.
    assert import_translations(domain, "sv", SWEDISH).skipped == ["utter_bye"]
    assert [v.get("condition") for v in responses(domain)["utter_bye"]] == [
        None,
        sv(),
        sv("fi"),
    ]


def test_check_reports_missing_languages_placeholders_and_payloads(domain: Path) -> None:
    assert "utter_bye (small.yml): no sv variation" in check(domain, ["sv"])
    wrong = SMALL.replace(
        '  utter_bye:\n    - text: "Goodbye from {shop_name}!"\n',
        '  utter_bye:\n    - text: "Goodbye from {shop_name}!"\n'
        "    - condition: [{type: slot, name: language, value: sv}]\n"
        '      text: "Hej då från {shop}!"\n',
    ).replace(
        '          payload: "/deny"\n',
        '          payload: "/deny"\n'
        "    - condition: [{type: slot, name: language, value: sv}]\n"
        '      text: "Avbryta {order_number}?"\n'
        "      buttons:\n"
        '        - title: "Ja"\n'
        '          payload: "/ja"\n',
    )
    (domain / "small.yml").write_text(wrong, encoding="utf-8")
    problems = check(domain, ["sv"])
    assert "utter_greet (small.yml): no sv variation" in problems
    assert any(p.startswith("utter_bye (small.yml): sv placeholders ['shop']") for p in problems)
    assert any(p.startswith("utter_ask_confirm (small.yml): sv button payloads") for p in problems)
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--domain", str(domain), "check", "--languages", "sv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "no sv variation" in run.stdout


def test_export_then_import_round_trip_from_the_command_line(domain: Path, tmp_path: Path) -> None:
    import_translations(domain, "sv", {"utter_bye": SWEDISH["utter_bye"]})
    skeleton = export(domain, "sv")
    staged = yaml.safe_load(skeleton)
    # Only what lacks Swedish, with the English text and the payloads to keep.
    assert list(staged) == ["utter_greet", "utter_ask_confirm"]
    assert staged["utter_ask_confirm"][0]["buttons"][0] == {"title": "Yes", "payload": "/affirm"}
    staged["utter_greet"] = SWEDISH["utter_greet"]
    staged["utter_ask_confirm"] = SWEDISH["utter_ask_confirm"]
    file = tmp_path / "sv.yml"
    file.write_text(yaml.safe_dump(staged, allow_unicode=True), encoding="utf-8")
    command = [sys.executable, str(SCRIPT), "--domain", str(domain)]
    run = subprocess.run([*command, "import", "sv", str(file)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "sv: imported 2, already there 0, refused 0, not in the file 0" in run.stdout
    run = subprocess.run([*command, "check", "--languages", "sv"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


@pytest.mark.parametrize("language", [*LANGUAGES, None])
async def test_rasa_answers_every_response_in_the_language_of_the_slot(
    language: str | None,
) -> None:
    """The imported variations are what Rasa's response generator picks: with the
    `language` slot set (declared here if the domain does not have it yet) every response
    comes out in that language, and in English without it."""
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.from_directory(str(DOMAIN))
    if "language" not in [slot.name for slot in domain.slots]:
        slot = {"type": "text", "influence_conversation": False, "mappings": [{"type": "custom"}]}
        domain = domain.merge(Domain.from_dict({"slots": {"language": slot}}))
    generator = TemplatedNaturalLanguageGenerator(domain.responses)
    events = [SlotSet("language", language)] if language else []
    tracker = DialogueStateTracker.from_events("translations", events, slots=domain.slots)
    wrong = []
    for name, variations in domain.responses.items():
        expected = [
            v
            for v in variations
            if (language_of(v) == language if language else not v.get("condition"))
        ]
        starts = [str(v["text"]).split("{", 1)[0] for v in expected]
        answer = await generator.generate(name, tracker, "socketio")
        text = str((answer or {}).get("text"))
        if not any(text.startswith(start) for start in starts):
            wrong.append(f"{name}: {text[:60]}")
    assert not wrong, wrong
