#!/usr/bin/env bash
# Installs the TorchServe peer's Python environment into build/torchserve/venv from PyPI (make
# torchserve-env) and records what it found in build/torchserve/env.json. TorchServe's frontend is
# Java: a Java 11+ runtime must be on PATH (or JAVA_HOME); Debian: apt-get install openjdk-17-jre-headless.
# No torch: PyPI's Linux torch wheel pulls ~3 GB of CUDA libraries; the worker gets a stand-in
# (peers/torchserve/torch-stand-in, why there).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=build/torchserve/venv
PY=${TORCHSERVE_PYTHON:-python3}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

command -v "$PY" >/dev/null || { echo "torchserve-env: TORCHSERVE_PYTHON=$PY not found; install python3 (3.8-3.12) or set TORCHSERVE_PYTHON" >&2; exit 2; }
command -v "$JAVA" >/dev/null || { echo "torchserve-env: $JAVA not found; TorchServe's frontend needs a Java 11+ runtime: apt-get install openjdk-17-jre-headless (or set JAVA_HOME)" >&2; exit 2; }
JAVA_VERSION=$("$JAVA" -version 2>&1 | head -1)
JAVA_MAJOR=$(sed -E 's/.*version "(1\.)?([0-9]+).*/\2/' <<<"$JAVA_VERSION")
[[ "$JAVA_MAJOR" =~ ^[0-9]+$ && "$JAVA_MAJOR" -ge 11 ]] || { echo "torchserve-env: $JAVA is '$JAVA_VERSION'; TorchServe 0.12 needs Java 11+: apt-get install openjdk-17-jre-headless (or set JAVA_HOME)" >&2; exit 2; }

echo "torchserve-env: venv $VENV from $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])'), java: $JAVA_VERSION"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
echo "torchserve-env: pip install -r peers/torchserve/requirements.txt (about 60 MB from PyPI the first time)"
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on -r peers/torchserve/requirements.txt
"$VENV/bin/python" - "$(command -v "$JAVA")" "$JAVA_VERSION" <<'PYEOF'
import json, pathlib, platform, sys, sysconfig
from importlib.metadata import version
import ts
env = {
    "python": sys.executable,
    "python_version": platform.python_version(),
    "site_packages": str(pathlib.Path(ts.__file__).resolve().parents[1]),
    "java": sys.argv[1],
    "java_version": sys.argv[2],
    "versions": {p: version(p) for p in ("torchserve", "torch-model-archiver", "onnxruntime", "numpy")},
}
pathlib.Path("build/torchserve/env.json").write_text(json.dumps(env, indent=2) + "\n")
PYEOF
touch "$VENV/.installed"
echo "torchserve-env: done"
