# The one door to every command. Each target is idempotent.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SELFEVAL := $(VENV)/bin/selfeval
STAMP  := $(VENV)/.installed

.PHONY: setup fonts chromium compile etl report test lab bench docs findings clean

setup: $(STAMP) fonts compile  ## virtualenv, packages, Jupyter kernel "selfeval", CJK font, compiled parser

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name selfeval --display-name "selfeval (Python 3)" >/dev/null
	touch $(STAMP)

# fonts-wqy-zenhei: a TrueType CJK font with Latin glyphs, which the PDF test fixtures
# embed (tests/fixtures/render.py; fpdf2 needs TrueType, Noto CJK is CFF)
fonts:  ## charts need a CJK font: Debian's fonts-noto-cjk; PDF test fixtures fonts-wqy-zenhei
	@{ fc-list 2>/dev/null | grep -q "Noto Sans CJK" && test -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc; } || { \
	  echo "installing fonts-noto-cjk (Chinese text in charts) and fonts-wqy-zenhei (PDF test fixtures)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fonts-noto-cjk fonts-wqy-zenhei >/dev/null; \
	  rm -rf $${HOME}/.cache/matplotlib; }  # so matplotlib re-scans the fonts

chromium:  ## briefing PDFs, screenshots and tests/test_browser.py: Debian's chromium, driven by playwright
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (headless browser for PDFs and the browser tests)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The ETL's hot sub-packages compiled with mypyc beside their sources (selfeval/compiled.py):
# rebuilt when a source changed, a no-op otherwise. Without a C compiler it warns and the
# package runs as Python (same tables, slower), so this never stops the other targets.
compile: $(STAMP)  ## compile the parser (mypyc) if its sources changed
	-@$(SELFEVAL) compile

etl: setup  ## data/raw -> data/processed
	$(SELFEVAL) etl

report: etl chromium  ## every notebook x parameter set -> reports/html, reports/index.html
	@$(SELFEVAL) report

test: setup chromium  ## the test suite
	$(PY) -m pytest -q

lab: setup  ## JupyterLab on the project, with its kernel
	$(VENV)/bin/jupyter lab --notebook-dir=.

bench: setup  ## ETL and report timings, 70 to 100,000 forms and one 100,000-form file -> bench/results.csv; 1,000 forms as PDF and .docx -> bench/documents.csv
	$(PY) -m bench.run
	$(PY) -m bench.run --sizes 100000 --no-notebooks --one-file
	$(PY) -m bench.documents --forms 1000 --formats pdf docx

findings: etl  ## the "what the seed data shows" list quoted in the README
	$(SELFEVAL) findings --update-readme

docs: setup  ## regenerate docs/data_dictionary.md from selfeval/schema/fields.py
	$(SELFEVAL) docs

clean:  ## remove build products (keeps data/raw)
	rm -rf data/processed/* reports/* build/
	find selfeval -name '*.so' -delete; rm -f selfeval/.compiled.json
	touch data/processed/.gitkeep reports/.gitkeep
