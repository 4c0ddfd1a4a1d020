#!/usr/bin/env bash
# Resolves vegeta, the independent load generator `make harness` measures k6 against: build/bin/vegeta
# at the version pinned in tools/go/loadgen/go.mod, built from source once (like k6).
set -euo pipefail
cd "$(dirname "$0")/../../.."
pin=$(sed -n 's/^\s*github\.com\/tsenart\/vegeta\/v12 \(v[0-9.]*\).*/\1/p' tools/go/loadgen/go.mod | head -1)
# vegeta built as a module dependency prints no version of its own: read the one Go recorded.
built() { go version -m build/bin/vegeta 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/tsenart/vegeta/v12" { print $3 }'; }
if [[ -x build/bin/vegeta ]] && command -v go >/dev/null && [[ "$(built)" == "$pin" ]]; then exit 0; fi
tools/go/build.sh tools/go/loadgen github.com/tsenart/vegeta/v12 build/bin/vegeta vegeta
