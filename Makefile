# SMART Policing: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR := demo
DEMO_DB := sqlite:///$(CURDIR)/$(DEMO_DIR)/smart_policing.db
CLI := $(BIN)/smart-policing
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo demo-data serve test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## install: virtualenv in .venv with the package (editable) and its dev tools
install: $(STAMP)

## demo: synthetic city -> embedded SQLite database -> web app on http://127.0.0.1:8000
demo: demo-data serve

DEMO_USER ?= demo
DEMO_PASSWORD ?= smart-policing-demo

demo-data: install
	$(CLI) synth --seed 7 --years 3 --end-year 2022 --calls-per-day 300 --out $(DEMO_DIR)
	$(CLI) --db $(DEMO_DB) import boundaries $(DEMO_DIR)/districts.geojson --kind district --name demo-districts
	$(CLI) --db $(DEMO_DB) import boundaries $(DEMO_DIR)/beats.geojson --kind beat --name demo-beats
	$(CLI) --db $(DEMO_DB) import boundaries $(DEMO_DIR)/neighborhoods.geojson --kind neighbourhood --name demo-neighbourhoods
	$(CLI) --db $(DEMO_DB) import baltimore-part1 $(DEMO_DIR)/part1_crime.csv
	$(CLI) --db $(DEMO_DB) import cad $(DEMO_DIR)/cad_calls.csv
	$(CLI) --db $(DEMO_DB) zones build --from-db --targets baltimore-2019 --tier micro \
		--start 2020-01-01 --end 2022-12-31 --out $(DEMO_DIR)/zones.geojson > /dev/null
	$(CLI) --db $(DEMO_DB) zones import $(DEMO_DIR)/zones.geojson --name demo-focused-patrol
	echo "$(DEMO_PASSWORD)" | $(CLI) --db $(DEMO_DB) users add $(DEMO_USER) --exist-ok --password-stdin \
		--role analyst --role supervisor --role dispatcher --role records --role auditor
	@echo "demo: sign in at http://$(HOST):$(PORT) as $(DEMO_USER) / $(DEMO_PASSWORD) (synthetic data only)"

serve: install
	$(CLI) --db $(DEMO_DB) serve --host $(HOST) --port $(PORT)

## test: lint, format check, types, then the test suite (SQLite; PostgreSQL too when
## SMART_TEST_POSTGRES_URL is set; tests marked realdata read ../shared/data)
test: lint typecheck
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

## bench: performance figures with a baseline measured in the same run
bench: install
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_compstat.py --keep
	$(BIN)/python benchmarks/bench_simulate.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_zones.py
	$(BIN)/python benchmarks/bench_forecast.py

clean:
	rm -rf $(DEMO_DIR) bench-out .pytest_cache .mypy_cache .ruff_cache
