# Two commands on a fresh machine: `make demo` (analyse the bundled samples) and `make test`.
# Both create the virtual environment first if it is missing, from the pinned lock file.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.narrascope-installed
SCALE_STAMP := $(VENV)/.narrascope-scale-installed

.PHONY: demo test lint bench venv clean scale

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	$(BIN)/narrascope analyze examples/ --out out/examples.html
	$(BIN)/narrascope analyze examples/ --out out/examples.jsonl --no-progress
	$(BIN)/narrascope analyze examples/ --no-progress
	@echo "HTML report: out/examples.html   JSONL: out/examples.jsonl"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# the tests run --engine ray against --engine local, so they install the scale extra
# into the test environment (the default install and `make demo` do without it)
test: scale lint
	$(BIN)/python -m pytest -q

# the scale extra (ray, pyarrow) for analyze --engine ray and Parquet output
scale: $(SCALE_STAMP)

$(SCALE_STAMP): $(STAMP) requirements-scale.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-scale.txt
	touch $(SCALE_STAMP)

# each benchmark below runs in turn and writes its block of docs/benchmarks.md; one whose
# data (../shared) or extra is missing is skipped with the reason, one that fails does not
# stop the rest, and a summary ends the run (benchmarks/run_all.py). Several take minutes.
BENCHMARKS ?= bench_narratives bench_entities bench_techniques bench_encoder bench_ingest \
	bench_hate bench_threads bench_comment_claims bench_claims bench_store_writers \
	bench_custom_narratives bench_long_texts bench_debunks bench_ray

bench: $(STAMP)
	-$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	-$(MAKE) scale
	$(BIN)/python benchmarks/run_all.py $(BENCHMARKS)

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
