# Two entry points a new user needs: `make run` and `make test`.
# Both create .venv and install the project into it on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Some machines (these CI ones) set PYTHONDONTWRITEBYTECODE=1: then every process compiles the
# project again and pytest rewrites every test module's asserts anew, ~9 s per pytest process.
unexport PYTHONDONTWRITEBYTECODE

CHROMIUM := /usr/bin/chromium
EMOJI_FONT := /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test test-fast lint bench clean

$(STAMP): pyproject.toml client/pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e './client[mcp,langgraph,openai-agents]' -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	HITL_POLICY_FILE=$${HITL_POLICY_FILE:-examples/demo-policy.yaml} $(BIN)/hitl dev

# The browser tests drive Debian's chromium through Playwright; Playwright never downloads a browser.
$(CHROMIUM):
	$(SUDO) apt-get install -y -qq chromium || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

# The sandbox shows emoji as Slack does, not as empty boxes: a colour emoji font for chromium.
$(EMOJI_FONT):
	$(SUDO) apt-get install -y -qq fonts-noto-color-emoji || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-noto-color-emoji)

test: $(STAMP) $(CHROMIUM) $(EMOJI_FONT)
	$(BIN)/pytest -n 2

# The developer's loop: unit tests and the SQLite half; no browser, no real worker processes, no
# PostgreSQL, no long simulations. `make test` (and CI) runs all of it. Four workers on two cores:
# most of these tests wait on a subprocess or a socket, not the CPU (measured: -n 2 63 s, -n 4 47 s).
test-fast: $(STAMP)
	HITL_FUZZ_EXAMPLES=10 $(BIN)/pytest -n 4 -m "not postgres and not browser and not worker and not slow" \
	  --ignore=tests/browser

# ruff (pyflakes, pycodestyle, isort, bugbear, pyupgrade), mypy over core/, and the import-linter
# contracts of the dependency rule; all configured in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
