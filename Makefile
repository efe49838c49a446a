# bench-analytics — every target sets up what it needs; `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2
PORT   ?= 8502

.DEFAULT_GOAL := help
INPUT_GLOB ?= benchmarks/results/*.json
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: help install demo dashboard lab ingest test test-fast lint format bench clean clean-store

help: ## List every target
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,notebooks]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the package with its dev and notebook tools

demo: $(STAMP) ## Sample history into the embedded store and benchmarks/results/, then the dashboard
	$(BIN)/bench-analytics demo --write benchmarks/results --serve --port $(PORT)

dashboard: $(STAMP) ## Serve the dashboard on http://127.0.0.1:8502 (Ctrl-C stops it)
	$(BIN)/bench-analytics dashboard --port $(PORT)

lab: $(STAMP) ## JupyterLab on notebooks/ with the project's kernel and store (./.bench)
	BENCH_HOME=$(CURDIR)/.bench $(BIN)/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG)

ingest: $(STAMP) ## Run the ingest notebook on INPUT_GLOB (benchmarks/results/*.json); reports/
	$(BIN)/bench-analytics ingest-notebook --input-glob '$(INPUT_GLOB)' --reports-dir reports

test: $(STAMP) ## Run the whole test suite (real PostgreSQL, no mocks)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=10

test-fast: $(STAMP) ## Run the tests that spawn no extra processes
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not slow"

lint: $(STAMP) ## ruff check and format, the import-layer contract, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## Performance benchmarks: figures and ratios against raw references
	$(BIN)/python benchmarks/perf/push_cases.py
	$(BIN)/python benchmarks/perf/push_100k.py
	$(BIN)/python benchmarks/perf/cli_push.py
	$(BIN)/python benchmarks/perf/cli_read.py
	$(BIN)/python benchmarks/perf/bootstrap.py
	$(BIN)/python benchmarks/perf/run_overhead.py
	$(BIN)/python benchmarks/perf/local_sql.py
	$(BIN)/python benchmarks/perf/pull.py
	$(BIN)/python benchmarks/perf/ingest_notebook.py
	$(BIN)/python benchmarks/perf/push_lm_eval.py
	$(BIN)/python benchmarks/perf/notebooks.py

clean-store: ## Stop nothing, delete the embedded store under ./.bench (all local history!)
	rm -rf .bench

clean: ## Remove the virtualenv and caches (keeps ./.bench)
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist *.egg-info
