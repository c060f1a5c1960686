# The two commands of the README do all set-up themselves on a fresh clone:
#   make run    the main job on the embedded default (embedded broker, SQLite, bundled feeds)
#   make test   the whole test suite against a real broker, PostgreSQL and Redis
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck bench eval clean-data docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[embedded,postgres,redis]' --group dev
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/wiredesk run --once
	$(BIN)/wiredesk search Lavrov

# Lint first, so that pytest's summary is the last thing CI prints.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: lint

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

eval: $(STAMP)
	$(BIN)/python ../shared/tools/eval_extraction.py --wiredesk $(BIN)/wiredesk
	$(BIN)/python bench/eval_entities.py
	$(BIN)/python bench/eval_stories.py

docs: $(STAMP)
	$(BIN)/python -m wiredesk.docs

clean-data:
	rm -rf .wiredesk
