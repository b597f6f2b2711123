# Two commands matter (see README.md):
#   make dev   — build and run the product locally (embedded backends, no AWS, no Docker)
#   make test  — install what the tests need and run every test
# Every target is idempotent and works as root on a fresh Debian machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
CARGO ?= cargo
# Run apt-get directly as root, through sudo otherwise.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help dev test test-rust test-web test-fuzz fuzz fuzz-deps lint-template sam-build arm64-target deps system-deps venv web-deps web-build web-types gateway services-up services-down clean lambdas bench bench-search bench-deps screenshots deploy-web smoke test-deploy-web

help:
	@echo "make dev    build and run the local gateway + web client on http://127.0.0.1:8080"
	@echo "make test   install test dependencies, start moto + redis, run every test"
	@echo "make fuzz   run each fuzz target for five minutes (make test runs them for seconds)"
	@echo "make web-types  regenerate web/src/api/wire.ts from the Rust wire types, then type-check the web client"
	@echo "make deploy-web STACK=<name>  upload the web client to a deployed stack (after sam deploy)"
	@echo "make smoke STACK=<name>  run the smoke suite against a deployed stack (URL=<gateway> for a local one)"
	@echo "make screenshots  refresh web/docs/screenshots from a fresh gateway (browser test 12 alone)"

# ---------------------------------------------------------------------------------------
# Dependencies
# ---------------------------------------------------------------------------------------

# Debian packages: redis-server (registry tests), openssl (certificates for the TLS Redis
# tests), chromium (browser tests).
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: infra/test-services/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r infra/test-services/requirements.txt
	touch $@

venv: $(VENV)/.installed

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web-deps: $(if $(wildcard web/package.json),web/node_modules/.installed,)

deps: system-deps venv web-deps

# ---------------------------------------------------------------------------------------
# Run
# ---------------------------------------------------------------------------------------

web-build: web-deps
	@if [ -f web/package.json ]; then cd web && npm run --silent build; fi

gateway:
	$(CARGO) build -p local-gateway

# The web client's wire types are generated from the Rust views, events and actions
# (ts-rs). `make test` fails while the committed file is stale (and where it disagrees
# with openapi.yaml); this rewrites it and shows where the client no longer fits.
web-types: web-deps
	WRITE_DOCS=1 $(CARGO) test -q -p integration-tests --test web_wire_types the_web_clients_wire_types_are_the_rust_ones
	cd web && npx vue-tsc --noEmit -p tsconfig.app.json

dev: web-build gateway
	./target/debug/local-gateway $(ARGS)

# ---------------------------------------------------------------------------------------
# Deployed stacks (after `sam build && sam deploy`; see README "Deploy for your clients")
# ---------------------------------------------------------------------------------------

# The aws CLI: the one on PATH, else the test venv's.
AWS_CLI = $(shell command -v aws 2>/dev/null || echo $(VENV)/bin/aws)

# Uploads web/dist to the stack's web bucket with its config.json (hashed assets
# immutable, index.html and config.json revalidated), then invalidates CloudFront.
deploy-web: web-build
	@[ -n "$(STACK)" ] || { echo "usage: make deploy-web STACK=<stack name>"; exit 2; }
	infra/deploy-web.sh "$(STACK)"

# The smoke suite against a deployed stack (two throwaway Cognito users), or with URL= a
# running local gateway (`make dev`). Prints a pass/fail table; fails if a step fails.
smoke:
	@if [ -n "$(URL)" ]; then \
	  $(CARGO) run -q -p smoke -- --local "$(URL)"; \
	else \
	  [ -n "$(STACK)" ] || { echo "usage: make smoke STACK=<stack name>   (or URL=http://127.0.0.1:8080)"; exit 2; }; \
	  outputs=$$(mktemp); trap 'rm -f "$$outputs"' EXIT; \
	  "$(AWS_CLI)" cloudformation describe-stacks --stack-name "$(STACK)" --query 'Stacks[0].Outputs' --output json > "$$outputs"; \
	  $(CARGO) run -q -p smoke -- --outputs "$$outputs"; \
	fi

# ---------------------------------------------------------------------------------------
# Test
# ---------------------------------------------------------------------------------------

# Starts moto and redis-server on free loopback ports for the whole run, runs the suites
# against them, and stops them whatever happens.
test: deps
	@eval "$$(infra/test-services/start.sh)"; \
	trap 'infra/test-services/stop.sh' EXIT; \
	echo "moto at $$AWS_ENDPOINT_URL, redis at $$REDIS_URL"; \
	$(MAKE) --no-print-directory test-rust test-web lint-template test-deploy-web
	$(MAKE) --no-print-directory test-fuzz
	$(MAKE) --no-print-directory sam-build

test-rust:
	$(CARGO) test --workspace --no-fail-fast

# Fuzzing (cargo fuzz, libFuzzer, on the stable toolchain without a sanitizer): one target
# per thing clients send (fuzz/fuzz_targets). `make test` runs each for FUZZ_SECONDS, `make
# fuzz` for five minutes; the corpus grows in target/fuzz-corpus/ (from fuzz/seeds/), and an
# input that crashes is kept in target/fuzz-artifacts/ and fails the run.
FUZZ_TARGETS := text_fields cursors ws_frames bearer_tokens
FUZZ_SECONDS ?= 10

fuzz-deps:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install -q cargo-fuzz --locked --version 0.13.2

test-fuzz: fuzz-deps
	@cd fuzz && export CARGO_TARGET_DIR=$(CURDIR)/target/fuzz; \
	$(CARGO) fuzz build --sanitizer none; \
	for t in $(FUZZ_TARGETS); do \
	  corpus=$(CURDIR)/target/fuzz-corpus/$$t; artifacts=$(CURDIR)/target/fuzz-artifacts/$$t; \
	  mkdir -p $$corpus $$artifacts; \
	  if ! $(CARGO) fuzz run --sanitizer none $$t $$corpus seeds/$$t -- -max_total_time=$(FUZZ_SECONDS) \
	      -max_len=8192 -artifact_prefix=$$artifacts/ > $(CURDIR)/target/fuzz-$$t.log 2>&1; then \
	    tail -n 40 $(CURDIR)/target/fuzz-$$t.log; echo "fuzz target $$t failed: see $$artifacts"; exit 1; \
	  fi; \
	  echo "fuzz $$t: $$(grep -E '^Done' $(CURDIR)/target/fuzz-$$t.log), 0 crashes"; \
	done

# The REST bodies go through the real routers (proptest: they need the whole service),
# 256 bodies in `make test`, 100,000 here.
fuzz:
	$(MAKE) --no-print-directory test-fuzz FUZZ_SECONDS=300
	PROPTEST_CASES=100000 $(CARGO) test -q -p integration-tests --test fuzz_rest_bodies

# The browser tests start the gateway binary themselves (target/debug/local-gateway).
test-web: gateway
	@if [ -f web/package.json ]; then $(MAKE) --no-print-directory web-build && cd web && npm run --silent test:unit && npm run --silent test:e2e; fi

# The README's screenshots: browser test (12) alone against a fresh gateway, so the pictures
# show the demo data and that test's conversation rather than every other test's.
screenshots: system-deps web-build gateway
	cd web && E2E_SCREENSHOTS_DIR=docs/screenshots npx vitest run --config vitest.e2e.config.ts -t '\(12\)' tests/e2e/messaging.e2e.ts

# Zero errors and zero warnings from both linters (offline; no AWS credentials needed).
# deploy-web.sh against moto: config.json from a stack's outputs, cache headers, stale
# files removed, the CloudFront invalidation (needs AWS_ENDPOINT_URL: run inside `make test`).
test-deploy-web: venv
	infra/deploy-web-test.sh

lint-template: venv
	$(VENV)/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(VENV)/bin/sam validate --lint

# `sam build` twice from this checkout, as a SAM user runs it: every function builds
# (cargo-lambda, arm64, release), then the second build takes every one from SAM's cache.
sam-build: venv arm64-target
	infra/sam/build-check.sh

# The Rust standard library for arm64 Lambda (cargo-lambda cross-compiles with zig).
arm64-target:
	@rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu

services-up: venv system-deps
	@infra/test-services/start.sh

services-down:
	@infra/test-services/stop.sh

# ---------------------------------------------------------------------------------------
# Build for AWS and benchmark
# ---------------------------------------------------------------------------------------

FUNCTIONS := $(notdir $(wildcard functions/*))

# arm64 `bootstrap` binaries for every function (what `sam build` produces), with
# cargo-lambda from PyPI (it brings zig as the cross linker).
lambdas: venv arm64-target
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo-lambda lambda build --release --arm64 $(addprefix -p ,$(FUNCTIONS))
	@for f in $(FUNCTIONS); do printf "%-16s %s bytes\n" $$f $$(stat -c %s target/lambda/$$f/bootstrap); done

bench-deps: venv system-deps
	cd bench/socketio-baseline && npm ci --no-audit --no-fund --loglevel=error
	$(CARGO) build --profile fast -p local-gateway -p loadgen
	$(CARGO) build --release $(addprefix -p ,$(FUNCTIONS))

# Both systems at each load point, cold starts, request accounting; writes bench/results/.
# `make bench ARGS=--quick` finishes in under a minute (once built).
bench: bench-deps
	@ulimit -n 65536 2>/dev/null || true; \
	eval "$$(infra/test-services/start.sh)"; \
	trap 'infra/test-services/stop.sh' EXIT; \
	if [ -z "$(filter --quick,$(ARGS))" ]; then \
	  ./target/fast/loadgen coldstart --out bench/results $(addprefix target/release/,$(FUNCTIONS)); \
	  ./target/fast/loadgen accounting --out bench/results; \
	  ./target/fast/loadgen search --out bench/results; \
	fi; \
	./target/fast/loadgen suite --out bench/results $(ARGS)
	@echo "wrote bench/results/RESULTS.md and bench/results/latency.svg"

# The embedded search index alone at 10^5 and 10^6 messages (docs/search.md): size,
# indexing rate, query p50/p99. No services needed; about two minutes once built.
bench-search:
	$(CARGO) build --profile fast -p loadgen
	./target/fast/loadgen search --out bench/results $(ARGS)

clean:
	rm -rf target web/dist .test-services
