# The platform's commands. `make help` lists them; README.md explains them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

DATA_DIR ?= $(CURDIR)/data
DAYS ?= 7
USERS ?= 50000
SEED ?= 42
START_DATE ?= 2026-11-01

# One environment for every command: Airflow runs embedded on SQLite under DATA_DIR.
export DATA_DIR := $(abspath $(DATA_DIR))
export AIRFLOW_HOME ?= $(DATA_DIR)/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := False
export PYTHONPATH := $(CURDIR)/plugins
export PATH := $(BIN):$(PATH)
export NO_COLOR := 1

.PHONY: help install system-deps lock test lint format world demo run up down docs bench clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: $(INSTALLED)  ## create .venv and install the pinned dependencies (quick when nothing changed)

$(INSTALLED): requirements.lock
	@echo "==> installing pinned dependencies into .venv (about two minutes the first time, bytecode included)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	@# Bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set (as on CI machines),
	@# every process would otherwise compile its imports from source (Great Expectations'
	@# import 8 s instead of 3.5, dbt's 7 s instead of 2.7, in each Airflow task).
	@$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	@# plugins/ on the venv's path, as Airflow has it: `.venv/bin/python -m dataplatform ...` works
	@echo "$(CURDIR)/plugins" > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/dataplatform-plugins.pth"
	@touch $@

# Debian packages the tests start for real: a PostgreSQL server (the operational source) and
# Chromium (the browser test drives it headless through Playwright); and the web libraries the
# Data Docs pages link from CDNs, which the docs sites serve from Debian's copies instead, so the
# pages are styled without the internet (dataplatform.docs_site.CDN_ASSETS).
DOCS_ASSET_PACKAGES := libjs-bootstrap4 libjs-jquery libjs-popper.js fonts-font-awesome
system-deps:  ## install the Debian packages the tests and the docs sites need, if missing
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	for package in $(DOCS_ASSET_PACKAGES); do \
		dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q "ok installed" \
			|| missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "==> installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

lock:  ## re-resolve requirements.txt into requirements.lock
	@$(BIN)/uv pip compile --quiet --python-version 3.11 requirements.txt -o requirements.lock

lint: install  ## ruff (lint and format check) and sqlfluff on the dbt project
	@echo "==> ruff"
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@echo "==> sqlfluff"
	@cd dbt_project && $(BIN)/sqlfluff lint . --disable-progress-bar --nocolor

format: install  ## apply ruff fixes and formatting
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

test: lint system-deps  ## install everything and run every test (CI runs exactly this)
	@echo "==> pytest"
	@$(BIN)/python -m pytest

world: install  ## generate the demo world: make world DAYS=7 USERS=50000 SEED=42
	@$(BIN)/python -m dataplatform.generator --data-dir "$(DATA_DIR)" --days $(DAYS) \
		--users $(USERS) --seed $(SEED) --start-date $(START_DATE) $(if $(CORRUPT),--corrupt)

demo: install  ## from a fresh clone: world, the pipeline for every day through Airflow, a summary
	@$(MAKE) --no-print-directory world
	@$(BIN)/python -m dataplatform demo

run: install  ## run the pipeline for one date through Airflow: make run DATE=2026-11-01
	@test -n "$(DATE)" || { echo "usage: make run DATE=YYYY-MM-DD"; exit 2; }
	@$(BIN)/python -m dataplatform run --date "$(DATE)"

AIRFLOW_PORT ?= 8080
DOCS_PORT ?= 8081

up: install  ## start Airflow on localhost:8080 (UI with login, scheduler, DAG processor, triggerer, docs)
	@$(BIN)/python -m dataplatform.stack up --port $(AIRFLOW_PORT)

down:  ## stop what make up started (by its pid files under DATA_DIR/run)
	@$(BIN)/python -m dataplatform.stack down

docs: install  ## serve the dbt docs and data quality reports on localhost:8081 without Airflow
	@$(BIN)/python -m dataplatform docs --serve --port $(DOCS_PORT)

bench: install  ## the benchmarks: make bench BENCH_EVENTS=10000000 BENCH_DAYS=30; writes bench/results/
	@PYTHONPATH=$(CURDIR)/plugins:$(CURDIR) $(BIN)/python -m bench.run

clean:  ## remove generated data (DATA_DIR) but keep .venv
	rm -rf "$(DATA_DIR)"
