# Two commands for a newcomer:  `make book`  and  `make test`.
# Everything is installed through pip (into .venv/) and npm (into node_modules/);
# nothing else is downloaded, at build time or when a page is opened.

SHELL  := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp
# Third-party JavaScript for the HTML, copied from node_modules/ (both git-ignored).
# _offline/html/ is an html_extra_path, so _offline/html/_static/offline/ ends up
# in _build/html/_static/offline/, where mathjax_path and nb_ipywidgets_js point.
VENDOR := _offline/html/_static/offline
HTMLMGR := node_modules/@jupyter-widgets/html-manager/dist
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider
NOTEBOOKS := $(wildcard chapters/*.ipynb)

# Prefer the venv's own "python3" kernel over any kernel of the same name
# in ~/.local/share/jupyter.
export JUPYTER_PREFER_ENV_PATH := 1

.PHONY: book test browser venv offline clean

book: venv offline
	env -u MPLBACKEND $(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Open _build/html/index.html"

# MPLBACKEND=Agg only for the unit tests: in a notebook it would stop the
# inline backend and drop the figures that the committed outputs contain.
# The browser test checks the built book, so `make test` builds it first
# (`make browser` runs that step alone).
test: venv
ifeq ($(NOTEBOOKS),)
	@echo "No notebooks in chapters/: the nbval step will be skipped."
endif
	MPLBACKEND=Agg $(PYTEST) tests --ignore=tests/test_browser.py
	$(MAKE) --no-print-directory browser
ifneq ($(NOTEBOOKS),)
	env -u MPLBACKEND $(PYTEST) --nbval --nbval-current-env chapters \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg --ignore=_build
endif

# Every page of _build/html in headless Chromium (/usr/bin/chromium, Debian's
# package; the test is skipped, saying so, when it is missing).
browser: book
	$(PYTEST) tests/test_browser.py

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install -e . --no-deps
	touch $@

offline: _offline/.stamp

node_modules/.stamp: package.json $(wildcard package-lock.json)
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --ignore-scripts; \
	else npm install --no-audit --no-fund --ignore-scripts; fi
	touch $@

_offline/.stamp: node_modules/.stamp book_js/widgets-shim.js
	rm -rf _offline
	mkdir -p $(VENDOR)/mathjax $(VENDOR)/requirejs $(VENDOR)/html-manager
	cp -R node_modules/mathjax/es5/. node_modules/mathjax/LICENSE $(VENDOR)/mathjax/
	cp node_modules/requirejs/require.js $(VENDOR)/requirejs/
	cp book_js/widgets-shim.js $(VENDOR)/
	cp $(HTMLMGR)/embed-amd.js $(HTMLMGR)/embed.js.LICENSE.txt \
	    $(HTMLMGR)/*.{woff,woff2,ttf,eot,svg} $(VENDOR)/html-manager/
	touch $@

clean:
	rm -rf _build _offline node_modules .pytest_cache
	@echo "Kept .venv/ (remove it by hand to reinstall from scratch)."
