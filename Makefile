# make site   – set up .venv, train + capture, render, write the article into site/
# make share  – make site, then the whole article as one self-contained HTML file in share/ (mail it, open it anywhere)
# make test   – the test suite (browser tests skip with a hint when Chromium is absent)
# make lint   – ruff check (rules in pyproject.toml)
# make messages – extract the article's words into locale/messages.pot and update each edition's catalogue (locale/zh/…)
# make lock   – recompile requirements.txt (pinned, with hashes) from requirements.in
# make bench  – benchmarks, results in bench/results.md
# make serve  – serve site/ on http://127.0.0.1:8000
# make seeds  – the configuration of ARGS trained over seeds 0-4 into build-seeds/ (sweep.json); make site then says how the claims fare across them
# make compare – the article's CNN and examples/relu_glorot.py trained into build-compare/, compared in site-compare/
# Variables: PYTHON (interpreter that creates the venv), ARGS (extra generate.py flags, e.g. ARGS="--steps 40"),
#            UV (the uv that installs the venv; found on PATH, `make UV=` installs with pip instead),
#            LOCK_ARGS (extra flags for make lock, e.g. LOCK_ARGS="--upgrade-package keras"),
#            TF (cpu, the default: tensorflow-cpu in .venv; gpu: TensorFlow's CUDA build in .venv-gpu, from
#            requirements-gpu.txt, e.g. `make site TF=gpu`; the two venvs never mix, so switching is free),
#            TEST_WORKERS (pytest-xdist workers of make test, default 3; 0 = one process).

PYTHON ?= python3
TF ?= cpu
ifeq ($(TF),cpu)
VENV := .venv
REQUIREMENTS := requirements.txt
else ifeq ($(TF),gpu)
VENV := .venv-gpu
REQUIREMENTS := requirements-gpu.txt
else
$(error TF must be cpu or gpu, not "$(TF)")
endif
PY := $(VENV)/bin/python
ARGS ?=
PORT ?= 8000
TEST_WORKERS ?= 3
UV ?= $(shell command -v uv 2>/dev/null)
LOCK_PYTHON ?= 3.11
LOCK_ARGS ?=
PIP_INSTALL = $(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r $(REQUIREMENTS)
UV_INSTALL = $(UV) pip install --quiet --python $(PY) --require-hashes --compile-bytecode -r $(REQUIREMENTS)

.PHONY: site share capture render compare seeds test lint lock bench serve clean distclean messages

# The venv is always made by $(PYTHON) -m venv (so it has the interpreter's own pip); uv, when installed
# (a PyPI package: `python3 -m pip install --user uv`), fills it about twice as fast as pip. Both check every
# file against requirements.txt's hashes, so they install the same files; if uv fails, pip finishes the job.
$(VENV)/.installed: $(REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(if $(UV),$(UV_INSTALL) || { echo "uv failed; installing with pip instead" >&2; $(PIP_INSTALL); },$(PIP_INSTALL))
	touch $@

# generate.py decides what is stale: it reuses build/capture.h5 when config and training code
# match, re-renders only when the capture changed, and always rewrites the (cheap) article.
# Training runs in its own process, so TensorFlow's memory is returned before rendering starts
# (the second command reuses the capture and never imports TensorFlow).
# Under --strategy multiworker every worker trains on every run (the chief cannot reuse an archive while
# the others train), so the whole job is one process there: the chief then renders, the others stop.
site: $(VENV)/.installed
ifeq (,$(findstring multiworker,$(ARGS)))
	$(PY) generate.py capture $(ARGS)
endif
	$(PY) generate.py site $(ARGS)

# The site as above, then share/<run>.html: the same article with its styles, scripts, figures and explorer data
# inside (ARGS="--public-url https://..." links the videos and model it leaves out to the published site).
share: $(VENV)/.installed
ifeq (,$(findstring multiworker,$(ARGS)))
	$(PY) generate.py capture $(ARGS)
endif
	$(PY) generate.py share $(ARGS)

capture: $(VENV)/.installed
	$(PY) generate.py capture $(ARGS)

render: $(VENV)/.installed
	$(PY) generate.py render $(ARGS)

# Two runs on the bundled data, each trained in its own process and then rendered (as `make site` does), then one page
# with both side by side (generate.py compare): the article's tanh CNN and examples/relu_glorot.py. ARGS reach both runs.
COMPARE_RUN = --dataset bundled $(ARGS)
RELU_MODEL = --model examples/relu_glorot.py:build
compare: $(VENV)/.installed
	$(PY) generate.py capture --build-dir build-compare/tanh $(COMPARE_RUN)
	$(PY) generate.py render --build-dir build-compare/tanh $(COMPARE_RUN)
	$(PY) generate.py capture --build-dir build-compare/relu $(RELU_MODEL) $(COMPARE_RUN)
	$(PY) generate.py render --build-dir build-compare/relu $(RELU_MODEL) $(COMPARE_RUN)
	$(PY) generate.py compare build-compare/tanh build-compare/relu --site-dir site-compare

# One configuration (ARGS, as for make site) over seeds 0-4, each in build-seeds/seed-N/ (a fresh archive is reused), then
# build-seeds/sweep.json; `make site` with the same ARGS then states in how many seeds each claim holds.
SEEDS ?= 0-4
seeds: $(VENV)/.installed
	$(PY) generate.py sweep --seeds $(SEEDS) $(ARGS)

# Three pytest-xdist workers, each test file on one worker (its module fixtures are made once), handed out longest
# file first (tests/conftest.py's order, which --no-loadscope-reorder keeps); the short real run the tests share is
# built once for all (tests/conftest.py). Three on two cores, because a worker waiting on Chromium's clock (videos
# playing, the moment's animation) or on a child process leaves a core idle: measured here, 2 workers 291-298 s,
# 3 workers 284 s, 4 workers 310 s. TEST_WORKERS=0 runs everything in one process.
test: $(VENV)/.installed
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder tests

# The editions' catalogues (report/voice.py): extract every marked message of templates/ and report/ into
# locale/messages.pot, then merge it into each edition's locale/<locale>/LC_MESSAGES/messages.po (zh_Hans_CN for the Chinese edition), whose new or
# changed entries a translator then fills in (tests/test_catalogues.py fails on any left empty or fuzzy).
# No compile step: the site compiles the .po files in memory.
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg --sort-by-file --no-wrap --project "Watch a network learn to see" \
	    -o locale/messages.pot .
	$(VENV)/bin/pybabel update --no-wrap --ignore-obsolete -i locale/messages.pot -d locale -D messages

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# Keeps every version already pinned in requirements.txt; resolves for Linux and Python $(LOCK_PYTHON), as CI
# runs; then requirements-gpu.txt (constrained by requirements.txt, for Linux x86_64, where NVIDIA's wheels are). With uv when it is installed, else with pip-tools (pip-compile; run it under Python $(LOCK_PYTHON)).
lock:
	@if [ -n "$(UV)" ]; then \
	    $(UV) pip compile --quiet --generate-hashes --python-version $(LOCK_PYTHON) --python-platform linux \
	        --custom-compile-command "make lock" $(LOCK_ARGS) requirements.in -o requirements.txt && \
	    $(UV) pip compile --quiet --generate-hashes --python-version $(LOCK_PYTHON) \
	        --python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock" $(LOCK_ARGS) \
	        requirements-gpu.in -o requirements-gpu.txt; \
	elif command -v pip-compile >/dev/null 2>&1; then \
	    CUSTOM_COMPILE_COMMAND="make lock" pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	        --no-emit-index-url --no-emit-find-links $(LOCK_ARGS) -o requirements.txt requirements.in && \
	    CUSTOM_COMPILE_COMMAND="make lock" pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	        --no-emit-index-url --no-emit-find-links $(LOCK_ARGS) -o requirements-gpu.txt requirements-gpu.in; \
	else \
	    echo "make lock needs uv or pip-tools: python3 -m pip install --user uv" >&2; exit 1; \
	fi

bench: $(VENV)/.installed
	$(PY) bench/run.py

serve:
	$(PY) -m http.server --bind 127.0.0.1 --directory site $(PORT)

# Removes build/, site/, share/ and make compare's folders only when they carry the tool's marker (a folder of yours by
# that name is kept).
clean:
	$(PYTHON) -m pipeline.clean build site share build-compare/tanh build-compare/relu site-compare \
	    $(wildcard build-seeds/seed-*)
	@rmdir build-compare 2>/dev/null || true
	@rm -f build-seeds/sweep.json; rmdir build-seeds 2>/dev/null || true

distclean: clean
	rm -rf .venv .venv-gpu node_modules
