#!/usr/bin/env bash
# `make demo`: the operator end to end on this machine, narrated for someone who has never
# seen the project. A real Kubernetes control plane, the project's Alibaba Cloud simulator
# (seeded with one circuit carrying one key) and the operator; a binding is applied, becomes
# Ready, and is deleted, which takes its key off the circuit. Each step is checked; the demo
# exits 0 only if every one really happened, and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
run() { printf '$ %s\n' "$*"; "$@"; }
fail() { echo "demo failed: $*" >&2; exit 1; }

work=$(mktemp -d -t macsec-demo.XXXXXX)
pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" = 0 ]; then
    rm -rf "$work"
    step "Done: the control plane, the simulator and the operator have stopped."
  else
    echo "demo failed (exit $status); logs kept in $work" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for FILE REGEX SECONDS: until a line of FILE matches.
wait_for() {
  local deadline=$((SECONDS + $3))
  until grep -qE "$2" "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

step "Building the operator and the local control plane (the first build takes several minutes)"
cargo build --locked --quiet
bin=target/debug/macsec-operator
[ -n "${CARGO_TARGET_DIR:-}" ] && bin=$CARGO_TARGET_DIR/debug/macsec-operator
hack/controlplane/build.sh > /dev/null

step "Starting a local Kubernetes control plane (etcd + kube-apiserver v1.36, RBAC on)"
setpriv --pdeathsig TERM hack/controlplane/start.sh "$work/controlplane" > "$work/controlplane.out" &
pids+=($!)
wait_for "$work/controlplane.out" '^ready$' 180 || fail "the control plane did not start; see $work/controlplane"
export KUBECONFIG=$work/controlplane/kubeconfig
# The kubectl built with the control plane, of the same minor version as the API server.
PATH="$(dirname "$(sed -n 's/^kubectl: //p' "$work/controlplane.out")"):$PATH"
kc() { run kubectl "$@"; }
kc apply -f crds/macseckeybinding.yaml
kc wait --for=condition=Established crd/macseckeybindings.macsec.expressconnect.io --timeout=60s

step "Starting the Alibaba Cloud VPC API simulator: circuit pc-bp1hp0wr072f6abcd with key 0123…CDEF associated"
cat > "$work/seed.yaml" <<'YAML'
accessKeys:
  - id: LTAI5tDemoKeyId
    secret: DemoSecretValueNotForProduction
circuits:
  - regionId: cn-hangzhou
    physicalConnectionId: pc-bp1hp0wr072f6abcd
    status: Enabled
    keys:
      - ckn: 0123456789ABCDEF0123456789ABCDEF
        cak: FEDCBA9876543210FEDCBA9876543210
        cipherSuite: GCM-AES-128
        status: Associated
YAML
setpriv --pdeathsig TERM "$bin" sim --listen 127.0.0.1:0 --seed "$work/seed.yaml" > "$work/sim.log" 2>&1 &
pids+=($!)
wait_for "$work/sim.log" 'listening on ' 30 || fail "the simulator did not start: $(cat "$work/sim.log")"
endpoint="http://$(sed -n 's/.*listening on //p' "$work/sim.log" | head -n 1)"
echo "simulator at $endpoint"
# The simulator's own view of the circuit (its test-only admin API), for before and after.
show_circuit() {
  echo "keys on pc-bp1hp0wr072f6abcd, as the cloud (simulator) holds them:"
  curl -sf "$endpoint/_sim/state" | python3 -c 'import json, sys
for circuit in json.load(sys.stdin)["circuits"]:
    for key in circuit["keys"]:
        print("  CKN %s  %s" % (key["ckn"], key["status"]))'
}
show_circuit

step "Starting the operator (macsec-operator run), with the simulator as its VPC endpoint"
ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tDemoKeyId ALIBABA_CLOUD_ACCESS_KEY_SECRET=DemoSecretValueNotForProduction \
  setpriv --pdeathsig TERM "$bin" run --vpc-endpoint "$endpoint" --metrics-address 127.0.0.1:0 > "$work/operator.log" 2>&1 &
pids+=($!)
wait_for "$work/operator.log" 'starting the controller' 30 || fail "the operator did not start: $(cat "$work/operator.log")"
metrics="http://$(sed -n 's/.*serving \/metrics.*address=\([^ ]*\).*/\1/p' "$work/operator.log" | head -n 1)"
echo "operator running, /metrics at $metrics/metrics (its log is kept in $work if the demo fails)"

step "1. Applying a CAK Secret and a binding for a new key on the circuit"
echo '$ kubectl create secret generic port-1-key-b-cak --from-literal=cak=<32 hex characters>'
kubectl create secret generic port-1-key-b-cak --from-literal=cak=0F1E2D3C4B5A69780F1E2D3C4B5A6978
echo "(the CAK is read by the operator only to send it; it is never logged or stored in status)"
cat > "$work/binding.yaml" <<'YAML'
apiVersion: macsec.expressconnect.io/v1alpha1
kind: MacsecKeyBinding
metadata:
  name: port-1-key-b
spec:
  regionId: cn-hangzhou
  physicalConnectionId: pc-bp1hp0wr072f6abcd
  cipherSuite: GCM-AES-128
  ckn: AAAABBBBCCCCDDDDEEEEFFFF00001111
  cakSecretRef:
    name: port-1-key-b-cak
  deletionPolicy: Disassociate
YAML
cat "$work/binding.yaml"
kc apply -f "$work/binding.yaml"

step "2. Waiting for Ready: the operator associates the key (AssociateMacSecKey) and reads it back"
kc wait --for=condition=Ready mkb/port-1-key-b --timeout=60s

step "3. What kubectl shows"
kc get mkb
printf '$ kubectl get mkb port-1-key-b -o yaml   # the status part\n'
kubectl get mkb port-1-key-b -o yaml | sed -n '/^status:/,$p'
[ "$(kubectl get mkb port-1-key-b -o jsonpath='{.status.keyStatus}')" = Associated ] || fail "the key is not Associated"

show_circuit

step "4. Deleting the binding: its finalizer holds it until the cloud confirms the key is off"
kc get mkb port-1-key-b -o jsonpath='{.metadata.finalizers}'
echo
kc delete mkb port-1-key-b --timeout=60s

step "5. The simulator's record of the call, and the object is gone"
grep 'action=DisassociateMacSecKey' "$work/sim.log" | grep 'code=OK' || fail "no DisassociateMacSecKey call was made"
kc get mkb
kubectl get mkb port-1-key-b > /dev/null 2>&1 && fail "the binding still exists"
show_circuit
echo "(the cloud put the other key back in use by itself, as the API reference says)"
for secret in DemoSecretValueNotForProduction 0F1E2D3C4B5A69780F1E2D3C4B5A6978; do
  if grep -q "$secret" "$work/operator.log" "$work/sim.log"; then fail "a secret reached a log"; fi
done
echo "(checked: neither the access key secret nor the CAK appears in the operator's or the simulator's log)"

step "6. What the operator counted: a scrape of its /metrics"
printf '$ curl -s %s/metrics | grep ...\n' "$metrics"
curl -sf "$metrics/metrics" > "$work/metrics.txt" || fail "cannot scrape $metrics/metrics"
grep -E '^macsec_(cloud_calls_total|reconciles_total|bindings|oldest_blocked_deletion_seconds|leader)' "$work/metrics.txt" || true
# metric VALUE: the sample of that exact series, 0 when it is absent.
metric() { awk -v series="$1" '$1 == series { print $2; found = 1 } END { if (!found) print 0 }' "$work/metrics.txt"; }
# The sample's value as the simulator counted the same calls.
sim_calls() { curl -sf "$endpoint/_sim/calls" | python3 -c 'import json, sys; print(sum(json.load(sys.stdin).get(sys.argv[1], {}).values()))' "$1"; }
for action in DescribePhysicalConnections AssociateMacSecKey DisassociateMacSecKey; do
  counted=$(metric "macsec_cloud_calls_total{action=\"$action\",code=\"OK\"}")
  served=$(sim_calls "$action")
  [ "$counted" = "$served" ] || fail "the operator counted $counted $action calls, the simulator served $served"
done
[ "$(metric 'macsec_cloud_calls_total{action="AssociateMacSecKey",code="OK"}')" = 1 ] || fail "expected one AssociateMacSecKey"
[ "$(metric 'macsec_cloud_calls_total{action="DisassociateMacSecKey",code="OK"}')" = 1 ] || fail "expected one DisassociateMacSecKey"
[ "$(metric 'macsec_oldest_blocked_deletion_seconds')" = 0.0 ] || [ "$(metric 'macsec_oldest_blocked_deletion_seconds')" = 0 ] || fail "a deletion is still blocked"
for secret in DemoSecretValueNotForProduction 0F1E2D3C4B5A69780F1E2D3C4B5A6978; do
  if grep -q "$secret" "$work/metrics.txt"; then fail "a secret reached the metrics"; fi
done
echo "(checked: one association and one disassociation, every call the simulator served counted, no deletion blocked, no secret)"

step "7. Stopping everything the demo started"
