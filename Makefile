# Everything a fresh clone needs: `make serve` and `make test` create .venv and install first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint bench clean

$(STAMP): pyproject.toml tests/e2e/node/package.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@command -v psql >/dev/null || (apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null) || echo "warning: psql not installed; its tests will fail"
	@command -v pgbench >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null) || echo "warning: pgbench not installed; its tests will skip"
	@(command -v java >/dev/null && test -f /usr/share/java/postgresql.jar) || (apt-get update -qq && apt-get install -y -qq default-jdk-headless libpostgresql-jdbc-java >/dev/null) || echo "warning: java or pgjdbc not installed; pgjdbc tests will skip"
	@if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix tests/e2e/node || echo "warning: npm install failed; node-postgres tests will fail"; else echo "warning: npm not installed; node-postgres tests will skip"; fi
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/sqlvec serve --host 127.0.0.1 --port 5433 --data ./data

test: $(STAMP)
	$(BIN)/ruff check sqlvec tests benchmarks
	$(BIN)/ruff format --check sqlvec tests benchmarks
	$(BIN)/mypy sqlvec
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check sqlvec tests benchmarks
	$(BIN)/ruff format --check sqlvec tests benchmarks
	$(BIN)/mypy sqlvec

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) data
