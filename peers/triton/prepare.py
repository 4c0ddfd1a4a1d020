"""Lays out the tritonserver tree the peer runs (run by install.sh with the venv's python).

pytriton's wheel ships one Python backend stub per Python version; Triton looks for the stub in its
python backend directory, so we copy the backend and the stub of *this* interpreter's version into
build/triton/server/backends/python (as pytriton itself does in its workspace), and record in
build/triton/env.json what serve.py needs: the binary, the bundled libraries and the libpython
directory of the interpreter the venv was made from.
"""
import json
import pathlib
import shutil
import sys
import sysconfig
from importlib import metadata

import pytriton

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "triton"

dist = pathlib.Path(pytriton.__file__).parent / "tritonserver"
libs = pathlib.Path(pytriton.__file__).parent.parent / "nvidia_pytriton.libs"
version = f"{sys.version_info[0]}.{sys.version_info[1]}"
stub = dist / "python_backend_stubs" / version / "triton_python_backend_stub"
if not stub.exists():
    sys.exit(f"triton-env: pytriton has no Python backend stub for Python {version} ({stub})")

backend = OUT / "server" / "backends" / "python"
shutil.rmtree(OUT / "server", ignore_errors=True)
shutil.copytree(dist / "backends" / "python", backend)
shutil.copy(stub, backend / "triton_python_backend_stub")
for exe in (dist / "bin" / "tritonserver", backend / "triton_python_backend_stub"):
    exe.chmod(0o755)

env = {
    "tritonserver": str(dist / "bin" / "tritonserver"),
    "backend_directory": str(OUT / "server" / "backends"),
    "libs": str(libs),
    # The stub must load this interpreter's libpython (see install.sh).
    "libpython_dir": sysconfig.get_config_var("LIBDIR"),
    "python": sys.executable,
    "python_version": sys.version.split()[0],
    "versions": {name: metadata.version(name) for name in ("nvidia-pytriton", "tritonclient", "onnxruntime", "numpy")},
}
(OUT / "env.json").write_text(json.dumps(env, indent=2) + "\n")
print(f"triton-env: stub for Python {version}, libpython from {env['libpython_dir']}")
