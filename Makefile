# drugradar: the two commands are `make demo` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean browser

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/drugradar replay $(DATA)
	$(BIN)/drugradar stats
	$(BIN)/drugradar resolve Imlygic
	$(BIN)/drugradar resolve pembrolizumub
	$(BIN)/drugradar resolve "niraparib tosylate"
	$(BIN)/drugradar events --trial NCT05935098
	$(BIN)/drugradar events --since 2026-02-01 --min-materiality high --limit 15
	$(BIN)/drugradar events --family dictionary --limit 8
	$(BIN)/drugradar status Imlygic --limit 15
	$(BIN)/drugradar unresolved --limit 15
	$(BIN)/drugradar status imatinib --limit 10
	$(BIN)/drugradar interactions "talimogene laherparepvec" warfarin prednisone
	$(BIN)/drugradar drug Lipitor > lipitor.json && echo "Lipitor's profile: lipitor.json"
	$(BIN)/drugradar users demo
ifneq ($(SERVE),0)
	@echo "Starting the worker (worker.log) and the server on http://127.0.0.1:8000/ (Ctrl-C stops both)"
	@$(BIN)/drugradar worker > worker.log 2>&1 & WPID=$$!; \
	  trap 'kill $$WPID 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/drugradar serve --host 127.0.0.1 --port 8000
endif

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Debian's chromium drives the browser tests (Playwright never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -qq || true; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: lint browser
	$(BIN)/pytest -n 2 --dist loadgroup --backend=sqlite --backend=postgresql --pg-url=$(PG_URL) $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py --data $(DATA)/vocab --pg-url=$(PG_URL) --out bench/results.json $(if $(ONLY),--only $(ONLY))
	@if [ -f drugradar.db ]; then $(BIN)/python bench/bench_web.py --db sqlite:///drugradar.db --out bench/results_web.json; \
	  else echo "web latency: run make demo first (it builds drugradar.db)"; fi

clean:
	rm -rf $(VENV) drugradar.db drugradar.db-wal drugradar.db-shm drugradar-queue.db* worker.log
