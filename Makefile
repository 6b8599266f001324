# `make train`, `make test`, `make studies`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: train test test-slow test-all studies bench bench-backward study-speed tensorboard mutation gpu-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m compileall -q src  # as pip does for an installed package: no compiling at each start where Python may not cache
	touch $(STAMP)

train: $(STAMP)  ## train with the default config; pass overrides as ARGS="loss=square ..."
	$(BIN)/dlstudy-train $(ARGS)

test: $(STAMP)  ## the quick suite (under 3 minutes on 2 cores): all but the `slow` and `slurm` tests, JOBS=2 workers
	$(BIN)/python -m pytest -q -n $(or $(JOBS),2) -m "not slow and not slurm" $(ARGS)

test-slow: $(STAMP)  ## the long end-to-end tests: full-size real data, study claims, SLURM, multi-process runs
	$(BIN)/python -m pytest -q -m "slow or slurm" $(ARGS)

test-all: $(STAMP)  ## both
	$(BIN)/python -m pytest -q $(ARGS)

studies: $(STAMP)  ## run every study and rewrite docs/studies.md; ARGS="lr_stability ..." for some, "--report-only"
	$(BIN)/python -m dlstudy.studies $(ARGS)

bench: $(STAMP)  ## epoch time against a hand-written loop and the torchvision pipeline
	$(BIN)/python scripts/bench.py --tests $(ARGS)

bench-backward: $(STAMP)  ## dlstudy's hand-written backwards (nets.bptt, nets.conv) against torch's in real runs (docs/benchmarks.md)
	$(BIN)/python scripts/bench_backward.py $(ARGS)

study-speed: $(STAMP)  ## each study's sweep on the code before issue #11, then as make studies runs it now; ARGS="lr_stability ..." for some
	$(BIN)/python scripts/study_speed.py $(ARGS)

mutation: $(STAMP)  ## mutation testing of the pure-logic modules (docs/mutation.md); CPU-heavy, runs under nice
	rm -rf mutants
	nice -n 10 $(BIN)/mutmut run --max-children $(or $(JOBS),2)
	$(BIN)/mutmut results

gpu-check: $(STAMP)  ## on a CUDA machine: every GPU test and the GPU benchmark, results in gpu-check.txt
	$(BIN)/python scripts/gpu_check.py $(ARGS)

tensorboard: $(STAMP)  ## serve every run under outputs/ on localhost
	$(BIN)/tensorboard --logdir outputs --host 127.0.0.1

clean:
	rm -rf $(VENV)
