#!/usr/bin/env bash
# Resolves the k6 binary every make target uses and writes its path to build/k6.path.
# Order: $K6 if given; a k6 on PATH whose version is the pin; else build/bin/k6, built from the
# pinned module in tools/go/k6/go.mod (go.sum checks every dependency) with the machine's Go.
set -euo pipefail
cd "$(dirname "$0")/../../.."
pin=$(sed -n 's/^\s*go\.k6\.io\/k6\/v2 \(v[0-9.]*\).*/\1/p' tools/go/k6/go.mod | head -1)
out=build/k6.path
mkdir -p build

version_of() { "$1" version 2>/dev/null | head -1 | grep -o 'v[0-9][0-9.]*' | head -1 || true; }
use() { printf '%s\n' "$1" > "$out"; echo "k6: using $1 ($(version_of "$1"))" >&2; exit 0; }

if [[ -n "${K6:-}" ]]; then
  [[ -x "$K6" ]] || { echo "k6: K6=$K6 is not an executable; unset K6 or point it at a k6 binary" >&2; exit 1; }
  use "$K6"
fi
if onpath=$(command -v k6 2>/dev/null) && [[ "$(version_of "$onpath")" == "$pin" ]]; then use "$onpath"; fi
if [[ -x build/bin/k6 && "$(version_of build/bin/k6)" == "$pin" ]]; then use "$PWD/build/bin/k6"; fi

command -v go >/dev/null || { echo "k6: no k6 $pin on PATH and K6 unset, and no Go to build it: install Go from https://go.dev/dl or set K6=/path/to/k6" >&2; exit 1; }
tools/go/build.sh tools/go/k6 go.k6.io/k6/v2 build/bin/k6 k6
use "$PWD/build/bin/k6"
