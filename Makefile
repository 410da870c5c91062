# Everything bootstraps its own .venv; only python3 (3.11+) is needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# make bench's own tools (requirements-bench.txt), apart from the project's.
BENCH_VENV := .venv-bench
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench audit migrate clean

$(VENV)/.installed-run: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

# SITE_URL (absolute links) follows HOST and PORT unless it is set.
run: $(VENV)/.installed-run
	HOST=$(HOST) PORT=$(PORT) $(PY) manage.py migrate --no-input
	HOST=$(HOST) PORT=$(PORT) $(PY) manage.py seed_demo
	HOST=$(HOST) PORT=$(PORT) $(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-dev
	$(PY) -m pytest

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

$(BENCH_VENV)/.installed: requirements-bench.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r requirements-bench.txt
	touch $@

bench: $(VENV)/.installed-dev $(BENCH_VENV)/.installed
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	test -x /usr/sbin/nginx && command -v envsubst >/dev/null || (apt-get update -qq && apt-get install -y -qq nginx gettext-base)
	$(PY) -m benchmarks.tree
	$(PY) -m benchmarks.live
	$(PY) -m benchmarks.figures
	$(PY) -m benchmarks.growth
	$(PY) -m benchmarks.badges
	$(PY) -m benchmarks.proxy
	$(PY) -m benchmarks.pybadges_compare --bench-python $(BENCH_VENV)/bin/python
	$(PY) -m benchmarks.signup
	$(PY) -m benchmarks.load --locust $(BENCH_VENV)/bin/locust

audit: $(VENV)/.installed-dev
	$(PY) tools/audit.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) db.sqlite3 staticfiles test-artifacts
