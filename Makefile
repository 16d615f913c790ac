# make site   – set up .venv, train + capture, render, write the article into site/
# make test   – the test suite (browser tests skip with a hint when Chromium is absent)
# make bench  – benchmarks, results in bench/results.md
# make serve  – serve site/ on http://127.0.0.1:8000
# Variables: PYTHON (interpreter that creates the venv), ARGS (extra generate.py flags, e.g. ARGS="--steps 40").

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ARGS ?=
PORT ?= 8000

.PHONY: site capture render test bench serve clean distclean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# generate.py decides what is stale: it reuses build/capture.npz when config and training code
# match, re-renders only when the capture changed, and always rewrites the (cheap) article.
# Training runs in its own process, so TensorFlow's memory is returned before rendering starts
# (the second command reuses the capture and never imports TensorFlow).
site: $(VENV)/.installed
	$(PY) generate.py capture $(ARGS)
	$(PY) generate.py site $(ARGS)

capture: $(VENV)/.installed
	$(PY) generate.py capture $(ARGS)

render: $(VENV)/.installed
	$(PY) generate.py render $(ARGS)

test: $(VENV)/.installed
	$(PY) -m pytest -q tests

bench: $(VENV)/.installed
	$(PY) bench/run.py

serve:
	$(PY) -m http.server --bind 127.0.0.1 --directory site $(PORT)

clean:
	rm -rf build site

distclean: clean
	rm -rf $(VENV) node_modules
