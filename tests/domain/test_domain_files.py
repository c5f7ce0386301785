"""The domain folder stays one domain a designer can read file by file.

Rasa 3.6 merges domain/*.yml without complaint when two files declare the same response
or slot: the first file it happens to read wins (directory order, so it can differ from
one machine to the next), and `rasa data validate --fail-on-warnings` stays green. One
declaration per name keeps "edit the answer in its topic's file" true.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from rasa.shared.utils.io import read_yaml_file

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
FILES = sorted(DOMAIN.glob("*.yml"))
KEYS = ("intents", "entities", "slots", "forms", "actions", "responses")


def declared(path: Path) -> dict[str, set[str]]:
    """Names a domain file declares, by section (an intent may carry options as a dict)."""
    content = read_yaml_file(path) or {}
    names: dict[str, set[str]] = {}
    for key in KEYS:
        section = content.get(key) or []
        items = section.keys() if isinstance(section, dict) else section
        names[key] = {next(iter(item)) if isinstance(item, dict) else str(item) for item in items}
    return names


def test_domain_folder_has_a_file_per_topic() -> None:
    assert len(FILES) > 1 and (DOMAIN / "shared.yml") in FILES


def test_each_name_is_declared_in_one_domain_file() -> None:
    where: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in FILES:
        for key, names in declared(path).items():
            for name in names:
                where[(key, name)].append(path.name)
    twice = {f"{key} {name}": files for (key, name), files in where.items() if len(files) > 1}
    assert not twice, f"declared in more than one domain file: {twice}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_domain_file_says_at_its_top_what_it_holds(path: Path) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    first = lines[1] if lines and lines[0].startswith("version:") else lines[0]
    assert first.startswith("# "), f"{path.name} should open with a comment on what it holds"
