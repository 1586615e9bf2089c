# 会员系统 — the two commands are `make run` and `make test`; `make help` lists the rest.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
PYTEST_ARGS ?=
BENCH ?=

.DEFAULT_GOAL := help
.PHONY: help install run test test-fast lint format migrate seed worker beat vendor messages bench bench-list loadtest fairness browser db-stop

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its dev tools

run: install ## Install, migrate, load the demo mall if empty, serve on :8000 (stops the embedded Postgres on exit)
	BIN=$(BIN) PORT=$(PORT) scripts/run.sh

test: install ## Install and run the whole suite (DATABASE_URL / REDIS_URL if set)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install ## The suite without browser and slow tests
	$(BIN)/python -m pytest -m "not browser and not slow" $(PYTEST_ARGS)

lint: install ## ruff check, format check and the apps' layers (import-linter)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: install ## Apply migrations
	$(BIN)/python manage.py migrate --noinput

seed: install ## Rebuild the demo mall (ARGS="--members 10000 --months 12")
	$(BIN)/python manage.py seed_demo --reset $(ARGS)

worker: install ## A Celery worker (needs REDIS_URL)
	$(BIN)/celery -A config worker -l info

beat: install ## Celery beat with the schedules kept in the database (needs REDIS_URL)
	$(BIN)/celery -A config beat -l info --scheduler django_celery_beat.schedulers:DatabaseScheduler

vendor: ## Refresh static/vendor/ (WeUI, weui.js, ECharts) from npm
	scripts/vendor.sh

messages: install ## Update locale/zh_Hans/LC_MESSAGES/django.po and compile it (needs gettext)
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=node_modules --ignore=static/vendor
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

bench: install ## Run the benchmarks in bench/ (DATABASE_URL, REDIS_URL); one: BENCH=rfm (or clv, pos_api, card_page…)
ifeq ($(BENCH),)
	$(BIN)/python bench/seed_demo_bench.py
	$(BIN)/python bench/pos_api_bench.py
	$(BIN)/python bench/card_page_bench.py
	$(BIN)/python bench/import_receipts_bench.py
	$(BIN)/python bench/member_list_bench.py
	$(BIN)/python bench/rfm_bench.py
	$(BIN)/python bench/mining_bench.py
else
	$(BIN)/python bench/$(BENCH)_bench.py $(ARGS)
endif

bench-list: install ## The member list at 1,000,000 members, keyset against OFFSET (DATABASE_URL)
	$(BIN)/python bench/member_list_bench.py $(ARGS)

loadtest: install ## Locust: members browsing while tills post receipts and verify coupons, ~3 min (DATABASE_URL, REDIS_URL)
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/load_scenario.py $(ARGS)

fairness: install ## 100,000 lottery draws through the service against the weights (~30 min)
	RUN_FAIRNESS=1 $(BIN)/python -m pytest -m fairness -s $(PYTEST_ARGS)

browser: ## Install Debian's Chromium and CJK fonts for the browser tests (root)
	apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-cjk

db-stop: install ## Stop the embedded Postgres running on .pgdata/ (nothing if none runs)
	$(BIN)/python -m config.embedded_postgres.control stop $${EMBEDDED_PGDATA:-.pgdata}
