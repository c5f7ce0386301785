#!/usr/bin/env bash
# Train a model only when none exists for the current content (scripts/model-hash.sh):
# an unchanged project starts at once, a changed one retrains. Seeds are fixed in
# config.yml, so the same content gives the same model.
set -euo pipefail
cd "$(dirname "$0")/.."
hash=$(scripts/model-hash.sh)
model="models/$hash.tar.gz"
if [ -f "$model" ]; then
  printf '  ok    %-22s %4ss - %s is up to date\n' "train" 0 "$model"
  exit 0
fi
# `rasa train` validates the data first (~25 s here). `make validate` runs the stricter
# `rasa data validate --fail-on-warnings` and leaves .cache/validated/<hash> for the content
# it passed (make test and .ci/run validate before they train): then that check is not
# repeated. Without the stamp (make run, devkit) Rasa's own validation still runs.
flags=()
[ -f ".cache/validated/$hash" ] && flags+=(--skip-validation)
# scripts/rasa_train.py is `rasa train` without Rasa's per-component cache (~25 s less).
# (a first training too: embeddings/ has the examples' vectors; README "Training")
hint="a training takes about a minute"
STEP_HINT=$hint STEP_SUMMARY="echo trained $model" scripts/step.sh train logs/train.log \
  .venv/bin/python scripts/rasa_train.py --domain domain --fixed-model-name "$hash" --out models "${flags[@]}"
