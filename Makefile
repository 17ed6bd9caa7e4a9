# Two commands for a fresh clone:  `make site` builds the article, `make test` runs the tests.
# Each bootstraps what it needs (a .venv with the project, Debian's chromium for the browser tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CONFIG ?= configs/default.toml
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: site test chromium reference-site bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

site: $(STAMP)
	$(BIN)/python -m exporters build --config $(CONFIG)

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q

chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

reference-site: $(STAMP)
	$(BIN)/python -m exporters build --config configs/reference.toml

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf site build .cache
