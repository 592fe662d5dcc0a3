#!/usr/bin/env bash
# Runs a real Kubernetes control plane (etcd + kube-apiserver, RBAC on) on loopback, for
# tests and the demo. Free ports, a fresh directory, a self-made CA, and an admin token in
# system:masters.
#
# Usage: start.sh [DIR]
#   DIR (optional) holds the certificates, data, logs and `kubeconfig`; it is kept at exit
#   so logs can be read. Without DIR a temporary directory is used and removed at exit.
#
# Prints `kubeconfig: PATH` and then `ready` once /readyz answers, then stays in the
# foreground. It stops both servers when it exits for any reason: SIGTERM, SIGINT, a server
# dying, or its own parent dying (start it under `setpriv --pdeathsig TERM` for that). The
# servers carry a death signal of their own, so even a SIGKILL of this script stops them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=$("$here/build.sh" | tail -n 1)

if [ $# -ge 1 ]; then
  dir=$1; keep_dir=1
  mkdir -p "$dir"
else
  dir=$(mktemp -d -t macsec-controlplane.XXXXXX); keep_dir=0
fi
dir=$(cd "$dir" && pwd)

pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ "${#pids[@]}" -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    # Give the servers five seconds to stop cleanly, then make sure, and reap them.
    for _ in $(seq 50); do
      running=0
      for pid in "${pids[@]}"; do
        state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
        [ -n "$state" ] && [ "$state" != Z ] && running=1
      done
      [ "$running" = 0 ] && break
      sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  [ "$keep_dir" = 1 ] || rm -rf "$dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Certificates: a CA, the API server's serving certificate for 127.0.0.1, and the
# service-account signing key (token requests need it).
pki="$dir/pki"
mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=macsec-operator-test-ca" -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=kube-apiserver" -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$pki/apiserver.ext"
openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
  -days 2 -extfile "$pki/apiserver.ext" -out "$pki/apiserver.crt" 2>/dev/null
openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
token=$(openssl rand -hex 24)
echo "$token,admin,admin,system:masters" > "$pki/tokens.csv"

etcd_port=$(free_port)
peer_port=$(free_port)
api_port=$(free_port)

setpriv --pdeathsig KILL "$bin/etcd" \
  --name controlplane \
  --data-dir "$dir/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "controlplane=http://127.0.0.1:$peer_port" \
  --unsafe-no-fsync \
  > "$dir/etcd.log" 2>&1 &
pids+=($!)

setpriv --pdeathsig KILL "$bin/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --secure-port "$api_port" \
  --bind-address 127.0.0.1 \
  --advertise-address 127.0.0.1 \
  --tls-cert-file "$pki/apiserver.crt" \
  --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" \
  --service-cluster-ip-range 10.0.0.0/24 \
  --authorization-mode RBAC \
  --token-auth-file "$pki/tokens.csv" \
  --disable-admission-plugins ServiceAccount \
  --service-account-issuer https://kubernetes.default.svc \
  --service-account-key-file "$pki/sa.pub" \
  --service-account-signing-key-file "$pki/sa.key" \
  > "$dir/kube-apiserver.log" 2>&1 &
pids+=($!)

cat > "$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: local
    cluster:
      server: https://127.0.0.1:$api_port
      certificate-authority-data: $(base64 -w0 < "$pki/ca.crt")
users:
  - name: admin
    user:
      token: $token
contexts:
  - name: local
    context:
      cluster: local
      user: admin
      namespace: default
current-context: local
EOF

# Wait for /readyz, but give up at once if a server died.
deadline=$((SECONDS + 120))
until curl -sf --cacert "$pki/ca.crt" -H "Authorization: Bearer $token" \
    "https://127.0.0.1:$api_port/readyz" > /dev/null 2>&1; do
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      log=$([ "$i" = 0 ] && echo etcd.log || echo kube-apiserver.log)
      echo "control plane: a server exited during start; last lines of $log:" >&2
      tail -n 20 "$dir/$log" >&2
      exit 1
    fi
  done
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "control plane: /readyz did not answer within 120 s; see $dir/kube-apiserver.log" >&2
    exit 1
  fi
  sleep 0.2
done

echo "kubeconfig: $dir/kubeconfig"
echo "kubectl: $bin/kubectl"
echo "ready"

# Stay up until a signal arrives or one of the servers stops.
set +e
wait -n "${pids[@]}"
echo "control plane: a server stopped unexpectedly; see $dir" >&2
exit 1
