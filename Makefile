# minqing: two commands.
#   make demo   installs what is missing, starts a private PostGIS (unless DATABASE_URL is
#               set), loads the Shanwei demo and serves http://localhost:8080
#   make test   runs every test (lint, unit, integration against real PostGIS)

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
LISTEN ?= 0.0.0.0:8080

.PHONY: demo test deps build lint unit bench bench-tiles clean-test-db

deps:
	@./scripts/install-deps.sh

build: deps
	cargo build --release

demo: build
	./target/release/minqing demo --listen $(LISTEN)

lint: deps
	cargo fmt --all --check
	cargo clippy --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --quiet

# Tests share one private PostgreSQL under target/test-pg (or DATABASE_URL's server);
# it is stopped afterwards even when a test fails.
test: lint
	@if command -v cargo-nextest >/dev/null; then \
	  cargo nextest run --workspace --no-fail-fast; rc=$$?; \
	else \
	  cargo test --workspace --no-fail-fast; rc=$$?; \
	fi; \
	./scripts/stop-test-pg.sh; exit $$rc

bench: build
	./benches/run.sh

# Tile benchmarks only (needs the data set that `make bench` generates).
bench-tiles: build
	./benches/tiles.sh

clean-test-db:
	./scripts/stop-test-pg.sh
	rm -rf target/test-pg target/*.lock
