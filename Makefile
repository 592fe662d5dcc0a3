# macsec-operator: `make demo` shows it working, `make test` checks everything.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: all build test fmt-check clippy controlplane crds demo clean-cache

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

## Format check, lints, and every test, including those on the real control plane.
test: fmt-check clippy controlplane
	$(CARGO) test --locked --all-targets

## A narrated end-to-end run on a local control plane; stops everything it started.
demo:
	hack/demo.sh
