# `make train`, `make test`, `make studies`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: train test studies bench tensorboard clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

train: $(STAMP)  ## train with the default config; pass overrides as ARGS="loss=square ..."
	$(BIN)/dlstudy-train $(ARGS)

test: $(STAMP)  ## the whole test suite
	$(BIN)/python -m pytest -q $(ARGS)

studies: $(STAMP)  ## run every study and rewrite docs/studies.md; ARGS="lr_stability ..." for some, "--report-only"
	$(BIN)/python -m dlstudy.studies $(ARGS)

bench: $(STAMP)  ## epoch time against a hand-written loop and the torchvision pipeline
	$(BIN)/python scripts/bench.py --tests $(ARGS)

tensorboard: $(STAMP)  ## serve every run under outputs/ on localhost
	$(BIN)/tensorboard --logdir outputs --host 127.0.0.1

clean:
	rm -rf $(VENV)
