# The one door to every command. Each target is idempotent.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup fonts chromium compile etl report test lab bench docs findings clean

setup: $(STAMP) fonts compile  ## virtualenv, packages, Jupyter kernel "selfeval", CJK font, compiled parser

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name selfeval --display-name "selfeval (Python 3)" >/dev/null
	touch $(STAMP)

fonts:  ## charts need a CJK font: Debian's fonts-noto-cjk
	@fc-list 2>/dev/null | grep -q "Noto Sans CJK" || { \
	  echo "installing fonts-noto-cjk (Chinese text in charts)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fonts-noto-cjk >/dev/null; \
	  rm -rf $${HOME}/.cache/matplotlib; }  # so matplotlib re-scans the fonts

chromium:  ## briefing PDFs, screenshots and tests/test_browser.py: Debian's chromium, driven by playwright
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (headless browser for PDFs and the browser tests)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The parser compiled with mypyc into build/compiled (selfeval/compiled.py): rebuilt when a
# parser source changed, a no-op otherwise. Without a C compiler it warns and the parser
# runs as Python (same tables, slower), so this never stops the other targets.
# (SELFEVAL_PURE_PYTHON: its own import of selfeval need not load, or warn about, the old build)
compile: $(STAMP)  ## compile the parser (mypyc) if its sources changed
	-@SELFEVAL_PURE_PYTHON=1 $(PY) -m selfeval.compiled

etl: setup  ## data/raw -> data/processed
	$(PY) etl.py

report: etl chromium  ## every notebook x parameter set -> reports/html, reports/index.html
	@$(PY) -m selfeval.reports

test: setup chromium  ## the test suite
	$(PY) -m pytest -q

lab: setup  ## JupyterLab on the project, with its kernel
	$(VENV)/bin/jupyter lab --notebook-dir=.

bench: setup  ## ETL and report timings from 70 to 100,000 forms -> bench/results.csv
	$(PY) -m bench.run

findings: etl  ## the "what the seed data shows" list quoted in the README
	$(PY) -m selfeval.findings --update-readme

docs: setup  ## regenerate docs/data_dictionary.md from selfeval/schema.py
	$(PY) -c "from selfeval import schema; open('docs/data_dictionary.md','w',encoding='utf-8').write(schema.data_dictionary_markdown())"

clean:  ## remove build products (keeps data/raw)
	rm -rf data/processed/* reports/* build/
	touch data/processed/.gitkeep reports/.gitkeep
