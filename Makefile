# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STORE  ?= ./data/store
HOST   ?= 127.0.0.1
PORT   ?= 8080
BASE_URI ?= http://$(HOST):$(PORT)/

.PHONY: run test install install-test load serve bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

# Loads the bundled sample feeds (Bristol, North Lincolnshire) and serves them.
load: install
	LOCALOFFER_STORE=$(STORE) LOCALOFFER_BASE_URI=$(BASE_URI) $(BIN)/localoffer ingest \
	    $$($(BIN)/python -c 'from localoffer.resources import data_folder; print(data_folder("samples") / "bristol-services-2024-12.json")') \
	    --authority E06000023
	LOCALOFFER_STORE=$(STORE) LOCALOFFER_BASE_URI=$(BASE_URI) $(BIN)/localoffer ingest \
	    $$($(BIN)/python -c 'from localoffer.resources import data_folder; print(data_folder("samples") / "north-lincolnshire-services-2024-12.json")') \
	    --authority E06000013

serve: install
	LOCALOFFER_STORE=$(STORE) LOCALOFFER_BASE_URI=$(BASE_URI) $(BIN)/localoffer serve --host $(HOST) --port $(PORT)

run: load serve

# REQUIRE_SYSTEM=1 (set by .ci/run) turns skips for missing system packages into failures.
# The suite runs in TEST_WORKERS processes (pytest-xdist), a test file per process at a time,
# so a file's fixtures (stores, servers) are built once: about half the time on 2 cores.
TEST_WORKERS ?= 2
test: install-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The benchmarks' peers (oxigraph, rdflib-endpoint); wrk comes from Debian (apt-get install wrk).
# See bench/README.md for each script and the latest figures.
bench: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) build dist *.egg-info data
