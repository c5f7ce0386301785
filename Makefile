# The project's contract: CI runs the same targets a developer does.
#   make run    install what is missing, train if needed, start every process
#   make test   lint, validate data, train, test stories and NLU, pytest
# Run `make help` for the rest.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV ?= .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMP := $(VENV)/.installed

# Development defaults; set any of them in the environment to override (see README).
export APP_ENV ?= development
export DATABASE_URL ?= sqlite:///$(CURDIR)/rasa.db
export ACTION_SERVER_URL ?= http://127.0.0.1:5055/webhook
# Shared secret between Rasa and the action server. The action server accepts this demo
# value only with APP_ENV=development and refuses to start with it otherwise.
export ACTION_SERVER_TOKEN ?= demo-action-server-token-for-development-only
# `make run` and `make shell` listen on this machine only; BIND_HOST=0.0.0.0 opens them.
export BIND_HOST ?= 127.0.0.1
# One process with one worker needs no Redis; see README "Running in production".
export LOCK_STORE_TYPE ?= in_memory
export REDIS_HOST ?= 127.0.0.1
export REDIS_PORT ?= 6379
export REDIS_LOCK_DB ?= 1
export REDIS_PASSWORD ?=
export REDIS_LOCK_PREFIX ?=
# The demo shop's privacy notice in each language (webchat/ serves /privacy?lang=...); a
# shop sets its own pages (README "Languages"). English uses the domain's privacy_url.
export PRIVACY_URL_SV ?= http://localhost:8080/privacy?lang=sv
export PRIVACY_URL_FI ?= http://localhost:8080/privacy?lang=fi
export PRIVACY_URL_NB ?= http://localhost:8080/privacy?lang=nb
# Rasa and TensorFlow are chatty; keep their logs readable and their telemetry off.
export RASA_TELEMETRY_ENABLED ?= false
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

MODEL_HASH = $(shell scripts/model-hash.sh)
export MODEL = models/$(MODEL_HASH).tar.gz

# Our Python packages (those that exist), for lint and type checks; mypy also reads the
# tests (no __init__.py there, see pyproject's explicit_package_bases) and scripts/.
PACKAGES = $(patsubst %/__init__.py,%,$(wildcard */__init__.py))
TYPED = $(PACKAGES) tests scripts

# What `make check` runs: the tests that need no browser, database server, Redis or Rasa.
QUICK_TESTS = not (postgres or redis or browser or e2e)

.PHONY: help install lock lint check validate train embeddings run shell test test-stories test-nlu \
        pytest bench bench-nlu bench-conversations bench-retention retention insights questions clean

help:
	@echo "make run        start the assistant (installs and trains when needed)"
	@echo "make shell      chat with it in this terminal"
	@echo "make test       every check CI runs"
	@echo "make lint       ruff check, ruff format --check, mypy (packages, bench, tests)"
	@echo "make check      lint + the tests needing no browser, database, Redis or Rasa"
	@echo "                (about 2.5 minutes here): the quick loop while editing"
	@echo "make validate   rasa data validate --fail-on-warnings"
	@echo "make train      train a model if none matches the current data and config"
	@echo "make embeddings rewrite embeddings/ (the examples' committed e5 and MiniLM vectors,"
	@echo "                which spare a fresh checkout's first training ~3 minutes)"
	@echo "make bench-nlu  NLU accuracy on ../shared/eval/dev.csv and dev-{sv,fi,nb}.csv"
	@echo "make bench-conversations  whole shopper conversations over the web chat (pass rate,"
	@echo "                failing turns, fallback rate); CONVERSATIONS=file.yml for another file"
	@echo "make bench      ours vs stock config (training, NLU, load), 1 vs 2 workers, retention"
	@echo "make retention  roll up statistics, delete bot conversations older than 90 days"
	@echo "make insights   statistics report of the last 30 days (insights/out/)"
	@echo "make questions  redacted shopper messages of the last 7 days, for designers"
	@echo "make lock       re-pin requirements.lock from requirements.in"
	@echo "make install    build the virtualenv and the widget's npm package"
	@echo "make clean      remove models, results, logs, the virtualenv, node_modules"
	@echo "                AND rasa.db, i.e. every stored conversation"

# --- installation ------------------------------------------------------------------

WEBCHAT_CLIENT := webchat/node_modules/socket.io-client/dist/socket.io.min.js

install: $(STAMP) $(WEBCHAT_CLIENT)

# The virtualenv is rebuilt from the lock whenever the lock changes. --no-deps installs
# exactly the pinned tree (and keeps the embedding model package from pulling in torch).
$(STAMP): requirements.lock
	@python=$$(scripts/find-python.sh) || exit 1; \
	  if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
	    rm -rf $(VENV); echo "  creating $(VENV) with $$python"; "$$python" -m venv $(VENV); fi
	@STEP_TAIL=20 STEP_HINT="about 2 minutes with a warm pip cache" scripts/step.sh "pip install" logs/install.log \
	  bash -c '$(PY) -m pip install --upgrade pip wheel && $(PY) -m pip install --no-deps -r requirements.lock'
	@touch $@

# The widget's only third-party file: the socket.io client, pinned in package-lock.json.
$(WEBCHAT_CLIENT): webchat/package.json webchat/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the web chat widget: install Node.js 18+"; exit 1; }
	@scripts/step.sh "npm ci (webchat)" logs/npm.log npm ci --prefix webchat --no-audit --no-fund
	@touch $@

lock: $(STAMP)
	$(PY) -m pip install -r requirements.in
	$(PY) -m pip freeze --exclude-editable > requirements.lock

# --- checks ------------------------------------------------------------------------

lint: install
	@scripts/step.sh ruff logs/ruff.log $(VENV)/bin/ruff check .
	@scripts/step.sh mypy logs/mypy.log $(VENV)/bin/mypy $(TYPED)
	@STEP_TAIL=60 scripts/step.sh "ruff format --check" logs/ruff-format.log \
	  $(VENV)/bin/ruff format --check .

# The quick loop: no model, no Rasa, no PostgreSQL, Redis or Chromium needed.
check: lint
	@scripts/step.sh "pytest (quick)" logs/pytest-quick.log $(VENV)/bin/pytest -p no:cacheprovider \
	  -m "$(QUICK_TESTS)"; rc=$$?; \
	  grep -E '^=+ .*(passed|failed|error).* =+$$' logs/pytest-quick.log | tail -n 1; exit $$rc

# A pass leaves a stamp for this content (scripts/model-hash.sh): scripts/train.sh then
# skips the weaker validation `rasa train` would repeat.
validate: install
	@scripts/step.sh "data validate" logs/validate.log \
	  $(RASA) data validate --domain domain --fail-on-warnings
	@mkdir -p .cache/validated && touch .cache/validated/$(MODEL_HASH)

train: install
	@scripts/train.sh

# The committed vectors of the training examples (components/embedding_cache.py): run
# after adding many examples, then commit embeddings/ (tests/scripts/test_embeddings.py
# says when it is due).
embeddings: install
	@PYTHONPATH=. $(PY) scripts/embeddings.py 2> logs/embeddings.log

test-stories: train
	@rm -rf results/core
	@STEP_SUMMARY="$(PY) scripts/report.py stories results/core" scripts/step.sh "test stories" \
	  logs/test-stories.log $(RASA) test core --model $(MODEL) --stories tests/stories \
	  --out results/core --fail-on-prediction-errors

test-nlu: train
	@rm -rf results/nlu
	@scripts/step.sh "test nlu" logs/test-nlu.log \
	  $(RASA) test nlu --model $(MODEL) --nlu tests/nlu --domain domain --out results/nlu
	@$(PY) scripts/report.py nlu results/nlu

pytest: install
	@scripts/step.sh pytest logs/pytest.log $(VENV)/bin/pytest -p no:cacheprovider --durations=15; rc=$$?; \
	  grep -E '^=+ .*(passed|failed|error).* =+$$' logs/pytest.log | tail -n 1; exit $$rc

test:
	@echo "make test: full logs in logs/"
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory validate
	@$(MAKE) --no-print-directory train
	@$(MAKE) --no-print-directory test-stories
	@$(MAKE) --no-print-directory test-nlu
	@$(MAKE) --no-print-directory pytest

# --- running -----------------------------------------------------------------------

run: train
	@scripts/free-ports.sh $(BIND_HOST) 8000 5055 5005 8080
	@echo ""
	@echo "  Starting the assistant (Ctrl-C stops everything):"
	@echo "    shop + chat     http://localhost:8080/        <- open this and click the chat symbol"
	@echo "    agent console   http://localhost:8080/agent   (development token: demo-agent-token)"
	@echo "    Rasa server     http://localhost:5005         (model $(MODEL))"
	@echo "    action server   http://localhost:5055"
	@echo "  Or stop this and chat in the terminal: make shell"
	@echo ""
	@$(VENV)/bin/honcho --no-colour -f Procfile start

# The terminal chat needs the action server and the reference service; they are stopped
# with it.
shell: train
	@mkdir -p logs; \
	  $(PY) -m services --host $(BIND_HOST) --port 8000 > logs/services-shell.log 2>&1 & services=$$!; \
	  SANIC_KEEP_ALIVE_TIMEOUT=120 $(PY) -m actions.server --host $(BIND_HOST) --port 5055 \
	    > logs/actions-shell.log 2>&1 & actions=$$!; \
	  trap 'kill $$services $$actions 2>/dev/null' EXIT; \
	  $(RASA) shell --model $(MODEL) --endpoints endpoints.yml --interface $(BIND_HOST)

# --- measurements ------------------------------------------------------------------

bench-nlu: train
	$(PY) bench/nlu.py --model $(MODEL)

# Whole conversations over the real web chat (bench/conversations.py): the shared file
# (../shared/eval/conversations.yml) unless CONVERSATIONS names other files.
CONVERSATIONS ?=
bench-conversations: train
	$(PY) bench/conversations.py --model $(MODEL) $(CONVERSATIONS)

bench-retention: install
	$(PY) bench/retention_bench.py

# Ours vs the stock `rasa init` configuration (training, NLU accuracy, load), 1 vs 2
# workers on PostgreSQL + Redis, and retention: about 20 minutes on 2 cores.
bench: install bench-retention
	@echo "make bench: report in bench/out/report.md, logs in logs/"
	$(PY) bench/compare.py --scale

# --- operations --------------------------------------------------------------------

# Roll up statistics, then delete bot conversations older than 90 days.
# RETENTION_ARGS="--dry-run" shows what would happen.
RETENTION_ARGS ?=
retention: install
	@$(PY) -m retention $(RETENTION_ARGS)

insights: install
	$(PY) -m insights report --days 30

questions: install
	$(PY) -m insights questions --days 7 --out insights/out/questions.csv

clean:
	rm -rf models results logs $(VENV) .mypy_cache .ruff_cache rasa.db webchat/node_modules
