# Vigie — `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HTMX_VERSION ?= 2.0.11
export DJANGO_SETTINGS_MODULE := vigie.settings

.PHONY: bench-seal bench-campaign bench-scale bench-registers bench-size bench-demo bench-portfolio bench-invite bench-import bench-reform bench-xlsx-bomb run test chromium install install-test db db-stop bench lint format lock vendor clean \
	faults faults-quick faults-multi load load-open wrk pgbouncer

$(BIN)/activate:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Vigie needs Python 3.11 or newer (PYTHON=$(PYTHON))."; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "Cannot create a virtualenv: on Debian, sudo apt-get install python3-venv"; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/activate requirements/runtime.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements/runtime.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime requirements/test.lock
	$(BIN)/pip install --quiet -r requirements/test.lock
	touch $@

install: $(VENV)/.runtime
install-test: $(VENV)/.test

# Without DATABASE_URL, `make run` and `make test` start the embedded PostgreSQL under
# var/postgres unless it is up, and stop it on the way out if they started it.
# `make db` starts it and leaves it up (a quicker `make test`, `.venv/bin/vigie` by hand).
db: install
	@$(PY) -m vigie.lib.embedded_pg start

db-stop:
	@[ ! -x $(PY) ] || $(PY) -m vigie.lib.embedded_pg stop

# Migrates, builds the demo portfolio if the database has none, then serves.
run: install
	$(PY) scripts/run.py

# Browser tests drive Debian's Chromium; root installs it, others are told how.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Browser tests need Debian's Chromium: sudo apt-get install chromium"; exit 1; fi; }

test: install-test chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

# Every benchmark prints its figures; each can also run alone.
bench: bench-demo bench-portfolio bench-invite bench-import bench-reform bench-xlsx-bomb bench-registers bench-seal bench-campaign bench-size

bench-demo: install-test
	$(PY) bench/demo_bench.py

bench-portfolio: install-test
	$(PY) bench/run.py

# Each firm's cost as the database grows: 300,000, 1,000,000 and 3,000,000 clients, built
# once under var/bench/ (about 8 GB for the largest; SCALE_SIZES=300k,1m for less), docs/SCALE.md.
SCALE_SIZES ?= 300k,1m,3m
bench-scale: install-test
	$(PY) bench/scale.py --sizes $(SCALE_SIZES) $(SCALE_ARGS)

# The demo firm checked against the sandbox registers at their real limits (about 20 min).
bench-registers: install-test
	$(PY) bench/registers_bench.py

# Mandates sealed with their evidence page, per second (docs/mandates.md).
bench-seal: install-test
	$(PY) bench/seal_bench.py

# A campaign of 5,000 clients: queued, then delivered to a local SMTP server (docs/campaigns.md).
bench-campaign: install-test
	$(PY) bench/campaign_bench.py --clients 5000 --workers 2

# The size of the code; SIZE_COMPARE=/tmp/ref (a worktree of an older commit) sets it beside.
bench-size: install-test
	$(PY) bench/size.py $(if $(SIZE_COMPARE),--compare $(SIZE_COMPARE))

bench-invite: install-test
	$(PY) bench/invite_bench.py --clients 1000

bench-import: install-test
	$(PY) bench/import_bench.py --rows 100000

# The reform dashboard on a firm of 100,000 clients (built once, kept in its database).
bench-reform: install-test
	$(PY) bench/reform_bench.py

# XLSX bombs uploaded to gunicorn on PostgreSQL while another firm's portfolio is timed.
bench-xlsx-bomb: install-test
	$(PY) bench/xlsx_bomb_bench.py

# Fault drills on PostgreSQL with real workers, an SMTP server and the sandbox partner
# (docs/RELIABILITY.md). The full run stops and starts the local PostgreSQL for 5 s.
faults: install-test
	$(PY) -m faults.run $(FAULTS_ARGS)

faults-quick: install-test
	$(PY) -m faults.run --quick

# docs/DEPLOY.md on one machine: PgBouncer, 2 web nodes, 2 workers, 1 sweep.
faults-multi: install-test pgbouncer
	$(PY) -m faults.multi_node

# 60 s at 50 connections against a firm of 100,000 clients (docs/RELIABILITY.md).
load: install-test wrk
	$(PY) -m load.run $(LOAD_ARGS)

# Open model: the highest request rate holding p95 ≤ 100 ms, 0 errors (load/open.py).
load-open: install-test
	$(PY) -m load.open $(LOAD_ARGS)

wrk pgbouncer:
	@command -v $@ >/dev/null 2>&1 || [ -x /usr/sbin/$@ ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $@; \
	  else echo "Needs Debian's $@: sudo apt-get install $@"; exit 1; fi; }

lint: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/lint-imports  # the layers, declared in .importlinter

format: lint

# Regenerate both lock files from pyproject.toml in throw-away virtualenvs.
lock:
	rm -rf /tmp/vigie-lock && $(PYTHON) -m venv /tmp/vigie-lock
	/tmp/vigie-lock/bin/pip install --quiet .
	/tmp/vigie-lock/bin/pip freeze --exclude-editable | grep -v '^vigie' > /tmp/vigie-runtime.txt
	/tmp/vigie-lock/bin/pip install --quiet '.[test]'
	( echo "# Runtime dependencies, pinned. Regenerate with: make lock"; cat /tmp/vigie-runtime.txt ) > requirements/runtime.lock
	( echo "# Test dependencies, pinned (installed on top of runtime.lock). Regenerate with: make lock"; \
	  /tmp/vigie-lock/bin/pip freeze --exclude-editable | grep -v '^vigie' | grep -v -x -F -f /tmp/vigie-runtime.txt ) > requirements/test.lock

# Refresh the vendored htmx from the npm registry.
vendor:
	rm -rf /tmp/vigie-vendor && mkdir -p /tmp/vigie-vendor
	cd /tmp/vigie-vendor && npm pack --silent htmx.org@$(HTMX_VERSION) && tar xzf htmx.org-*.tgz
	cp /tmp/vigie-vendor/package/dist/htmx.min.js static/vendor/htmx-$(HTMX_VERSION).min.js
	@echo "htmx $(HTMX_VERSION) copied; update templates/base.html and static/vendor/README.md."

# Refresh the axe-core the accessibility browser tests inject (tests/vendor/README.md).
NAF_VERSION ?= 1.1.1
AXE_VERSION ?= 4.14.1
.PHONY: vendor-axe vendor-naf
# NAF rev. 2 labels (vigie/registries/data/README.md).
vendor-naf:
	rm -rf /tmp/vigie-vendor-naf && mkdir -p /tmp/vigie-vendor-naf
	cd /tmp/vigie-vendor-naf && npm pack --silent @socialgouv/codes-naf@$(NAF_VERSION) && tar xzf socialgouv-codes-naf-*.tgz
	$(PY) -c "import json, re; rows = json.load(open('/tmp/vigie-vendor-naf/package/index.json', encoding='utf-8')); labels = {r['id']: r['label'] for r in rows if re.fullmatch(r'\d\d\.\d\d[A-Z]', r['id'])}; json.dump(labels, open('vigie/registries/data/naf-rev2.json', 'w', encoding='utf-8'), ensure_ascii=False, indent=0, sort_keys=True); print(len(labels), 'NAF subclasses')"
	@echo "NAF labels $(NAF_VERSION) copied; update vigie/registries/data/README.md."

vendor-axe:
	rm -rf /tmp/vigie-vendor-axe && mkdir -p /tmp/vigie-vendor-axe
	cd /tmp/vigie-vendor-axe && npm pack --silent axe-core@$(AXE_VERSION) && tar xzf axe-core-*.tgz
	rm -f tests/vendor/axe-core-*.min.js
	cp /tmp/vigie-vendor-axe/package/axe.min.js tests/vendor/axe-core-$(AXE_VERSION).min.js
	@echo "axe-core $(AXE_VERSION) copied; update tests/vendor/README.md."

clean: db-stop
	rm -rf $(VENV) var
