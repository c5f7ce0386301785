"""Every intent, action, response and slot name the Python code relies on is in the domain.

Nothing in Rasa notices a name that Python code uses but the domain lacks: an intent
renamed in the domain no longer matches the fallback's suggestions, the handover form's
lists or retention/markers.py, so a statistic silently drops to zero; a response the
agent desk runs on resume or an action utters just says nothing. The names are collected
by reading the sources (their syntax tree), so a constant added tomorrow is checked
without editing this test, and compared with the domain as Rasa itself loads it.

What counts as a name:
- any string literal shaped like `utter_*`, `action_*` or `validate_*` (responses,
  action names returned by `name()`, resume responses, statistics markers);
- intents: the values of every variable whose name contains "intent", the strings an
  intent-valued expression (`_intent(tracker)`, `intent`) is compared with or looked up
  in, and the constants listed in INTENT_CONSTANTS below, which are matched against
  another variable;
- slots: the first argument of `SlotSet(...)` and `tracker.get_slot(...)`, every
  `*_SLOT` constant, and the `<slot>` of a form's `validate_<slot>`/`extract_<slot>`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.slots import CategoricalSlot
from rasa_sdk.executor import ActionExecutor

ROOT = Path(__file__).resolve().parents[2]

#: Packages whose code talks to Rasa by name. tests/ and bench/ build synthetic events
#: with made-up names; services/ is the shop's backend and knows nothing of Rasa.
NOT_SCANNED = {"tests", "bench", "services"}

#: Intent constants that are matched against a variable not named after intents
#: (`name in SUGGESTIONS`), so the syntax alone does not say they hold intents.
INTENT_CONSTANTS = {"SUGGESTIONS", "NO_TOPIC"}

#: Strings shaped like names that are field names of Rasa's events table or keys of a
#: bot message's metadata (the response it came from), not actions.
FIELD_NAMES = {"action_name", "action_text", "utter_action"}

DOMAIN_NAME = re.compile(r"^(utter|action|validate)_[a-z0-9_]*[a-z0-9]$")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Use:
    """One place where Python code names something the domain must define."""

    kind: str  # "name" (response or action), "prefix", "intent", "slot", "slot value"
    name: str
    where: str  # path:line, for the failure message
    slot: str = ""  # for "slot value": the slot it is set on


def source_files() -> list[Path]:
    packages = [
        init.parent
        for init in sorted(ROOT.glob("*/__init__.py"))
        if init.parent.name not in NOT_SCANNED
    ]
    return [f for p in packages for f in sorted(p.rglob("*.py")) if "__pycache__" not in f.parts]


def strings_in(node: ast.AST | None) -> Iterator[str]:
    """The strings of a constant's literal value: a string, a collection of strings (of a
    dict its keys), or a union of such; anything computed (a table, a call) holds none."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.Set | ast.List | ast.Tuple):
        for element in node.elts:
            yield from strings_in(element)
    elif isinstance(node, ast.Dict):
        for key in node.keys:
            yield from strings_in(key)
    elif isinstance(node, ast.BinOp):
        yield from strings_in(node.left)
        yield from strings_in(node.right)
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"frozenset", "set", "tuple", "list"}
    ):
        for arg in node.args:
            yield from strings_in(arg)


def names_in(node: ast.AST) -> Iterator[str]:
    """Variable names an expression refers to (`ANSWER_INTENTS | {...}` -> ANSWER_INTENTS)."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            yield child.id
        elif isinstance(child, ast.Attribute):
            yield child.attr


def target_names(node: ast.Assign | ast.AnnAssign) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return [
        t.id if isinstance(t, ast.Name) else t.attr
        for t in targets
        if isinstance(t, ast.Name | ast.Attribute)
    ]


def constant_assignments(body: list[ast.stmt]) -> Iterator[ast.Assign | ast.AnnAssign]:
    """Assignments at module or class level: constants, not a function's local variables."""
    for node in body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            yield node
        elif isinstance(node, ast.ClassDef):
            yield from constant_assignments(node.body)


def mentions_intent(node: ast.AST) -> bool:
    """Whether an expression yields an intent name: `intent`, `_intent(tracker)` ..."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return "intent" in node.id.lower()
    if isinstance(node, ast.Attribute):
        return "intent" in node.attr.lower()
    return False


def first_arg_of(call: ast.Call, function: str) -> ast.expr | None:
    func = call.func
    called = (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )
    return call.args[0] if called == function and call.args else None


def form_validation_classes(tree: ast.Module) -> Iterator[ast.ClassDef]:
    """Classes whose `name()` returns `validate_<form>`: rasa-sdk form validation actions."""
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for method in cls.body:
            if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef) and method.name == "name":
                returned = [r.value for r in ast.walk(method) if isinstance(r, ast.Return)]
                if any(
                    isinstance(v, ast.Constant) and str(v.value).startswith("validate_")
                    for v in returned
                ):
                    yield cls


def collect() -> tuple[list[Use], set[str]]:
    """All uses in the scanned sources, and which INTENT_CONSTANTS were found."""
    parsed = {path: ast.parse(path.read_text(encoding="utf-8")) for path in source_files()}

    # Module and class constants by name, across modules: constants are imported by name.
    constants: dict[str, list[ast.expr]] = {}
    for tree in parsed.values():
        for assignment in constant_assignments(tree.body):
            for name in target_names(assignment):
                if assignment.value is not None:
                    constants.setdefault(name, []).append(assignment.value)

    def resolve(node: ast.AST) -> Iterator[str]:
        """Strings of an expression and of the constants it names, one level deep."""
        yield from strings_in(node)
        for name in names_in(node):
            for value in constants.get(name, []):
                yield from strings_in(value)

    uses: list[Use] = []
    found_constants: set[str] = set()
    for path, tree in parsed.items():
        rel = path.relative_to(ROOT)

        def add(
            kind: str, names: Iterator[str], node: ast.AST, slot: str = "", rel: Path = rel
        ) -> None:
            where = f"{rel}:{getattr(node, 'lineno', '?')}"
            uses.extend(Use(kind, n, where, slot) for n in names if IDENTIFIER.match(n))

        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                head = node.values[0] if node.values else None
                prefix = head.value if isinstance(head, ast.Constant) else None
                if isinstance(prefix, str) and re.match(r"^(utter|action)_", prefix):
                    add("prefix", iter([prefix.rstrip("_")]), node)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if DOMAIN_NAME.match(node.value) and node.value not in FIELD_NAMES:
                    add("name", iter([node.value]), node)
            elif isinstance(node, ast.Compare) and mentions_intent(node.left):
                for comparator in node.comparators:
                    add("intent", resolve(comparator), node)
            elif isinstance(node, ast.Subscript) and mentions_intent(node.slice):
                add("intent", resolve(node.value), node)
            elif isinstance(node, ast.Call):
                for function in ("SlotSet", "get_slot"):
                    arg = first_arg_of(node, function)
                    if arg is not None:
                        slots = list(resolve(arg))
                        add("slot", iter(slots), node)
                        value = node.args[1] if len(node.args) > 1 else None
                        if function == "SlotSet" and isinstance(value, ast.Constant):
                            for slot in slots:
                                add("slot value", strings_in(value), node, slot)
        for assignment in constant_assignments(tree.body):
            for name in target_names(assignment):
                if "intent" in name.lower() or name in INTENT_CONSTANTS:
                    add("intent", strings_in(assignment.value), assignment)
                    found_constants.add(name)
                elif name.endswith("_SLOT"):
                    add("slot", strings_in(assignment.value), assignment)
        for cls in form_validation_classes(tree):
            for method in cls.body:
                if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                    match = re.match(r"^(?:validate|extract)_(\w+)$", method.name)
                    if match:
                        add("slot", iter([match.group(1)]), method)
    return uses, found_constants


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(ROOT / "domain")


@pytest.fixture(scope="module")
def scan() -> tuple[list[Use], set[str]]:
    return collect()


@pytest.fixture(scope="module")
def uses(scan: tuple[list[Use], set[str]]) -> list[Use]:
    return scan[0]


def test_the_scan_sees_the_statistics_markers_fallback_topics_and_desk(
    domain: Domain, scan: tuple[list[Use], set[str]]
) -> None:
    """Guards the scanner itself: if it stopped seeing these, the other tests would pass
    on nothing. Checked by place and kind, not by name, so renaming a name in both the
    domain and the code needs no edit here."""

    uses, intent_constants = scan

    def kinds(prefix: str) -> set[str]:
        return {u.kind for u in uses if u.where.startswith(prefix)}

    # Statistics: the handover actions and the fallback intent they are counted by.
    assert {"name", "intent"} <= kinds("retention/markers.py:")
    # The fallback's suggested topics (intents) and its responses.
    assert {"name", "intent"} <= kinds("actions/fallback.py:")
    # The responses the agent desk runs when it gives the conversation back to the bot.
    assert any(u.name.startswith("utter_") for u in uses if u.where.startswith("handover/"))
    # Every form validation action of the domain is seen (its name() return value).
    validators = {a for a in listed_actions(domain) if a.startswith("validate_")}
    assert validators and validators <= {u.name for u in uses if u.kind == "name"}
    assert {"name", "prefix", "intent", "slot", "slot value"} <= {u.kind for u in uses}
    missing = INTENT_CONSTANTS - intent_constants
    assert not missing, f"INTENT_CONSTANTS names constants that no longer exist: {missing}"


def test_every_response_and_action_named_in_python_is_in_the_domain(
    domain: Domain, uses: list[Use]
) -> None:
    known = set(domain.action_names_or_texts) | set(domain.responses)
    unknown = [f"{u.name} ({u.where})" for u in uses if u.kind == "name" and u.name not in known]
    assert not unknown, f"named in Python but not in domain/: {unknown}"
    prefixes = [u for u in uses if u.kind == "prefix"]
    unmatched = [
        f"{u.name}_* ({u.where})"
        for u in prefixes
        if not any(k.startswith(u.name + "_") for k in known)
    ]
    assert not unmatched, f"no response or action in domain/ starts with: {unmatched}"


def test_every_intent_named_in_python_is_in_the_domain(domain: Domain, uses: list[Use]) -> None:
    intents = set(domain.intents)  # includes Rasa's own, such as nlu_fallback
    unknown = sorted(
        {f"{u.name} ({u.where})" for u in uses if u.kind == "intent" and u.name not in intents}
    )
    assert not unknown, f"intents named in Python but not in domain/: {unknown}"


def test_every_slot_and_slot_value_set_in_python_is_in_the_domain(
    domain: Domain, uses: list[Use]
) -> None:
    slots = {slot.name: slot for slot in domain.slots}  # includes requested_slot
    unknown = sorted(
        {f"{u.name} ({u.where})" for u in uses if u.kind == "slot" and u.name not in slots}
    )
    assert not unknown, f"slots used in Python but not in domain/: {unknown}"
    wrong_values = sorted(
        f"{u.slot}={u.name} ({u.where})"
        for u in uses
        if u.kind == "slot value"
        and isinstance(slots.get(u.slot), CategoricalSlot)
        and u.name not in slots[u.slot].values
    )
    assert not wrong_values, f"values the domain's categorical slots do not allow: {wrong_values}"


def listed_actions(domain: Domain) -> set[str]:
    """The names in the `actions:` lists of domain/*.yml; an entry with settings
    (`- action_session_start: {send_domain: true}`) is a one-key mapping."""
    names: set[str] = set()
    for entry in domain.as_dict()["actions"]:
        names |= set(entry) if isinstance(entry, dict) else {entry}
    return names


def test_domain_actions_and_action_server_agree(domain: Domain) -> None:
    """An action in the domain without code fails at the first turn that predicts it; code
    not in the domain is never called (a custom action_session_start would be ignored)."""
    executor = ActionExecutor()
    executor.register_package("actions")
    implemented = set(executor.actions)
    listed = listed_actions(domain)
    assert listed - implemented == set(), "in domain/ actions but not implemented in actions/"
    assert implemented - listed == set(), "implemented in actions/ but not listed in domain/"
