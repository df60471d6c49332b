# Two commands on a fresh machine with python3 (3.10+) and make: `make demo`, `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q --disable-pip-version-check

.PHONY: demo test lit pytest irdl bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) -e .
	touch $@

$(VENV)/.installed-demo: pyproject.toml | $(PY)
	$(PIP) -e '.[demo]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) -e '.[test]'
	touch $@ $(VENV)/.installed $(VENV)/.installed-demo

$(VENV)/.installed-bench: pyproject.toml | $(PY)
	$(PIP) -e '.[bench]'
	touch $@ $(VENV)/.installed

# Trains an MLP on the handwritten digits with a compiled value_and_grad (examples/digits_mlp.py).
demo: $(VENV)/.installed-demo
	$(PY) examples/digits_mlp.py

# lit first, pytest last: the final line is pytest's summary. Two pytest workers (pytest-xdist):
# the suite's compiles are single-threaded, and it must stay under 10 minutes on 2 cores.
test: $(VENV)/.installed-test
	$(VENV)/bin/lit -sv test
	$(PY) -m pytest -n 2

lit: $(VENV)/.installed-test
	$(VENV)/bin/lit -v test

pytest: $(VENV)/.installed-test
	$(PY) -m pytest -n 2

# tgraph against numpy, JAX and PyTorch (benchmarks/README.md); a few minutes. ARGS="--quick" for a smoke run.
bench: $(VENV)/.installed-bench
	$(PY) benchmarks/run.py $(ARGS)

# Regenerate dialect/tg.irdl.mlir and dialect/OPS.md from the Python definition.
irdl: $(VENV)/.installed
	$(PY) -m tgraph.dialect

clean:
	rm -rf $(VENV) build test/**/Output .pytest_cache
