# Two commands: `make run` and `make test`. Everything else is installed by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/eventops run

test: install
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check app schema resolvers jobs migrations tests bench
	$(BIN)/mypy app schema resolvers jobs

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .var
