# path3-sandbox: `make help` lists what you can run.
PYTHON ?= python3
VENV := .venv
P3 := $(VENV)/bin/path3-sandbox
OPENCLAW ?= 2026.9.6
FIXTURE ?=
JOBS ?=
STATE ?=
FAULT_RELEASES ?= 2026.9.6 2026.9.5

.DEFAULT_GOAL := help
.PHONY: help venv engine image smoke prove-upgrade repro fixtures-capture test test-matrix test-faults test-reported bench unit clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'
	@echo "  variables: OPENCLAW=$(OPENCLAW) (npm version, dist-tag or .tgz), FIXTURE, JOBS (prove-upgrade), STATE (repro),"
	@echo "             FAULT_RELEASES=\"$(FAULT_RELEASES)\" (test-faults)"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed ## create .venv with path3-sandbox installed (editable)

$(VENV)/.bench-installed: $(VENV)/.installed
	$(VENV)/bin/pip install -q -e '.[test,bench]'
	touch $@

engine: venv ## find the Docker engine; on a bare Debian box as root, install and start one
	$(P3) engine

image: engine ## build (or reuse) the Gateway image for OPENCLAW
	$(P3) image build --openclaw $(OPENCLAW)

smoke: engine ## start OPENCLAW's Gateway on an empty state and wait until ready
	$(P3) smoke --openclaw $(OPENCLAW)

prove-upgrade: engine ## prove OPENCLAW upgrades every fixture (the main job); FIXTURE="a b" for some, JOBS=N at once
	$(P3) prove --openclaw $(OPENCLAW) $(foreach f,$(FIXTURE),--fixture $(f)) $(if $(JOBS),--jobs $(JOBS))

repro: engine ## reproduce a reported migration bug: make repro STATE=path/to/.openclaw-or-archive
	@test -n "$(STATE)" || { echo "usage: make repro STATE=path/to/state-dir-or-archive [OPENCLAW=version]" >&2; exit 2; }
	$(P3) repro "$(STATE)" --openclaw $(OPENCLAW)

fixtures-capture: engine ## re-capture every fixtures/recipes/<name>.json with its writer release
	@set -e; for recipe in fixtures/recipes/*.json; do \
	  $(P3) fixtures capture --recipe "$$recipe" --name "$$(basename "$$recipe" .json)" --replace; \
	done

test: engine ## the whole test suite, Docker integration tests included
	$(VENV)/bin/pytest

test-matrix: engine ## the heavier upgrade paths, the round trips, the release matrix and compat (pinned findings; about 35 min)
	$(VENV)/bin/pytest -m paths_matrix

test-faults: engine ## the whole fault catalogue on each of FAULT_RELEASES (40-60 min each on 2 cores)
	@status=0; for release in $(FAULT_RELEASES); do $(P3) faults --openclaw $$release || status=1; done; exit $$status

test-reported: engine ## every upstream report in fixtures/reported/ on the releases it names: red with its symptom where reported, green where fixed (about 15 min on 2 cores; README)
	$(P3) reported

bench: engine $(VENV)/.bench-installed ## import scaling of OPENCLAW: 10, 100, 1000 and 5000 sessions × 20 events, 15 min limit each (long; README, Import scaling)
	$(P3) bench --openclaw $(OPENCLAW) --sessions 10,100,1000,5000 --events 20

unit: venv ## unit tests only (no Docker)
	$(VENV)/bin/pytest tests/unit

clean: venv ## remove containers and volumes left by dead runs
	$(P3) clean
