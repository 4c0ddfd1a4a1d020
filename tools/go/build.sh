#!/usr/bin/env bash
# Builds one Go tool pinned by a go.mod under tools/ into build/bin, with the machine's Go; go.sum
# checks every dependency. Used by tools/go/k6/resolve.sh and tools/go/loadgen/resolve.sh.
# usage: tools/go/build.sh <module dir> <package> <output binary> <label>
set -euo pipefail
moddir=$1 pkg=$2 out=$3 label=$4
need=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$moddir/go.mod")
command -v go >/dev/null || { echo "$label: Go >= $need is needed to build $pkg: install Go from https://go.dev/dl" >&2; exit 1; }
have=$(go env GOVERSION | sed 's/^go//')
if [[ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]]; then
  echo "$label: Go $have is too old to build $pkg: install Go >= $need" >&2; exit 1
fi
echo "$label: building $pkg with Go $have into $out (first time only; a few minutes on a cold Go cache)..." >&2
start=$(date +%s)
mkdir -p "$(dirname "$out")"
# GOFLAGS=-mod=mod lets go fetch the pinned modules; go.sum still verifies each one.
(cd "$moddir" && GOFLAGS=-mod=mod go build -trimpath -o "$(realpath -m "$OLDPWD/$out")" "$pkg")
echo "$label: built $out in $(( $(date +%s) - start ))s" >&2
