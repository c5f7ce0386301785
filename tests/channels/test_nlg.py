"""Shop facts in answers are written the way the conversation's language writes them.

Rendered with the generator Rasa runs (channels/nlg.py, selected in endpoints.yml) over the
real domain: a Finnish shopper reads '5,95 €' and '3 vuotta', not '€5.95' and '3 years',
also after switching language in the middle of a session, when the slots still hold
what the session start set in the first language.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from channels import languages, nlg
from handover.settings import load_handover_settings

ROOT = Path(__file__).resolve().parents[2]

# How English writes the figures of domain/shared.yml: "€5.95", "€75", "3 years", "1 hour".
ENGLISH_FIGURES = re.compile(r"€\d|\b\d+ (?:minute|hour|day|week|month|year)s?\b")


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.from_directory(str(ROOT / "domain"))


@pytest.fixture()
def generator(domain: Domain, monkeypatch: pytest.MonkeyPatch) -> Iterator[nlg.LocalisedResponses]:
    monkeypatch.setenv("HANDOVER_OPENING_HOURS", "mon-fri 08:00-20:00")
    monkeypatch.delenv("SUPPORT_PHONE_FI", raising=False)
    load_handover_settings.cache_clear()
    nlg.configured_facts.cache_clear()
    yield nlg.LocalisedResponses(domain=domain)
    load_handover_settings.cache_clear()
    nlg.configured_facts.cache_clear()


def tracker_in(domain: Domain, *events: SlotSet) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("nlg-test", list(events), slots=domain.slots)


async def text_of(
    generator: nlg.LocalisedResponses, name: str, tracker: DialogueStateTracker
) -> str:
    response = await generator.generate(name, tracker, "socketio")
    assert response is not None, name
    return str(response["text"])


def test_endpoints_select_the_generator() -> None:
    with open(ROOT / "endpoints.yml", encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["nlg"] == {"type": "channels.nlg.LocalisedResponses"}


def test_the_figures_are_the_shop_facts_with_amounts_and_durations(domain: Domain) -> None:
    figures = nlg.LocalisedResponses.figures(tracker_in(domain))
    assert {"home_delivery_price", "part_payment_over", "complaint_period"} <= set(figures)
    assert "cancellation_window" in figures
    assert "shop_name" not in figures and "invoice_due_days" not in figures


async def test_the_generator_rasa_builds_before_the_model_is_loaded_formats_too(
    domain: Domain,
) -> None:
    """`rasa run` creates the generator without a domain and sets its responses once
    the model is loaded (Agent.load_model): the figures must still be found."""
    generator = nlg.LocalisedResponses(domain=None)
    generator.responses = domain.responses
    tracker = tracker_in(domain, SlotSet("language", "fi"))
    assert "5,95\xa0€" in await text_of(generator, "utter_delivery_methods", tracker)


@pytest.mark.parametrize(
    ("language", "price", "free_over", "years"),
    [
        ("en", "€5.95", "€75", "3 years"),
        ("sv", "5,95\xa0€", "75\xa0€", "3 år"),
        ("fi", "5,95\xa0€", "75\xa0€", "3 vuotta"),
        ("nb", "5,95\xa0€", "75\xa0€", "3 år"),
    ],
)
async def test_prices_and_periods_in_the_language(
    generator: nlg.LocalisedResponses,
    domain: Domain,
    language: str,
    price: str,
    free_over: str,
    years: str,
) -> None:
    tracker = tracker_in(domain, SlotSet("language", language))
    delivery = await text_of(generator, "utter_delivery_methods", tracker)
    assert price in delivery and free_over in delivery
    assert years in await text_of(generator, "utter_complaint", tracker)


@pytest.mark.parametrize("language", ["sv", "fi", "nb"])
async def test_no_answer_shows_a_figure_the_english_way(
    generator: nlg.LocalisedResponses, domain: Domain, language: str
) -> None:
    tracker = tracker_in(domain, SlotSet("language", language))
    english = []
    for name in domain.responses:
        response = await generator.generate(name, tracker, "socketio")
        text = str((response or {}).get("text") or "")
        if ENGLISH_FIGURES.search(text):
            english.append(f"{name}: {ENGLISH_FIGURES.search(text).group(0)}")  # type: ignore[union-attr]
    assert not english, english


async def test_a_switch_of_language_reformats_what_the_session_start_set(
    generator: nlg.LocalisedResponses, domain: Domain
) -> None:
    """The session start set the opening hours in English; the shopper then wrote
    Finnish: the ordering answer gives the hours and the policy figures in Finnish."""
    hours = load_handover_settings().opening_hours
    tracker = tracker_in(
        domain,
        SlotSet("language", "en"),
        SlotSet("opening_hours", hours.describe("en")),
        SlotSet("language", "fi"),
    )
    ordering = await text_of(generator, "utter_place_order", tracker)
    assert hours.describe("fi") in ordering
    assert "Monday" not in ordering
    assert "1 tunti" in await text_of(generator, "utter_cancellation_fee", tracker)


async def test_a_phone_number_the_shop_set_for_the_language_follows_the_switch(
    generator: nlg.LocalisedResponses, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORT_PHONE_FI", "0800 555 010")
    nlg.configured_facts.cache_clear()
    english = tracker_in(domain, SlotSet("language", "en"))
    finnish = tracker_in(domain, SlotSet("language", "en"), SlotSet("language", "fi"))
    assert "0800 555 010" not in await text_of(generator, "utter_place_order", english)
    assert "0800 555 010" in await text_of(generator, "utter_place_order", finnish)


async def test_values_an_action_passes_win(
    generator: nlg.LocalisedResponses, domain: Domain
) -> None:
    tracker = tracker_in(domain, SlotSet("language", "fi"))
    response = await generator.generate(
        "utter_complaint", tracker, "socketio", complaint_period="2 vuotta"
    )
    assert response is not None and "2 vuotta" in response["text"]


async def test_an_unknown_response_is_none(
    generator: nlg.LocalisedResponses, domain: Domain
) -> None:
    assert (
        await generator.generate("utter_nothing_like_this", tracker_in(domain), "socketio") is None
    )


@pytest.mark.parametrize(
    ("value", "language", "expected"),
    [
        ("5.95 EUR", "en", "€5.95"),
        ("5.95 EUR", "fi", "5,95\xa0€"),
        ("100 EUR", "en", "€100"),
        ("100 EUR", "nb", "100\xa0€"),
        ("1 hour", "sv", "1 timme"),
        ("1 hour", "nb", "1 time"),
        ("90 minutes", "fi", "90 minuuttia"),
        ("3 years", "en", "3 years"),
        ("1 year", "fi", "1 vuosi"),
        ("30", "fi", "30"),
        ("Loomwell", "fi", "Loomwell"),
        (None, "fi", None),
    ],
)
def test_fact_text(value: object, language: str, expected: object) -> None:
    assert languages.fact_text(value, language) == expected


def test_every_figure_fact_of_the_domain_is_one_fact_text_reads() -> None:
    """A fact that looks like a figure but does not parse (a typo such as "5,95 EUR" or
    "3 yrs") would reach Finnish shoppers in English: every fact slot with a digit in
    its value is either a figure or a plain number."""
    with open(ROOT / "domain" / "shared.yml", encoding="utf-8") as handle:
        slots = yaml.safe_load(handle)["slots"]
    odd = [
        name
        for name, spec in slots.items()
        if re.search(r"\d", str(spec.get("initial_value") or ""))
        and not languages.is_localised_fact(spec.get("initial_value"))
        and not str(spec.get("initial_value")).isdigit()
        and name != "opening_hours"
        and "://" not in str(spec.get("initial_value"))
        and name != "support_phone"
    ]
    assert not odd, odd


def test_only_the_facts_a_template_names_are_formatted(
    generator: nlg.LocalisedResponses, domain: Domain
) -> None:
    tracker = tracker_in(domain, SlotSet("language", "fi"))
    slots = tracker.current_slot_values()
    figures = generator.figures(tracker)
    facts = generator.facts_in("fi", slots, figures, "Kotiinkuljetus {home_delivery_price}.")
    assert facts == {"home_delivery_price": "5,95\xa0€"}
    assert "opening_hours" in generator.facts_in("fi", slots, figures)
