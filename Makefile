# The commands a user needs: `make crawl`, `make test`, `make demo`. Each sets itself up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-packages crawl demo test eval eval-real bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("newscrawl needs Python 3.11 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,scrapyd,bench,web]'
	@touch $(STAMP)

# The live crawl of every registered French source (SOURCES=lopinion,lematin for some):
# database data/newscrawl.db, one CSV per run under data/exports/.
crawl: setup
	$(BIN)/scrapy crawl maghress $(if $(SOURCES),-a sources=$(SOURCES))

# The same crawl, offline, against the bundled fixture copy of both sites.
demo: setup
	$(BIN)/newscrawl demo

# The servers the tests start (PostgreSQL, Redis, Chromium) come from Debian's packages: installed when
# missing and run as root, else one line naming the apt-get command (.ci/system-packages).
system-packages:
	@bash .ci/system-packages

test: setup system-packages
	$(BIN)/python -m pytest

# The quality gate's table: per publisher parser, per field, accuracy over the golden pages.
eval: setup
	$(BIN)/python -m newscrawl.ops.evaluate tests/golden

# The generic extractor on real pages beside bare trafilatura (a measurement: the corpus is not part of the
# project). CORPUS=../shared/corpus by default; MISSES=1 lists the wrong fields page by page; TITLES=1 adds how
# far a title rule deciding by agreement alone can go on these pages.
eval-real: setup
	$(BIN)/python -m newscrawl.ops.evaluate_real $(or $(CORPUS),../shared/corpus) $(if $(MISSES),--misses) $(if $(TITLES),--titles)

# Measurements; each writes its table into docs/performance.md.
# N=articles in the mirror (default 2000), SCALE=size factor of the second run (default 5),
# PROFILE=1: py-spy profiles of both spiders, their difference per function in the table.
bench: setup
	$(BIN)/python -m bench.dates
	N=$(or $(N),2000) SCALE=$(or $(SCALE),5) PROFILE=$(PROFILE) $(BIN)/python -m bench.crawl
	$(BIN)/python -m bench.backfill
	SEARCH_N=$(or $(SEARCH_N),100000) $(BIN)/python -m bench.search
	REVISIT_N=$(or $(REVISIT_N),10000) $(BIN)/python -m bench.revisits

clean:
	rm -rf $(VENV) build *.egg-info
