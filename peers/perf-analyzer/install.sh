#!/usr/bin/env bash
# Installs Triton's perf_analyzer (a v2 load generator no one here wrote) into build/perf-analyzer/:
# a Python venv made with this machine's python3 holding the tritonclient wheel (it ships the
# perf_analyzer binary) and nvidia-cuda-runtime-cu12 (libcudart.so.12, which the binary links even
# on CPU-only hosts), plus Debian's libb64-0d (libb64.so.0d), the one system library it needs.
# Newer tritonclient wheels need a newer glibc or ship no binary, hence the pin.
# Idempotent: a finished install (its stamp) returns at once. Writes the launcher
# build/perf-analyzer/perf_analyzer, which sets LD_LIBRARY_PATH and runs the binary.
set -euo pipefail

TRITONCLIENT_VERSION=2.51.0
CUDA_RUNTIME_VERSION=12.9.79
DEST=${PERF_ANALYZER_DIR:-build/perf-analyzer}
STAMP="$DEST/.installed-$TRITONCLIENT_VERSION"
LAUNCHER="$DEST/perf_analyzer"

if [[ -f "$STAMP" && -x "$LAUNCHER" ]]; then exit 0; fi
echo "perf-analyzer: installing tritonclient==$TRITONCLIENT_VERSION into $DEST"

command -v python3 >/dev/null || { echo "perf-analyzer: python3 not found; install Python 3.8+ (apt-get install python3 python3-venv)" >&2; exit 2; }
mkdir -p "$DEST"
if [[ ! -x "$DEST/venv/bin/pip" ]]; then
  python3 -m venv "$DEST/venv" || { echo "perf-analyzer: 'python3 -m venv' failed; install python3-venv (apt-get install python3-venv)" >&2; exit 2; }
fi
"$DEST/venv/bin/pip" install --quiet --disable-pip-version-check \
  "tritonclient[http]==$TRITONCLIENT_VERSION" "nvidia-cuda-runtime-cu12==$CUDA_RUNTIME_VERSION"

BIN="$DEST/venv/bin/perf_analyzer"
[[ -x "$BIN" ]] || { echo "perf-analyzer: the tritonclient wheel installed no $BIN (this platform's wheel ships no binary)" >&2; exit 1; }

# libb64.so.0d: Debian's libb64-0d, the only library of the binary not in the wheels.
# (no grep -q on a pipe: with pipefail its early exit would fail the pipeline)
if [[ $(ldconfig -p | grep -c 'libb64\.so\.0d' || true) -eq 0 ]]; then
  SUDO=$([[ $(id -u) -eq 0 ]] && echo "" || echo sudo)
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be missing or old on a fresh machine: update once when the first try fails.
  $SUDO apt-get install -y -qq libb64-0d >/dev/null 2>&1 || { $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq libb64-0d >/dev/null; } \
    || { echo "perf-analyzer: apt-get install libb64-0d failed (needed for libb64.so.0d)" >&2; exit 1; }
fi

CUDART_DIR=$(cd "$DEST/venv" && find "$PWD" -path '*nvidia/cuda_runtime/lib' -type d -print -quit)
[[ -n "$CUDART_DIR" ]] || { echo "perf-analyzer: nvidia/cuda_runtime/lib not found in $DEST/venv" >&2; exit 1; }
ABS_BIN=$(cd "$(dirname "$BIN")" && pwd)/perf_analyzer
cat >"$LAUNCHER" <<LAUNCH
#!/usr/bin/env bash
# Written by peers/perf-analyzer/install.sh: runs the tritonclient $TRITONCLIENT_VERSION perf_analyzer.
export LD_LIBRARY_PATH="$CUDART_DIR\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
exec "$ABS_BIN" "\$@"
LAUNCH
chmod +x "$LAUNCHER"

missing=$(LD_LIBRARY_PATH="$CUDART_DIR" ldd "$ABS_BIN" | grep 'not found' || true)
[[ -z "$missing" ]] || { echo "perf-analyzer: libraries still missing: $missing" >&2; exit 1; }
touch "$STAMP"
echo "perf-analyzer: ready: $LAUNCHER"
