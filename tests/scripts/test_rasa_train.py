"""scripts/rasa_train.py: `rasa train` without Rasa's training cache, on a small project.

Rasa's own `rasa train` records a fingerprint for every graph node in its cache database
(and hashes every message after every featurizer to get it); ours must train the same
kind of model and record nothing.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "rasa_train.py"

CONFIG = """\
recipe: default.v1
language: en
assistant_id: tiny
pipeline:
  - name: WhitespaceTokenizer
  - name: KeywordIntentClassifier
policies:
  - name: RulePolicy
"""
DOMAIN = """\
version: "3.1"
intents: [greet, goodbye]
responses:
  utter_greet: [{text: "Hello!"}]
  utter_goodbye: [{text: "Bye!"}]
"""
NLU = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello
    - hi there
- intent: goodbye
  examples: |
    - bye
    - see you later
"""
RULES = """\
version: "3.1"
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: goodbye
  steps:
  - intent: goodbye
  - action: utter_goodbye
"""


def cache_entries(cache: Path) -> int:
    """Rows in Rasa's training cache database (0 when it has none or no table)."""
    database = cache / "cache.db"
    if not database.exists():
        return 0
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master")}
        if "cache_entry" not in tables:
            return 0
        return int(connection.execute("select count(*) from cache_entry").fetchone()[0])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny-project")
    (root / "data").mkdir()
    (root / "config.yml").write_text(CONFIG)
    (root / "domain.yml").write_text(DOMAIN)
    (root / "data" / "nlu.yml").write_text(NLU)
    (root / "data" / "rules.yml").write_text(RULES)
    return root


def train(project: Path, command: list[str], name: str) -> tuple[Path, Path]:
    cache = project / f"cache-{name}"
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(cache), "RASA_TELEMETRY_ENABLED": "false"}
    arguments = ["--config", "config.yml", "--domain", "domain.yml", "--data", "data"]
    arguments += ["--out", "models", "--fixed-model-name", name]
    result = subprocess.run(
        [*command, *arguments],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return project / "models" / f"{name}.tar.gz", cache


def test_trains_a_complete_model_and_records_no_fingerprints(project: Path) -> None:
    model, cache = train(project, [sys.executable, str(SCRIPT)], "ours")
    with tarfile.open(model) as archive:
        names = archive.getnames()
    assert any("KeywordIntentClassifier" in n for n in names)
    assert any("RulePolicy" in n for n in names)
    assert cache_entries(cache) == 0


def test_rasas_own_training_would_have_recorded_them(project: Path) -> None:
    # the measure above can tell the difference: stock `rasa train` fills the cache
    rasa = Path(sys.executable).parent / "rasa"
    _, cache = train(project, [str(rasa), "train"], "stock")
    assert cache_entries(cache) > 0


LOAD_DATA = """\
import json, sys
sys.path.insert(0, "scripts")
if sys.argv[1] == "shared":
    import rasa_train
    rasa_train.share_examples_when_merging()
from rasa.shared.importers.importer import TrainingDataImporter
importer = TrainingDataImporter.load_from_config("config.yml", "domain", ["data"])
data = importer.get_nlu_data("en")
examples = [json.dumps(m.as_dict(), sort_keys=True) for m in data.training_examples]
print(json.dumps({
    "with_text": [e for e in examples if '"text"' in e],
    # the stories' text-less turns come out of a set: their order varies run to run
    "without_text": sorted(e for e in examples if '"text"' not in e),
    "responses": data.responses,
    "regexes": data.regex_features,
    "synonyms": data.entity_synonyms,
}, sort_keys=True))
"""


def load_training_data(merges: str) -> dict:
    import json

    result = subprocess.run(
        [sys.executable, "-c", LOAD_DATA, merges],
        cwd=ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_shared_merges_hand_the_pipeline_the_data_rasas_copies_do() -> None:
    # The merges that share examples instead of deep-copying them (~8 s of a training)
    # must give the project's examples, in order, with the same responses and regexes.
    stock, shared = load_training_data("stock"), load_training_data("shared")
    assert len(shared["with_text"]) > 10_000
    assert shared == stock
