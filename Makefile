# `make demo`: install into .venv and train + evaluate + visualise a model on embedded data.
# `make test`: install into .venv and run the default (fast) test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN ?= runs/demo

.PHONY: install demo test test-all lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml scripts/install_torch.py | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, the build that suits this machine (scripts/install_torch.py says which and why:
	# CPU wheels from PyTorch's CPU index on Linux without an NVIDIA GPU, where a bare `torch`
	# would pull about 3 GB of CUDA packages; VIDIS_TORCH_INDEX=cpu|default|URL overrides it).
	$(BIN)/python scripts/install_torch.py
	# the `video` extra (PyAV) too: the tests write and decode small videos
	$(BIN)/python -m pip install --quiet -e ".[dev,video,tensorboard]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/vidis train --model dvae --preset small --out $(RUN) --overwrite
	$(BIN)/vidis swap $(RUN)
	$(BIN)/vidis interpolate $(RUN) --factor content
	$(BIN)/vidis interpolate $(RUN) --factor motion
	$(BIN)/vidis reconstruct $(RUN)
	$(BIN)/vidis eval $(RUN) --judge
	@echo "demo outputs: $(RUN)/ (report.html opens on the swap grid; metrics.json, figures/, log.csv, checkpoints/)"

test: install
	$(BIN)/python -m pytest -q

test-all: install
	$(BIN)/python -m pytest -q -m ""

lint: install
	$(BIN)/ruff check src tests benchmarks scripts

bench: install
	$(BIN)/python benchmarks/bench_moving_mnist.py

clean:
	rm -rf $(VENV) runs .pytest_cache
