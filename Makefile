# Two entry points (README): `make demo` and `make test`. Both build .venv first. `make test-fast`
# is the quick loop: the same suite without the tests marked slow (trainings, exports, Chromium,
# the demo, end-to-end worker runs, and the moto-stack variants whose local twin stays in).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch lies on local disk; pinning it keeps pip from pulling a CUDA build.
TORCH := torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: demo review test test-fast lint bench docs system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[all]'
	# tesserocr keeps Tesseract's models loaded between images (OCR 0.95 s vs 1.27 s a photo). Built
	# against the system Tesseract the OCR defaults were measured on: PyPI's wheel bundles
	# another version that reads fewer words (docs/ocr.md). Without the headers: pytesseract.
	if pkg-config --exists tesseract lept 2>/dev/null; then \
		$(BIN)/python -m pip install --quiet --no-binary tesserocr 'tesserocr>=2.6'; fi
	touch $(STAMP)

# Debian packages the tests and the demo need: tesseract with English and Malay (OCR) and its
# headers (tesserocr is built against them), DejaVu fonts (synthetic receipts), chromium (the
# report's and the review app's browser tests). Only as root.
SYSTEM_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-msa libtesseract-dev \
	libleptonica-dev pkg-config g++ fonts-dejavu-core chromium
system-deps:
	@if [ "$$(id -u)" = "0" ] && ! dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	fi

test: system-deps $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

test-fast: system-deps $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -m "not slow"

demo: system-deps $(STAMP)
	bash scripts/demo.sh

# The label review app on the demo's data (or REVIEW_HOME): http://127.0.0.1:8765/
REVIEW_HOME ?= $(or $(DEMO_HOME),.receipts/demo)
review: $(STAMP)
	RECEIPTS_HOME=$(REVIEW_HOME) $(BIN)/layoutlm-cli review $(if $(REVIEWER),--reviewer $(REVIEWER))

lint: $(STAMP)
	$(BIN)/ruff check .

# Every script in benchmarks/ → benchmarks/RESULTS.md. `make bench BENCH_ARGS=--quick` for
# smaller sizes.
bench: system-deps $(STAMP)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

# docs/cli.md from the parsers themselves (tests/scripts/test_cli_docs.py fails when stale).
docs: $(STAMP)
	$(BIN)/python scripts/gen_cli_docs.py

clean:
	rm -rf $(VENV) .receipts build dist src/*.egg-info
