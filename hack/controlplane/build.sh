#!/usr/bin/env bash
# Builds the test control plane (etcd, kube-apiserver, kubectl) from the Go module proxy
# into a cache outside the clone, keyed by version, so a second build costs nothing.
# Prints the directory holding the three binaries on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
module_version() { (cd "$here/$1" && go list -mod=mod -m -f '{{.Version}}' "$2"); }
k8s_version=$(module_version kubernetes k8s.io/kubernetes)
etcd_version=$(module_version etcd go.etcd.io/etcd/server/v3)
case "$k8s_version/$etcd_version" in v1.*/v3.*) ;; *) echo "cannot read the pinned versions ($k8s_version, $etcd_version)" >&2; exit 1 ;; esac
cache=${MACSEC_OPERATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/macsec-operator}
bin="$cache/controlplane/k8s-$k8s_version-etcd-$etcd_version"

export CGO_ENABLED=0 GOFLAGS=-mod=mod
mkdir -p "$bin"

# build MODULE_DIR PACKAGE OUTPUT [LDFLAGS]: atomic, so an interrupted build leaves nothing half-written.
build() {
  local dir=$1 pkg=$2 out=$3 ldflags=${4:-}
  [ -x "$bin/$out" ] && return 0
  echo "building $out (cold builds take several minutes)..." >&2
  (cd "$dir" && go build -trimpath -tags selinux,notest -ldflags "-s -w $ldflags" -o "$bin/.$out.tmp" "$pkg")
  mv "$bin/.$out.tmp" "$bin/$out"
}

minor=${k8s_version#v1.}; minor=${minor%%.*}
version_flags=""
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_flags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

build "$here/etcd" . etcd
build "$here/kubernetes" ./cmd/kube-apiserver kube-apiserver "$version_flags"
build "$here/kubernetes" ./cmd/kubectl kubectl "$version_flags"
echo "$bin"
