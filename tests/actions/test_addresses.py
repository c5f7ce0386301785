"""Free-text addresses are split the way a shopper would expect, or refused."""

from __future__ import annotations

import pytest

from actions.addresses import corrected_address, corrected_house_number, one_line, parse_address
from actions.clients.changes import Address


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Storgatan 12, 111 22 Stockholm", Address("Storgatan 12", "111 22", "Stockholm", "SE")),
        (
            "Storgatan 12\n111 22 Stockholm\nSweden",
            Address("Storgatan 12", "111 22", "Stockholm", "SE"),
        ),
        (
            "Anna Berg, Storgatan 12, 11122 Stockholm, Sverige",
            Address("Storgatan 12", "11122", "Stockholm", "SE", name="Anna Berg"),
        ),
        (
            "Marktstraße 12, 20357 Hamburg, Germany",
            Address("Marktstraße 12", "20357", "Hamburg", "DE"),
        ),
        (
            "Karl Johans gate 5, 0154 Oslo, Norway",
            Address("Karl Johans gate 5", "0154", "Oslo", "NO"),
        ),
        (
            "Mannerheimintie 1, FI-00100 Helsinki",
            Address("Mannerheimintie 1", "00100", "Helsinki", "FI"),
        ),
        # The country without a comma before it, as shoppers often write it.
        (
            "Mannerheimintie 5 B 12, 00100 helsinki finland",
            Address("Mannerheimintie 5 B 12", "00100", "helsinki", "FI"),
        ),
        (
            "Marktstraße 12, 20357 Hamburg Germany.",
            Address("Marktstraße 12", "20357", "Hamburg", "DE"),
        ),
    ],
)
def test_addresses_are_split(text: str, expected: Address) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Storgatan 12",  # no postcode and city
        "111 22 Stockholm",  # no street
        "Storgatan, 111 22 Stockholm",  # no house number
        "Marktstraße 12, 20357 Hamburg",  # 5 digits: which country?
        "Storgatan 12, 111 22 Sweden",  # no city, the country without a comma
        "Marktstraße 12, 20357 Hamburg de",  # a code could end a city's name: not taken
        "Main street 1, 75001 Paris, France",  # a country we cannot tell (the service refuses)
        "x" * 400,
        "",
    ],
)
def test_incomplete_addresses_are_refused(text: str) -> None:
    assert parse_address(text) is None


def test_echo_for_the_confirmation() -> None:
    address = parse_address("Storgatan 12, 111 22 Stockholm")
    assert address is not None
    assert one_line(address) == "Storgatan 12, 111 22 Stockholm, Sweden"
    # the country in the conversation's language, not English inside a Nordic answer
    assert one_line(address, "sv") == "Storgatan 12, 111 22 Stockholm, Sverige"
    assert one_line(address, "fi") == "Storgatan 12, 111 22 Stockholm, Ruotsi"
    assert one_line(address, "nb") == "Storgatan 12, 111 22 Stockholm, Sverige"


@pytest.mark.parametrize(
    ("text", "language", "country"),
    [
        ("storgata 5, 7011 trondheim", "nb", "NO"),
        ("kauppakatu 3, 40100 jyväskylä", "fi", "FI"),
        ("kungsgatan 4, 41119 göteborg", "sv", "SE"),
        ("storgata 5, 7011 trondheim, sverige", "nb", "SE"),  # named wins
    ],
)
def test_a_plain_postcode_belongs_to_the_chats_country(
    text: str, language: str, country: str
) -> None:
    address = parse_address(text, language)
    assert address is not None and address.country == country


def test_without_the_chats_language_a_plain_postcode_is_not_guessed() -> None:
    assert parse_address("storgata 5, 7011 trondheim") is None
    assert parse_address("storgata 5, 7011 trondheim", "en") is None


def test_payment_methods_in_the_answers_language() -> None:
    from channels.languages import payment_method_text

    assert payment_method_text("credit card", "nb") == "kredittkort"
    assert payment_method_text("credit card", "en") == "credit card"
    assert payment_method_text("PayPal", "fi") == "PayPal"


STORGATAN = Address("Storgatan 12", "111 22", "Stockholm", "SE")


@pytest.mark.parametrize(
    ("text", "street"),
    [
        ("its storgatan 14", "Storgatan 14"),
        ("oh no its storgatan 14", "Storgatan 14"),
        ("no, it's Storgatan 14 B", "Storgatan 14 B"),
        ("no wait it should be storgatan 41", "Storgatan 41"),
        ("nej det är Kungsgatan 3", "Kungsgatan 3"),
        ("ei, se on Hämeenkatu 5 A 12", "Hämeenkatu 5 A 12"),
        ("nei, det er 12 Rose Lane", "12 Rose Lane"),
        # words after the street: "storgatan 14, sorry" was no correction, the question
        # was asked again about number 12 and a yes sent the order there
        ("oh no its storgatan 14, sorry", "Storgatan 14"),
        ("ei vaan hämeenkatu 14 B 5, sori", "Hämeenkatu 14 B 5"),
        ("eiku Hämeenkatu 14 B 5", "Hämeenkatu 14 B 5"),
        ("actually it's Storgatan 16 please", "Storgatan 16"),
        ("nej jag menar Storgatan 18 tack", "Storgatan 18"),
        ("nei beklager, Storgata 9. takk!", "Storgata 9"),
    ],
)
def test_a_street_alone_corrects_the_street(text: str, street: str) -> None:
    corrected = corrected_address(text, STORGATAN, "sv")
    assert corrected == Address(street, "111 22", "Stockholm", "SE")


def test_a_whole_address_replaces_the_address() -> None:
    corrected = corrected_address("sorry, Drottninggatan 5, 111 51 Stockholm", STORGATAN, "sv")
    assert corrected == Address("Drottninggatan 5", "111 51", "Stockholm", "SE")


@pytest.mark.parametrize(
    "text", ["ok 12", "yes", "sorry", "the jeans", "is that right?", "", "yes thanks", "kiitos"]
)
def test_what_is_no_address_corrects_nothing(text: str) -> None:
    assert corrected_address(text, STORGATAN, "en") is None


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # the words before the street are the shopper talking, not a name line or street
        (
            "nei vent feil husnummer, det skal være Storgata 15, 7011 Trondheim",
            "nb",
            Address("Storgata 15", "7011", "Trondheim", "NO"),
        ),
        (
            "ei hetkinen, väärä osoite. Mannerheimintie 21 B 5, 00100 Helsinki",
            "fi",
            Address("Mannerheimintie 21 B 5", "00100", "Helsinki", "FI"),
        ),
        (
            "sorry it's Storgatan 14, 111 22 Stockholm",
            "en",
            Address("Storgatan 14", "111 22", "Stockholm", "SE"),
        ),
        # an abbreviation's full stop and a real name line stay
        (
            "St. Eriksgatan 5, 112 39 Stockholm",
            "sv",
            Address("St. Eriksgatan 5", "112 39", "Stockholm", "SE"),
        ),
        (
            "c/o Berg, Storgatan 12, 111 22 Stockholm",
            "sv",
            Address("Storgatan 12", "111 22", "Stockholm", "SE", name="c/o Berg"),
        ),
    ],
)
def test_what_the_shopper_says_around_an_address_is_not_part_of_it(
    text: str, language: str, expected: Address
) -> None:
    # "levere ordre 40012361 til vent feil husnummer, det skal være storgata 15, ..." was
    # confirmed and sent to the order service
    assert parse_address(text, language) == expected
    assert corrected_address(text, STORGATAN, language) == expected


@pytest.mark.parametrize(
    ("text", "street", "expected"),
    [
        ("14", "Storgatan 12", "Storgatan 14"),
        ("it's 14, sorry", "Storgatan 12", "Storgatan 14"),
        ("husnummer 16", "Storgata 12", "Storgata 16"),
        ("se on 14", "Hämeenkatu 12 B 5", "Hämeenkatu 14 B 5"),  # staircase and flat stay
        ("14b", "Storgatan 12 B", "Storgatan 14B"),  # a letter replaces the letter
        ("nummer 3", "12 Rose Lane", "3 Rose Lane"),
    ],
)
def test_a_house_number_alone_replaces_the_number(text: str, street: str, expected: str) -> None:
    previous = Address(street, "111 22", "Stockholm", "SE")
    assert corrected_house_number(text, previous) == Address(expected, "111 22", "Stockholm", "SE")


@pytest.mark.parametrize("text", ["ok 12", "yes", "storgatan 14", "40012365", "12345", "", "14 15"])
def test_what_is_no_house_number_replaces_nothing(text: str) -> None:
    assert corrected_house_number(text, STORGATAN) is None
