#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter, or explain how to get one and fail.
# Rasa 3.6 supports Python 3.8-3.10 only; we pin 3.10.
set -euo pipefail

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for p in "$root"/versions/3.10*/bin/python3.10; do
    [ -x "$p" ] && candidates+=("$p")
  done
fi
candidates+=(python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10 python3)

for c in "${candidates[@]}"; do
  if path=$(command -v "$c" 2>/dev/null) \
      && "$path" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done

cat >&2 <<'MSG'
No Python 3.10 interpreter found (Rasa 3.6 does not run on 3.11 or newer).
Install one, then run make again:
  pyenv install 3.10           # with pyenv
  apt-get install python3.10 python3.10-venv   # on Debian/Ubuntu releases that ship it
or point the Makefile at one:  make PYTHON=/path/to/python3.10 ...
MSG
exit 1
