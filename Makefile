# incidentkit: `make test` and `make report` each build the environment they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: env test lint typecheck unit report notebooks bench captures figures screenshot sanitize fuzz clean

env: $(STAMP)

$(STAMP): pyproject.toml setup.py incidentkit/parse/_fastscan.c incidentkit/parse/_fastpcap.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check incidentkit tests scripts benchmarks fuzz
	$(BIN)/ruff format --check incidentkit tests scripts benchmarks fuzz

typecheck: $(STAMP)
	$(BIN)/mypy

# the suite on every core, each test file whole on one (its module fixtures run once)
unit: $(STAMP)
	$(BIN)/pytest -n auto --dist loadfile
	$(BIN)/pytest -p no:cacheprovider --nbval notebooks --nbval-sanitize-with notebooks/nbval_sanitize.cfg

test: lint typecheck unit

# The follow-up report for the seed's log, with the seed's facts: reports/yummyrecipesforme.html
report: $(STAMP)
	$(BIN)/incidentkit report data/yummyrecipesforme_dns_icmp.log -o reports/yummyrecipesforme.html \
	    -p site_domain yummyrecipesforme.com -p reported_at "1:24 PM" \
	    -p symptom "destination port unreachable"

# Rewrite the notebooks in notebooks/ and execute them on the seed's log (for nbval).
notebooks: $(STAMP)
	$(BIN)/python scripts/build_notebooks.py

# Speed, side by side in one run: reading (docs/performance.md, docs/performance-pcap.md) and
# Dask against one machine (docs/scaling.md); not part of `make test`.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_parse.py
	$(BIN)/python benchmarks/bench_pcap.py
	$(BIN)/python benchmarks/bench_dask.py

# The README's figures, drawn from the seed's log.
figures: $(STAMP)
	$(BIN)/python scripts/make_figures.py docs/img

# The README's screenshot of the seed's report, taken in headless Chromium.
screenshot: report
	$(BIN)/python scripts/screenshot_report.py reports/yummyrecipesforme.html docs/img/report.png

# The C scanner under AddressSanitizer and UBSan, over tcpdump's corpus, the scenarios and
# hostile lines (also part of `make test`).
sanitize: $(STAMP)
	$(BIN)/pytest tests/test_hostile.py -k sanitizers

# Coverage-guided fuzzing of the C scanner for FUZZ_SECONDS (default 60; not part of
# `make test`): atheris and libFuzzer over a clang build with ASan and UBSan, findings in
# fuzz/findings/. Installs clang (apt-get, as root) and atheris (into .venv) when missing.
fuzz: $(STAMP)
	$(BIN)/python fuzz/run.py

# Re-record data/scenarios/ with real tools in network namespaces (root only).
captures:
	bash scripts/capture_scenarios.sh data/scenarios

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info incidentkit/parse/*.so fuzz/.build
