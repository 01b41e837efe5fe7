# Two commands do all set-up on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
WORLD  := api/web/geo/world.json
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install validate build serve test release clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# The world map's shapes (world-atlas from the npm registry, decoded in Python); see the script.
$(WORLD): $(STAMP) scripts/install_geometry.sh
	bash scripts/install_geometry.sh

install: $(STAMP) $(WORLD)

validate: install
	$(BIN)/dca validate

build: install
	$(BIN)/dca build

serve: build
	$(BIN)/dca serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest

release: install
	$(BIN)/dca release

clean:
	rm -rf build dist .pytest_cache
