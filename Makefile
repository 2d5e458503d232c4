# Two entry points (README): `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch lies on local disk; pinning it keeps pip from pulling a CUDA build.
TORCH := torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[all]'
	touch $(STAMP)

# Debian packages the tests need (tesseract with English and Malay for OCR). Only as root.
TESSERACT_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-msa
system-deps:
	@if [ "$$(id -u)" = "0" ] && ! dpkg -s $(TESSERACT_PACKAGES) >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TESSERACT_PACKAGES) >/dev/null; \
	fi

test: system-deps $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	bash scripts/demo.sh

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/store_bench.py

clean:
	rm -rf $(VENV) .receipts build dist src/*.egg-info
