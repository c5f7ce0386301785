"""Two questions in one message: clause splitting and the part classifier, with the real
MiniLM encoder and a small training set of our own (no trained Rasa model needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.second_question import SecondQuestion, clauses

EXAMPLES = {
    "payment_methods": [
        "how can I pay", "which payment methods do you accept", "can I pay by card",
        "do you take paypal", "is paying by invoice possible", "can I pay in instalments",
    ],
    "delivery_time": [
        "how long does delivery take", "when will my parcel arrive", "how many days is shipping",
        "how fast do you deliver", "how soon will I get my things", "delivery time please",
    ],
    "returns": [
        "how do I return something", "what is your return policy", "can I send it back",
        "how long do I have to return an item", "are returns free", "I want a refund",
    ],
    "greet": ["hello", "hi there", "good morning", "hey", "hiya", "good evening"],
}  # fmt: skip


NORDIC = {
    "payment_methods": [
        "kan man betala med kort", "går det att betala med faktura", "voiko maksaa kortilla",
        "mitä maksutapoja teillä on", "kan jeg betale med vipps", "hvilke betalingsmåter finnes",
    ],
    "delivery_time": [
        "när kommer paketet", "hur många dagar tar frakten", "milloin paketti tulee",
        "monta päivää toimituksessa menee", "når kommer pakken", "hvor mange dager tar frakten",
    ],
    "returns": [
        "hur returnerar jag", "kan jag skicka tillbaka", "miten palautan tuotteen",
        "voinko palauttaa", "hvordan returnerer jeg", "kan jeg sende tilbake",
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("how can I pay and how long is delivery?", 2),
        ("how do returns work? also, can I pay by card", 2),
        ("what cards do you take, how fast do you ship", 2),
        ("can I pay by invoice and in instalments?", 2),
        ("black and white shirt", 1),
        ("how long is delivery", 1),
        ("hi, how can I pay", 1),
        ("vilka betalsätt finns det och hur lång tid tar leveransen", 2),
        ("miten voin maksaa ja kauanko toimitus kestää", 2),
        ("tar dere kort? og hvor lang tid tar leveringa til trondheim", 2),
        ("kan jag betala med faktura, hur länge tar frakten", 2),
        ("onko teillä mustia farkkuja", 1),
    ],
)
def test_clauses_split_where_a_second_question_may_start(text: str, parts: int) -> None:
    assert len(clauses(text)) == parts


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("hej! vilka betalsätt har ni och hur lång tid tar leveransen?",
         ["vilka betalsätt har ni", "hur lång tid tar leveransen"]),
        ("hi there, how can I pay", ["how can I pay"]),
        ("moi moi! voiko maksaa laskulla ja milloin paketti tulee",
         ["voiko maksaa laskulla", "milloin paketti tulee"]),
        ("god morgen, tar dere kort? og når kommer pakken", ["tar dere kort", "når kommer pakken"]),
        ("hello", []),
        ("returns? how long do I have", ["returns how long do I have"]),
    ],
)  # fmt: skip
def test_a_greeting_that_opens_the_message_is_not_part_of_a_question(
    text: str, parts: list[str]
) -> None:
    """Joined to the question after it, "hej" made that question read as a greeting and
    the message got one answer instead of two."""
    assert clauses(text) == parts


@pytest.fixture(scope="module")
def component(tmp_path_factory: pytest.TempPathFactory, featurizer: Any, tokenizer: Any) -> Any:
    """SecondQuestion trained on the featurizer's sentence features of EXAMPLES."""
    messages = [
        Message(data={TEXT: text, "intent": intent})
        for intent, texts in EXAMPLES.items()
        for text in texts
    ]
    data = TrainingData(training_examples=messages)
    tokenizer.process_training_data(data)
    featurizer.process_training_data(data)
    storage = LocalModelStorage(Path(tmp_path_factory.mktemp("model")))
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**SecondQuestion.get_default_config(), "featurizer": "minilm"}
    trained = SecondQuestion.create(config, storage, Resource("second"), context)
    trained.train(data)
    return SecondQuestion.load(config, storage, Resource("second"), context)


@pytest.fixture(scope="module")
def bilingual(tmp_path_factory: pytest.TempPathFactory, featurizer: Any, tokenizer: Any) -> Any:
    """Trained on MiniLM and e5 features of EXAMPLES and NORDIC, as in config.yml."""
    from components.e5 import E5Featurizer, cpu_support

    if not cpu_support()[0]:
        pytest.skip("the e5 engine needs AVX2 and FMA")
    messages = [
        Message(data={TEXT: text, "intent": intent})
        for examples in (EXAMPLES, NORDIC)
        for intent, texts in examples.items()
        for text in texts
    ]
    data = TrainingData(training_examples=messages)
    tokenizer.process_training_data(data)
    featurizer.process_training_data(data)
    e5 = E5Featurizer({**E5Featurizer.get_default_config(), "cache_dir": None}, "e5")
    e5.process_training_data(data)
    storage = LocalModelStorage(Path(tmp_path_factory.mktemp("model")))
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**SecondQuestion.get_default_config(), "featurizer": "minilm"}
    SecondQuestion.create(config, storage, Resource("second"), context).train(data)
    return SecondQuestion.load(config, storage, Resource("second"), context)


def parse(component: Any, text: str, intent: str, route: str | None = None) -> Message:
    message = Message(data={TEXT: text, "intent": {"name": intent, "confidence": 0.9}})
    if route:
        message.set("language_route", route)
    component.process([message])
    return message


def also_asked(message: Message) -> list[str]:
    return [e["value"] for e in message.get("entities") or [] if e["entity"] == "also_asked"]


def test_a_second_question_is_named(component: Any) -> None:
    message = parse(
        component, "can I pay by card and how many days does shipping take", "payment_methods"
    )
    assert also_asked(message) == ["delivery_time"]


def test_a_single_question_with_and_gets_nothing(component: Any) -> None:
    assert (
        also_asked(parse(component, "can I pay by card and in instalments", "payment_methods"))
        == []
    )


def test_a_message_without_a_break_gets_nothing(component: Any) -> None:
    assert also_asked(parse(component, "how long does delivery take", "delivery_time")) == []


def test_only_fixed_answer_questions_are_combined(component: Any) -> None:
    assert also_asked(parse(component, "hello and how do I return a coat", "greet")) == []


def test_the_parts_correct_a_look_alike_intent(component: Any) -> None:
    # The whole message was taken for a third fixed-answer question; both parts say otherwise.
    message = parse(component, "do you take paypal? and when will my parcel arrive", "returns")
    assert message.get("intent")["name"] in {"payment_methods", "delivery_time"}
    assert set(also_asked(message)) | {message.get("intent")["name"]} == {
        "payment_methods",
        "delivery_time",
    }


def test_an_untrained_component_adds_nothing(tmp_path: Path) -> None:
    context = ExecutionContext(GraphSchema({}), "test")
    storage = LocalModelStorage(tmp_path)
    untrained = SecondQuestion.load({}, storage, Resource("none"), context)
    message = parse(untrained, "how can I pay and how long is delivery", "payment_methods")
    assert also_asked(message) == []


def test_two_clear_questions_in_an_unclear_message_are_both_answered(component: Any) -> None:
    # The whole message read as out of scope, its two parts as two clear questions.
    message = Message(
        data={
            TEXT: "can I pay with a debit card and how long is shipping to Oslo",
            "intent": {"name": "out_of_scope", "confidence": 0.35},
        }
    )
    component.process([message])
    assert {message.get("intent")["name"], *also_asked(message)} == {
        "payment_methods",
        "delivery_time",
    }
    assert message.get("intent")["confidence"] >= 0.35


def test_a_clear_other_intent_is_left_alone(component: Any) -> None:
    # Sure of a question that has no fixed answer: parts are not even looked at.
    assert also_asked(parse(component, "track my parcel and how do I pay", "track_parcel")) == []


PAY, WHEN = "payment_methods", "delivery_time"


@pytest.mark.parametrize(
    ("text", "first", "second"),
    [
        ("hvordan kan jeg betale? og hvor lang tid tar leveringen", WHEN, PAY),
        ("vilka betalsätt har ni och hur lång tid tar leveransen", PAY, WHEN),
        ("miten voin maksaa ja kauanko toimitus kestää", WHEN, PAY),
    ],
)
def test_a_second_question_in_another_language_is_named(
    bilingual: Any, text: str, first: str, second: str
) -> None:
    # MiniLM knows only English; parts of a message the router did not send to the
    # English head are read by the e5 head.
    assert also_asked(parse(bilingual, text, first)) == [second]


def test_english_routed_messages_keep_the_minilm_head(bilingual: Any) -> None:
    message = parse(
        bilingual, "can I pay by card and how many days does shipping take", "payment_methods", "en"
    )
    assert also_asked(message) == ["delivery_time"]
    assert "e5" in bilingual._heads and "minilm" in bilingual._heads


def test_a_model_from_before_the_e5_head_still_answers_two_questions(
    component: Any, tmp_path: Path
) -> None:
    # Saved as models trained before the e5 head were: one MiniLM head, no head list.
    import json

    import numpy as np

    storage = LocalModelStorage(tmp_path)
    coef, intercept = component._heads["minilm"]
    with storage.write_to(Resource("old")) as directory:
        np.savez(directory / "clauses.npz", coef=coef, intercept=intercept)
        (directory / "clauses.json").write_text(json.dumps({"classes": component._classes}))
    context = ExecutionContext(GraphSchema({}), "test")
    old = SecondQuestion.load({"featurizer": "minilm"}, storage, Resource("old"), context)
    message = parse(old, "can I pay by card and how many days does shipping take", PAY)
    assert also_asked(message) == [WHEN]
