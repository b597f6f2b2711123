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

.PHONY: help dev test test-rust test-web lint-template deps system-deps venv web-deps web-build gateway services-up services-down clean

help:
	@echo "make dev    build and run the local gateway + web client on http://127.0.0.1:8080"
	@echo "make test   install test dependencies, start moto + redis, run every test"

# ---------------------------------------------------------------------------------------
# Dependencies
# ---------------------------------------------------------------------------------------

# Debian packages: redis-server (registry tests), chromium (browser tests).
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
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

dev: web-build gateway
	./target/debug/local-gateway $(ARGS)

# ---------------------------------------------------------------------------------------
# Test
# ---------------------------------------------------------------------------------------

# Starts moto and redis-server on free loopback ports for the whole run, runs the suites
# against them, and stops them whatever happens.
test: deps
	@eval "$$(infra/test-services/start.sh)"; \
	trap 'infra/test-services/stop.sh' EXIT; \
	echo "moto at $$AWS_ENDPOINT_URL, redis at $$REDIS_URL"; \
	$(MAKE) --no-print-directory test-rust test-web lint-template

test-rust:
	$(CARGO) test --workspace --no-fail-fast

test-web:
	@if [ -f web/package.json ]; then $(MAKE) --no-print-directory web-build && cd web && npm run --silent test:unit && npm run --silent test:e2e; fi

# Zero errors and zero warnings from both linters (offline; no AWS credentials needed).
lint-template: venv
	$(VENV)/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(VENV)/bin/sam validate --lint

services-up: venv system-deps
	@infra/test-services/start.sh

services-down:
	@infra/test-services/stop.sh

clean:
	rm -rf target web/dist .test-services
