# Two commands: `make run` and `make test`. Everything else is a step of those.
VENV ?= .venv
PYTHON ?= python3
PORT ?= 8000
export YIJIAN_DATABASE_URL ?= sqlite:///var/yijian.db

.PHONY: install run test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

run: install
	$(VENV)/bin/yijian db upgrade
	$(VENV)/bin/yijian demo
	$(VENV)/bin/yijian serve --port $(PORT)

test: install
	VENV=$(VENV) bash scripts/test.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy app

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
