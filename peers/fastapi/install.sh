#!/usr/bin/env bash
# Installs the FastAPI + onnxruntime peer's Python environment into build/fastapi/venv from PyPI
# (make fastapi-env). Idempotent through make: the venv's .installed stamp is newer than this
# file and requirements.txt, so a second run does nothing; a change of either reinstalls from scratch.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=build/fastapi/venv
PY=${FASTAPI_PYTHON:-python3}

command -v "$PY" >/dev/null || { echo "fastapi-env: FASTAPI_PYTHON=$PY not found; install python3 (3.10-3.13, with venv: apt-get install python3 python3-venv) or set FASTAPI_PYTHON" >&2; exit 2; }
"$PY" - <<'PYEOF' || exit 2
import sys
v = sys.version_info
if not ((3, 10) <= v[:2] <= (3, 13)):
    sys.exit(f"fastapi-env: {sys.executable} is Python {v[0]}.{v[1]}; onnxruntime 1.30.0 and numpy 2.1.3 ship wheels for 3.10-3.13: set FASTAPI_PYTHON to one of those")
try:
    import venv, ensurepip  # noqa: F401
except ImportError:
    sys.exit(f"fastapi-env: {sys.executable} has no venv/ensurepip module: install it (Debian: apt-get install python{v[0]}.{v[1]}-venv) or set FASTAPI_PYTHON")
PYEOF

echo "fastapi-env: venv $VENV from $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
echo "fastapi-env: pip install -r peers/fastapi/requirements.txt (about 60 MB from PyPI the first time)"
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on -r peers/fastapi/requirements.txt \
  || { echo "fastapi-env: pip install failed (see above): check that PyPI is reachable (or PIP_INDEX_URL) and that the wheels fit this platform (glibc >= 2.28, x86_64/aarch64)" >&2; exit 2; }
"$VENV/bin/python" - <<'PYEOF' > build/fastapi/env.json
import json, sys
from importlib.metadata import version
names = ["fastapi", "starlette", "uvicorn", "onnxruntime", "pillow", "numpy", "python-multipart", "prometheus_client"]
print(json.dumps({"python_version": sys.version.split()[0], "versions": {n: version(n) for n in names}}, indent=2))
PYEOF
touch "$VENV/.installed"
echo "fastapi-env: done ($(tr -d '\n ' < build/fastapi/env.json | head -c 200))"
