# The resident outreach assistant. `make run` and `make test` are the two commands of README.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python 3.10 that really runs (a pyenv shim for an inactive version does not).
PYTHON310 ?= $(shell for p in python3.10 $$(ls -d $$HOME/.pyenv/versions/3.10*/bin/python 2>/dev/null); do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { command -v $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.lock | cut -c1-16)
NPM_STAMP := node_modules/.installed-$(shell sha256sum package-lock.json | cut -c1-16)
# apt-get needs root: as root (CI, the workplace) directly, otherwise through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq

export RASA_TELEMETRY_ENABLED := false
export PYTHONPATH := $(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install model migrate meetings staff-account staff-account-password run test validate test-stories pytest eval calibrate-safety eval-cv compare-nlu bench lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): requirements.lock
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (Rasa 3.6): install it, e.g. 'pyenv install 3.10'"; exit 1; }
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "pip<25"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## create .venv (Python 3.10) and install the pinned dependencies

$(NPM_STAMP): package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && $(APT_INSTALL) nodejs npm; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

browser-deps: $(NPM_STAMP) ## Debian's Chromium and axe-core (npm) for the chat widget's browser test
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(APT_INSTALL) chromium; }

model: install ## train the Rasa model, the safety signal and the report kinds if their data changed (and only then)
	$(PY) scripts/model.py

migrate: install ## bring the database schema up to date (Alembic)
	$(PY) -m bot.storage.migrate

meetings: migrate ## import the meetings calendar (MEETINGS_CALENDAR, or the demo calendar)
	$(PY) -m bot.meetings.catalog

staff-account: migrate ## create a staff console account: make staff-account NAME=ana ROLE=supervisor (asks for the password)
	@test -n "$(NAME)" || { echo "usage: make staff-account NAME=ana [ROLE=staff|supervisor]"; exit 2; }
	$(PY) -m bot.staff.accounts create "$(NAME)" --role "$(or $(ROLE),staff)"

staff-account-password: migrate ## set a new password (and lift a lockout): make staff-account-password NAME=ana
	@test -n "$(NAME)" || { echo "usage: make staff-account-password NAME=ana"; exit 2; }
	$(PY) -m bot.staff.accounts password "$(NAME)"

run: model migrate meetings ## start everything: Rasa, actions, webhook, worker (+ a local Redis); Ctrl-C stops all
	$(PY) scripts/start.py

validate: install ## Rasa's own consistency check of domain and training data
	$(RASA) data validate --config config.yml --domain domain.yml --data data

test-stories: model ## Rasa test stories (dialogue) against the trained model
	$(RASA) test core --model models/assistant.tar.gz --stories tests/stories --out var/rasa-results --fail-on-prediction-errors

pytest: model browser-deps ## unit and integration tests (real Redis, Rasa server, browser; SQLite and PostgreSQL)
	$(PY) -m pytest

test: validate test-stories pytest ## every test: data validation, Rasa stories, pytest

eval: model ## what residents experience: tests/eval/ through the whole pipeline (safety tiers, stories, FAQ, out-of-domain), then the NLU on tests/nlu/ (~10 min; EVAL_SPLITS=dev to tune)
	$(PY) scripts/evaluate.py

calibrate-safety: model ## choose the safety signal's thresholds on the dev split of tests/eval/ (writes data/safety/thresholds.json)
	$(PY) scripts/calibrate_safety.py

eval-cv: install ## 5-fold cross-validation of the NLU on the training data (slow: trains 5 models)
	$(RASA) test nlu --nlu data/nlu --config config.yml --cross-validation --folds 5 --out var/eval-cv

compare-nlu: install ## choose the NLU pipeline and fallback thresholds on an 80/20 split of data/nlu (slow)
	$(PY) scripts/compare_nlu.py

bench: model ## latency and throughput vs Rasa alone and Rasa's Twilio channel, in interleaved rounds (~7 min; BENCH_CONCURRENCY=50 BENCH_ROUNDS=3 BENCH_SECONDS=20 ...)
	$(PY) scripts/bench.py

lock: ## re-pin requirements.lock from requirements.in (needs network access to PyPI)
	rm -rf /tmp/lock-venv && $(PYTHON310) -m venv /tmp/lock-venv
	/tmp/lock-venv/bin/pip install --quiet "pip<25" && /tmp/lock-venv/bin/pip install --quiet -r requirements.in
	{ echo "# Generated by 'make lock' from requirements.in with Python 3.10 (pip freeze). Exact pins."; \
	  /tmp/lock-venv/bin/pip freeze --all | grep -v -E '^pip=='; } > requirements.lock

clean: ## remove the trained model, results and local data (not .venv)
	rm -rf models var
