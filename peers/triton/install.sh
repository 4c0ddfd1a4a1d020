#!/usr/bin/env bash
# Installs the Triton peer's Python environment into build/triton/venv from PyPI (make triton-env).
# The Python backend's stub process embeds libpython: it must load the libpython of the very
# interpreter the venv was made from (another 3.11 build fails to load models with
# "'_thread.RLock' object has no attribute '_recursion_count'"). So the interpreter must be a
# shared-libpython build; prepare.py records its LIBDIR and serve.py puts it first on the stub's
# LD_LIBRARY_PATH, which works for Debian's python3 and for a pyenv build alike.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=build/triton/venv
PY=${TRITON_PYTHON:-python3}

command -v "$PY" >/dev/null || { echo "triton-env: TRITON_PYTHON=$PY not found; install python3 (3.8-3.13, with libpython: apt-get install python3 libpython3-dev) or set TRITON_PYTHON" >&2; exit 2; }
# One line naming the cause and the fix when the interpreter cannot host the stub.
"$PY" - <<'PYEOF' || exit 2
import os, sys, sysconfig
v = sys.version_info
if not ((3, 8) <= v[:2] <= (3, 13)):
    sys.exit(f"triton-env: {sys.executable} is Python {v[0]}.{v[1]}; pytriton 0.7.0 ships Python backend stubs for 3.8-3.13 only: set TRITON_PYTHON to one of those")
lib = os.path.join(sysconfig.get_config_var("LIBDIR") or "", sysconfig.get_config_var("INSTSONAME") or "")
if not sysconfig.get_config_var("Py_ENABLE_SHARED") or not os.path.exists(lib):
    sys.exit(f"triton-env: {sys.executable} has no shared libpython ({lib} missing), which the Python backend stub loads: install it (Debian: apt-get install libpython{v[0]}.{v[1]}) or set TRITON_PYTHON to a python built with --enable-shared")
PYEOF

echo "triton-env: venv $VENV from $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
echo "triton-env: pip install -r peers/triton/requirements.txt (about 250 MB from PyPI the first time)"
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on -r peers/triton/requirements.txt
echo "triton-env: preparing the tritonserver tree in build/triton/server"
"$VENV/bin/python" peers/triton/prepare.py
touch "$VENV/.installed"
echo "triton-env: done"
