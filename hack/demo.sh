#!/usr/bin/env bash
# `make demo`: a real control plane, the MacsecKeyBinding CRD, and a binding applied with
# kubectl, narrated for someone who has never seen the project. Stops all it started.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
run() { printf '$ %s\n' "$*"; "$@"; }

work=$(mktemp -d -t macsec-demo.XXXXXX)
cp_pid=""
cleanup() {
  local status=$?
  if [ -n "$cp_pid" ]; then kill -TERM "$cp_pid" 2>/dev/null || true; wait "$cp_pid" 2>/dev/null || true; fi
  rm -rf "$work"
  if [ "$status" = 0 ]; then step "Done: everything the demo started has stopped."; else echo "demo failed (exit $status)" >&2; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "Building the operator and the local control plane (etcd + kube-apiserver; the first build takes a while)"
cargo build --locked --quiet
hack/controlplane/build.sh > /dev/null

step "Starting a local Kubernetes control plane on loopback, RBAC on"
setpriv --pdeathsig TERM hack/controlplane/start.sh "$work/controlplane" > "$work/controlplane.out" &
cp_pid=$!
for _ in $(seq 600); do
  grep -qx ready "$work/controlplane.out" && break
  kill -0 "$cp_pid" 2>/dev/null || { echo "the control plane did not start" >&2; exit 1; }
  sleep 0.2
done
grep -qx ready "$work/controlplane.out" || { echo "the control plane did not become ready in 120 s" >&2; exit 1; }
export KUBECONFIG=$work/controlplane/kubeconfig
# The kubectl built with the control plane, of the same minor version as the API server.
PATH="$(dirname "$(sed -n 's/^kubectl: //p' "$work/controlplane.out")"):$PATH"
kc() { run kubectl "$@"; }

step "Installing the MacsecKeyBinding CRD"
kc apply -f crds/
kc wait --for=condition=Established crd/macseckeybindings.macsec.expressconnect.io --timeout=60s

step "Applying a binding for one key on circuit pc-bp1hp0wr072f6abcd"
cat > "$work/binding.yaml" <<'YAML'
apiVersion: macsec.expressconnect.io/v1alpha1
kind: MacsecKeyBinding
metadata:
  name: port-1-key-a
spec:
  regionId: cn-hangzhou
  physicalConnectionId: pc-bp1hp0wr072f6abcd
  cipherSuite: GCM-AES-128
  ckn: 0123456789ABCDEF0123456789ABCDEF
YAML
cat "$work/binding.yaml"
kc apply -f "$work/binding.yaml"
kc get mkb

step "The API server itself refuses a CKN of the wrong length for its cipher suite"
sed -e 's/GCM-AES-128/GCM-AES-256/' -e 's/port-1-key-a/port-1-key-b/' "$work/binding.yaml" > "$work/invalid.yaml"
grep -E 'name:|cipherSuite:|ckn:' "$work/invalid.yaml"
if kubectl apply -f "$work/invalid.yaml" 2> "$work/refused.txt"; then
  echo "the invalid binding was accepted" >&2; exit 1
fi
cat "$work/refused.txt"
grep -q 'spec.ckn' "$work/refused.txt"

step "Deleting the binding"
kc delete mkb port-1-key-a --timeout=60s
kc get mkb
