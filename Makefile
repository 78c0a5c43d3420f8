# Every target builds .venv itself if it is missing (or older than setup.py).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# The fake Asana (fake_asana/) is not installed with the tap: the tests, the demo and the benchmark
# import it from this checkout.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: test demo bench soak clean contract-check meltano-check postgres-check stitch-check

$(VENV)/.installed: setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

test: $(VENV)/.installed
	$(PY) -m pytest -q -n 4 tests

demo: $(VENV)/.installed
	$(PY) scripts/demo.py

bench: $(VENV)/.installed
	$(PY) bench/run.py $(BENCH_ARGS)

contract-check: $(VENV)/.installed
	$(PY) scripts/contract_check.py

soak: $(VENV)/.installed
	TAP_ASANA_SOAK=1 $(PY) -m pytest -q -s tests/test_faults.py

# Checks against the data stack (not part of `make test`): each tool in its own venv under .tools/.
TOOLS := .tools
$(TOOLS)/%/.installed:
	test -x $(TOOLS)/$*/bin/python || $(PYTHON) -m venv $(TOOLS)/$*
	$(TOOLS)/$*/bin/python -m pip install -q --upgrade pip
	$(TOOLS)/$*/bin/python -m pip install -q '$(PIP_SPEC_$*)'
	touch $@
PIP_SPEC_meltano := meltano>=4.4,<5
PIP_SPEC_target-postgres := meltanolabs-target-postgres>=0.8,<1
PIP_SPEC_target-stitch := target-stitch>=4,<5

meltano-check: $(VENV)/.installed $(TOOLS)/meltano/.installed
	$(PY) scripts/meltano_check.py

postgres-check: $(VENV)/.installed $(TOOLS)/target-postgres/.installed
	$(PY) scripts/postgres_check.py

stitch-check: $(VENV)/.installed $(TOOLS)/target-stitch/.installed
	$(PY) scripts/stitch_check.py $(STITCH_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) demo build *.egg-info .pytest_cache
