# Two entry points: `make demo` and `make test`. Both build .venv from the pinned pyproject.toml.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint sysdeps bench clean

$(STAMP): pyproject.toml
	@# A Debian system Python ships venv/ensurepip separately (python3-venv).
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || sh scripts/install-system-deps.sh python3-venv
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian packages the integration tests need (Dovecot as the real IMAP server).
sysdeps:
	@sh scripts/install-system-deps.sh

demo: $(STAMP)
	$(VENV)/bin/mailgate demo

test: $(STAMP) sysdeps
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check gateway tests bench
	$(VENV)/bin/mypy gateway

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) var build *.egg-info
