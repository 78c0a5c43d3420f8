# Every target builds .venv itself if it is missing (or older than setup.py).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: test demo bench soak clean

$(VENV)/.installed: setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

test: $(VENV)/.installed
	$(PY) -m pytest -q tests

demo: $(VENV)/.installed
	$(PY) scripts/demo.py

bench: $(VENV)/.installed
	$(PY) bench/run.py $(BENCH_ARGS)

soak: $(VENV)/.installed
	TAP_ASANA_SOAK=1 $(PY) -m pytest -q -s tests/test_faults.py

clean:
	rm -rf $(VENV) demo build *.egg-info .pytest_cache
