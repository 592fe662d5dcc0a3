# macsec-operator: `make demo` shows it working, `make test` checks everything.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
# Captured output of the test runs, scanned for secrets (tests/secrets.txt).
OUTPUT := test-output
CARGO ?= cargo

.PHONY: all build test fmt-check clippy controlplane crds demo sdk-venv conformance lua

all: build

build:
	$(CARGO) build --locked

## Builds etcd, kube-apiserver and kubectl from the Go module proxy into a cache outside
## the clone (~/.cache/macsec-operator); a no-op when they are already there.
controlplane:
	hack/controlplane/build.sh

## Regenerates the committed CRD from the Rust types.
crds:
	$(CARGO) run --locked --quiet -- crd > crds/macseckeybinding.yaml

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --locked --all-targets -- -D warnings

## Format check, lints, the official-SDK conformance tests, and every test, including
## those on the real control plane.
test: fmt-check clippy conformance controlplane lua
	mkdir -p $(OUTPUT)
	$(CARGO) test --locked --all-targets 2>&1 | tee $(OUTPUT)/cargo-test.log
	hack/scan-secrets.sh $(OUTPUT)/cargo-test.log $(OUTPUT)/conformance.log

## The Lua 5.1 interpreter the Argo CD health check tests run (deploy/argocd/health.lua);
## installed with apt-get when missing (CI runs as root on Debian).
lua:
	command -v lua5.1 >/dev/null || (apt-get update -qq && apt-get install -y -qq lua5.1)

## A narrated end-to-end run on a local control plane; stops everything it started.
demo:
	hack/demo.sh

## A Python virtualenv (.venv) with the official Alibaba Cloud Python SDK, pinned in
## conformance/requirements.txt; rebuilt only when that file changes (stamp file).
VENV ?= .venv
VENV_STAMP := $(VENV)/.requirements-installed

sdk-venv: $(VENV_STAMP)

$(VENV_STAMP): conformance/requirements.txt
	python3 -m venv --clear $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-input -r conformance/requirements.txt
	$(VENV)/bin/python -m pip check --disable-pip-version-check
	touch $@

## The signer's vectors and the simulator checked against the official Python SDK.
conformance: sdk-venv build
	mkdir -p $(OUTPUT)
	PYTHONDONTWRITEBYTECODE=1 $(VENV)/bin/python -m pytest conformance -q 2>&1 | tee $(OUTPUT)/conformance.log
