# Every target creates .venv and installs what it needs: a fresh machine needs only Python and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test fuzz bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/encola demo

# Test processes side by side (pytest-xdist), each test file whole in one of them so that its
# module's servers and databases start once. The suite mostly waits on the servers it starts, so
# more processes than cores pays; TEST_WORKERS=0 runs it all in this one process.
TEST_WORKERS ?= 4
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The fuzz and property tests with many more examples than CI's (HYPOTHESIS_PROFILE in tests/conftest.py).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/fuzz tests/unit -k "fuzz or propert" $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
