# The only entry point: `make help` lists the targets. CI calls `make lint` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
PY          := $(VENV)/bin/python
RASA_BIN    := $(VENV)/bin/rasa
STAMP       := $(VENV)/.installed
API_VENV    := .venv-api
API_PY      := $(API_VENV)/bin/python
API_STAMP   := $(API_VENV)/.installed
PYTHON3     ?= python3
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# no usage reports or crash reports to Rasa: this machine talks to nobody else
export RASA_TELEMETRY_ENABLED := false
RASA_PORT    ?= 5005
ACTIONS_PORT ?= 5055
API_PORT     ?= 8000

.PHONY: help install domain train validate run run-scaled bench-scale test test-unit test-stories bench bench-nlu bench-dialogue lint audit fuzz lock clean

help:  ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | expand -t 22

$(STAMP): pyproject.toml requirements/bot.lock
	@echo "==> creating $(VENV) with Python 3.10 (first time: about 2-3 minutes, 2.7 GB)"
	@python310=$$(scripts/find_python310.sh) && "$$python310" -m venv $(VENV)
	@$(VENV)/bin/pip install -q --upgrade "pip==24.0" "setuptools==69.5.1" wheel
	@echo "==> installing Rasa 3.6, rasa-sdk and spaCy from pyproject.toml (pinned by requirements/bot.lock)"
	@$(VENV)/bin/pip install -c requirements/bot.lock -e ".[bot,dev]"
	@touch $(STAMP)

$(API_STAMP): pyproject.toml requirements/api.lock
	@echo "==> creating $(API_VENV) (Python 3.11+) for the escalation service"
	@$(PYTHON3) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "error: the escalation service needs Python 3.11+ as $(PYTHON3)"; exit 1; }
	@$(PYTHON3) -m venv $(API_VENV)
	@$(API_VENV)/bin/pip install -c requirements/api.lock -e ".[api,dev,fuzz,browser,lint]"
	@touch $(API_STAMP)

# Browser tests: Debian's Chromium (Playwright's own browser download does not work here)
# and axe-core from npm for the accessibility check.
CHROMIUM    ?= /usr/bin/chromium
NODE_STAMP  := node_modules/.installed

$(CHROMIUM):
	@echo "==> installing Debian's chromium for the browser tests"
	@if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium >/dev/null || \
	  { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	else sudo apt-get install -y -q chromium >/dev/null; fi

# The scaled mode's front (make run-scaled, make bench-scale, tests/api/test_scaled.py).
HAPROXY     ?= /usr/sbin/haproxy

$(HAPROXY):
	@echo "==> installing Debian's haproxy, the scaled mode's front"
	@if [ "$$(id -u)" = 0 ]; then apt-get install -y -q haproxy >/dev/null || \
	  { apt-get update -q >/dev/null && apt-get install -y -q haproxy >/dev/null; }; \
	else sudo apt-get install -y -q haproxy >/dev/null; fi

$(NODE_STAMP): package.json package-lock.json
	@npm ci --silent --no-audit --no-fund
	@touch $(NODE_STAMP)

install: $(STAMP) $(API_STAMP)  ## create both virtual environments (.venv for Rasa, .venv-api for the service)

domain: $(STAMP)  ## build Rasa's domain (responses from content/*.yml) into build/domain
	@$(PY) tools/build_domain.py

validate: domain  ## rasa data validate
	@$(RASA_BIN) data validate --domain build/domain --data data --config bot/config.yml

# Trains only when config, domain, components, content or data changed (fingerprint).
train: domain  ## train the model if data, config or content changed
	@fp=$$($(PY) tools/fingerprint.py); model=models/nordhem-$$fp.tar.gz; \
	if [ -f $$model ]; then echo "==> model up to date: $$model"; \
	else echo "==> training $$model (data or config changed)"; \
	  $(RASA_BIN) train --config bot/config.yml --domain build/domain --data data \
	    --out models --fixed-model-name nordhem-$$fp || exit 1; fi; \
	ln -sf nordhem-$$fp.tar.gz models/current.tar.gz

run: train $(API_STAMP)  ## set up, train if needed and start Rasa, actions and the service
	@scripts/run.sh $(RASA_PORT) $(ACTIONS_PORT) $(API_PORT)

# Scaled mode: RASA Rasa servers and API service processes on this machine's PostgreSQL and
# Redis, behind HAProxy on API_PORT (tools/scaled.py; README "Scaled mode").
RASA ?= 2
API  ?= 2
run-scaled: train $(API_STAMP) $(HAPROXY)  ## RASA=2 API=2: N Rasa and M service processes on PostgreSQL and Redis behind HAProxy
	@scripts/run_scaled.sh $(RASA) $(API) $(API_PORT)

test: validate train $(API_STAMP) $(CHROMIUM) $(NODE_STAMP) $(HAPROXY)  ## set up everything and run all tests
	@$(PY) -m pytest -q tests --ignore=tests/api
	@$(API_PY) -m pytest -q tests/api tests/core
	@$(MAKE) --no-print-directory test-stories

# Rasa test stories (tests/stories/test_*.yml): NLU and dialogue, end to end, per language.
test-stories: train  ## Rasa test stories end to end (tests/stories)
	@mkdir -p results && $(RASA_BIN) test core --e2e --stories tests/stories --model models/current.tar.gz \
	  --fail-on-prediction-errors --out results/stories --no-plot >results/stories.log 2>&1 \
	  && echo "==> test stories: all passed" \
	  || { grep -A15 "WrongPrediction\|Error" results/stories.log | head -40; exit 1; }

test-unit: domain $(API_STAMP)  ## the fast tests only (no servers)
	@$(PY) -m pytest -q tests --ignore=tests/api -m "not server"
	@$(API_PY) -m pytest -q tests/api tests/core -m "not server"

# Schemathesis for longer than make test's bounded run (about 5 minutes), against the running stack.
fuzz: train $(API_STAMP)  ## schemathesis over the service's OpenAPI schema, 300 examples per operation
	@NORDHEM_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} $(API_PY) -m pytest -q tests/api/test_fuzz.py

# The whole path under load (about 15 minutes): docs/benchmarks.md has the last results.
bench: train $(API_STAMP)  ## latency and throughput under load (about 15 minutes)
	@$(API_PY) -m tools.bench $(BENCH_ARGS)
	@$(PY) tools/plot_bench.py

# The scaled mode measured (about 15 minutes; docs/benchmarks.md "Scaling out").
bench-scale: train $(API_STAMP) $(HAPROXY)  ## 1 vs 2 Rasa and service processes through HAProxy, kills under load
	@$(API_PY) -m tools.bench_scale $(BENCH_ARGS)
	@$(PY) tools/plot_bench_scale.py

bench-nlu: train  ## NLU benchmark on xSID and cross-validation on our data
	@$(PY) -m tools.bench_nlu

# Held-out multi-turn conversations (benchmarks/dialogue/*.yml) through the whole stack;
# writes results/bench_dialogue.json. BENCH_ARGS="--only nb-follow_up-01" or "--lang sv".
bench-dialogue: train $(API_STAMP)  ## multi-turn held-out conversations through the service (benchmarks/dialogue)
	@$(API_PY) -m tools.bench_dialogue $(BENCH_ARGS)

lint: $(STAMP) $(API_STAMP)  ## ruff, mypy (core, api), the import contracts between the parts, pip-audit
	@$(API_VENV)/bin/ruff check core bot actions tools tests api deploy
	@$(API_VENV)/bin/lint-imports
	@$(API_VENV)/bin/mypy
	@$(MAKE) --no-print-directory audit

audit: $(API_STAMP)  ## pip-audit of both lock files (requirements/audit-accepted.yml lists accepted findings)
	@$(API_PY) tools/audit.py

lock: $(STAMP) $(API_STAMP)  ## write the exact versions of both environments to requirements/
	@(echo "# Exact versions of the bot environment ($(VENV), Python 3.10), used as pip constraints."; \
	  echo "# Regenerate with: make lock"; $(VENV)/bin/pip freeze --exclude-editable) > requirements/bot.lock
	@(echo "# Exact versions of the API environment ($(API_VENV), Python 3.11), used as pip constraints."; \
	  echo "# Regenerate with: make lock"; $(API_VENV)/bin/pip freeze --exclude-editable) > requirements/api.lock

clean:  ## remove built domain, models, results and Rasa's local stores
	rm -rf build models results .rasa
