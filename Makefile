# make run   serve the gateway on $PORT (8000); offline demo upstream when no keys are set
# make test  lint, install what the tests need (scripts/test-deps.sh), run the whole suite
# make bench the benchmark (not part of make test); BENCH_QUICK=1 for a short check run
# make bench-redis  S4 with and without REDIS_URL
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint bench bench-redis clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.runtime

$(VENV)/.bench: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(PY) -m app

lint: $(VENV)/.test
	$(PY) -m ruff check .

# scripts/test-deps.sh installs what the tests need from Debian (redis-server,
# chromium) when missing.
test: lint
	bash scripts/test-deps.sh
	$(PY) -m pytest

# Debian's nginx, wrk and redis-server (installed when missing), then every scenario, S4
# with Redis included (not when BENCH_ARGS picks scenarios): about 16 minutes.
bench: $(VENV)/.bench
	bash bench/install-tools.sh
	$(PY) -m bench $(if $(BENCH_QUICK),--quick) $(BENCH_ARGS)
	$(PY) -m bench.edits $(if $(BENCH_QUICK),--quick)
	$(if $(BENCH_ARGS),,$(PY) -m bench.redis_compare $(if $(BENCH_QUICK),--quick))

# S4 with and without REDIS_URL (issue 12), redis-server installed when missing: 3 minutes.
bench-redis: $(VENV)/.bench
	bash bench/install-tools.sh
	$(PY) -m bench.redis_compare $(if $(BENCH_QUICK),--quick)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
