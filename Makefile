# SupTech Warehouse: `make demo` and `make test` bootstrap everything from a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
DEMO_HOME ?= $(CURDIR)/var/demo
DEMO_PRESET ?= small
DEMO_SEED ?= 1
export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

.PHONY: setup setup-browser setup-web demo test lint format dbt-parse dev clean docs reliability serve bench bench-resubmission bench-pandera parity

setup: $(VENV)/.installed

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.8

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

# Debian's chromium for the browser tests of the HTML reports (apt, as root or through sudo).
setup-browser:
	@if [ -x /usr/bin/chromium ]; then echo "chromium: $$(/usr/bin/chromium --version 2>/dev/null)"; else \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends chromium; fi

# The portal's chart scripts (vega, vega-lite, vega-embed, vega-interpreter) from npm, served locally.
WEB := pipelines/portal/web
setup-web: $(WEB)/node_modules/.installed
$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error
	touch $@

dbt-parse: setup
	cd dbt_project && SUPTECH_WAREHOUSE=$${SUPTECH_WAREHOUSE:-/tmp/suptech-parse.duckdb} ../$(BIN)/dbt parse --quiet --profiles-dir .

demo: setup dbt-parse
	rm -rf "$(DEMO_HOME)"
	$(BIN)/suptech synth --home "$(DEMO_HOME)" --preset $(DEMO_PRESET) --seed $(DEMO_SEED)
	$(BIN)/suptech run --home "$(DEMO_HOME)" --backfill
	$(BIN)/suptech summary --home "$(DEMO_HOME)"
	$(BIN)/python -m pipelines.portal.demo --home "$(DEMO_HOME)"

test: setup setup-browser setup-web dbt-parse lint
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=15

# The static checks of `make test` (and of the pre-commit hooks): ruff lint and format, mypy over pipelines/
# (pyproject.toml [tool.mypy]), sqlfluff over the dbt models (.sqlfluff: dbt templater, DuckDB dialect).
lint: setup
	$(BIN)/ruff check pipelines tests bench
	$(BIN)/ruff format --check pipelines tests bench
	$(BIN)/mypy
	$(BIN)/sqlfluff lint dbt_project/models

# Benchmarks (bench/harness.py, docs/benchmarks.md): the monthly step at BENCH_SCALE (tiny, small, medium,
# national) against DuckDB's raw read_csv load of the same month, same run. Checks free disk under
# BENCH_ROOT first (outside the repository: a national run needs tens of GB); BENCH_ARGS adds options
# (--enterprises N, --months N, --keep, --min-free-gb G). Results: <BENCH_ROOT>/bench-<scale>-<seed>.{md,json}.
BENCH_SCALE ?= small
BENCH_ROOT ?= $(abspath $(CURDIR)/../bench-runs)
bench: setup dbt-parse
	nice -n 10 $(BIN)/python -m bench.harness --scale $(BENCH_SCALE) --root "$(BENCH_ROOT)" $(BENCH_ARGS)

# Issue 13: one enterprise's corrected resubmission (v2 of the second-to-last month) after a backfill of all
# the months, both measured in the same run (bench/resubmission.py); R-resub = resubmission wall / backfill
# wall, asked <= 0.1 at `small`. Same BENCH_SCALE, BENCH_ROOT and BENCH_ARGS as `bench`.
# Results: <BENCH_ROOT>/bench-resub-<scale>-<seed>.{md,json}.
bench-resubmission: setup dbt-parse
	nice -n 10 $(BIN)/python -m bench.resubmission --scale $(BENCH_SCALE) --root "$(BENCH_ROOT)" $(BENCH_ARGS)

# The same dbt project on Apache Spark (issue 15, docs/scale-out.md): installs the project with the
# optional extra `spark` (dbt-spark with a local PySpark, ~620 MB; Java 17) into its own environment
# .venv-spark (with PySpark importable, Great Expectations imports it, which breaks pytest-xdist workers:
# the default .venv stays without it), generates a `tiny` market with every irregularity class, runs the
# cycle on DuckDB, builds the project on Spark over the open layout and compares fct_indicator_values,
# fct_alerts and fct_risk_scores row for row. PARITY_HOME is replaced.
PARITY_HOME ?= $(CURDIR)/var/parity
SPARK_VENV := .venv-spark
parity: setup
	UV_PROJECT_ENVIRONMENT=$(SPARK_VENV) $(UV) sync --frozen --extra spark --python $(PYTHON)
	$(SPARK_VENV)/bin/python -m pipelines.scaleout.parity --home "$(PARITY_HOME)"

# Issue 13, deliverable 7: the intake's syntax and per-file validity checks written with pandas + pandera
# (schemas built from the contracts) against the intake on the same `medium` month (bench/pandera_checks.py;
# results in docs/benchmarks.md). pandera is the dependency group `bench`, not in the default environment.
bench-pandera: setup
	$(UV) sync --frozen --group bench --python $(PYTHON)
	nice -n 10 $(BIN)/python -m bench.pandera_checks --home "$(BENCH_ROOT)/pandera-medium" $(BENCH_ARGS)

format: setup
	$(BIN)/ruff format pipelines tests bench
	$(BIN)/ruff check --fix pipelines tests bench

docs: setup  # regenerate the generated docs (tests fail when they are stale)
	$(BIN)/python -m pipelines.business_calendar
	$(BIN)/python -m pipelines.quality.catalog.seed
	$(BIN)/python -m pipelines.quality.catalog.render
	$(BIN)/python -m pipelines.reports.filers_guide
	$(BIN)/python -m pipelines.dbt_sources
	$(BIN)/python -m pipelines.docs.indicators_doc
	$(BIN)/python -m pipelines.quality.compiled_macros

dev: setup dbt-parse
	SUPTECH_HOME=$${SUPTECH_HOME:-$(DEMO_HOME)} $(BIN)/dagster dev -w workspace.yaml

# The filing API and portal on 127.0.0.1:$SUPTECH_PORT (default 8000) against $SUPTECH_HOME (default the
# demo's home; sign in with <home>/demo-credentials.json from `make demo`).
serve: setup setup-web
	SUPTECH_HOME=$${SUPTECH_HOME:-$(DEMO_HOME)} $(BIN)/suptech serve --port $${SUPTECH_PORT:-8000}

clean:
	rm -rf $(VENV) $(SPARK_VENV) $(TOOLS) var dbt_project/target dbt_project/logs

# R2 at a larger scale: SIGKILL chains and kills inside dbt on `tiny` synthetic markets, every recovered
# state compared with an uninterrupted run (docs/reliability.md). RELIABILITY_SEEDS / _CHAINS / _KILLS /
# _DBT_KILLS size it; results in var/reliability.jsonl.
RELIABILITY_SEEDS ?= 1,2
RELIABILITY_CHAINS ?= 3
RELIABILITY_KILLS ?= 5
RELIABILITY_DBT_KILLS ?= 2
reliability: setup dbt-parse
	mkdir -p var && rm -f var/reliability.jsonl
	SUPTECH_RELIABILITY=1 SUPTECH_RELIABILITY_SEEDS=$(RELIABILITY_SEEDS) SUPTECH_RELIABILITY_CHAINS=$(RELIABILITY_CHAINS) \
		SUPTECH_RELIABILITY_KILLS=$(RELIABILITY_KILLS) SUPTECH_RELIABILITY_DBT_KILLS=$(RELIABILITY_DBT_KILLS) \
		SUPTECH_RELIABILITY_LOG=$(CURDIR)/var/reliability.jsonl SUPTECH_CYCLE_TIMEOUT=3600 \
		$(BIN)/pytest -q -n 0 -p no:cacheprovider tests/reliability/test_kill_recovery.py -k reliability_tiny_market
	$(BIN)/python -c "import json; rs=[json.loads(l) for l in open('var/reliability.jsonl')]; \
		k=sum(sum(x.endswith('(-9)') for x in r['kills']) for r in rs); \
		print(f'{k} kills in {len(rs)} recoveries compared, {sum(bool(r[\"differences\"]) for r in rs)} with differences')"
