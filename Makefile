# minqing: two commands.
#   make demo   installs what is missing, starts a private PostGIS (unless DATABASE_URL is
#               set), loads the Shanwei demo and serves http://localhost:8080
#   make test   runs every test (lint, unit, integration against real PostGIS)

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
LISTEN ?= 0.0.0.0:8080
# A fresh build gains nothing from incremental caches (2-3 GB on disk); set
# CARGO_INCREMENTAL=1 to keep them while iterating.
export CARGO_INCREMENTAL ?= 0

.PHONY: demo test deps test-deps build web lint unit bench bench-tiles clean-test-db fuzz

deps:
	@./scripts/install-deps.sh

# What the tests need on top: Debian's Chromium for the browser tests.
test-deps:
	@./scripts/install-deps.sh --test

# The web app (web/dist), built with npm from the committed lockfile; `npm ci` runs only
# when the lockfile changed since the last install.
web: deps
	@cd web && if [ ! -e node_modules/.minqing-stamp ] || [ package-lock.json -nt node_modules/.minqing-stamp ]; then \
	  npm ci --no-audit --no-fund && touch node_modules/.minqing-stamp; fi
	cd web && npm run build

build: deps web
	cargo build --release

demo: build
	./target/release/minqing demo --listen $(LISTEN)

lint: deps
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --quiet
	python3 scripts/module-cycles.py

# Tests share one private PostgreSQL under target/test-pg (or DATABASE_URL's server);
# it is stopped afterwards even when a test fails.
test: test-deps web lint
	@if command -v cargo-nextest >/dev/null; then \
	  cargo nextest run --workspace --no-fail-fast; rc=$$?; \
	else \
	  cargo test --workspace --no-fail-fast; rc=$$?; \
	fi; \
	./scripts/stop-test-pg.sh; exit $$rc

# Schemathesis against the OpenAPI document for longer than `make test` does
# (tests/openapi.rs): FUZZ_SECONDS a role (default 300), FUZZ_EXAMPLES cases per operation and
# phase (default 100); failures in target/fuzz-findings.md.
FUZZ_SECONDS ?= 300
FUZZ_EXAMPLES ?= 100
fuzz: deps
	@MINQING_FUZZ_SECONDS=$(FUZZ_SECONDS) MINQING_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
	  cargo nextest run --test openapi schemathesis --no-capture; rc=$$?; \
	./scripts/stop-test-pg.sh; exit $$rc

bench: build
	./benches/run.sh

# Tile benchmarks only (needs the data set that `make bench` generates).
bench-tiles: build
	./benches/tiles.sh

clean-test-db:
	./scripts/stop-test-pg.sh
	rm -rf target/test-pg target/*.lock
