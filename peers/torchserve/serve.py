"""make torchserve: runs TorchServe (the Java frontend model-server.jar of torchserve 0.12.0 and its
Python workers) on the same ONNX files as our server, through a handler that runs onnxruntime.

Run by peers/torchserve/driver.ts, which reads the knobs (peers/torchserve/config.ts TORCHSERVE_KNOBS,
names after TorchServe's config fields, bad values refused with one line) and passes every value here
as a flag; this script reads no knob from the environment and keeps no defaults of its own.
  --workers              minWorkers = maxWorkers per model (TORCHSERVE_WORKERS)
  --intra-op-thread-count  onnxruntime intra-op threads per worker (TORCHSERVE_INTRA_OP_THREAD_COUNT)
  --batch-size           batchSize per model, 1 = no batching (TORCHSERVE_BATCH_SIZE)
  --max-batch-delay-ms   maxBatchDelay per model (TORCHSERVE_MAX_BATCH_DELAY)
  --host                 listen address of every endpoint (TORCHSERVE_HOST)
  --port, --management-port, --metrics-port   0 = a free one (TORCHSERVE_PORT, ...)
  --models               d0,d1,d2 subset (MODELS)
  --models-dir           the ONNX files (MODELS_DIR)
  --ready-timeout        seconds to wait for every worker to be READY (READY_TIMEOUT)
What it does, the way a TorchServe user would: one model archive per model in the model store
(torch-model-archiver --archive-format no-archive: handler.py + model-config.yaml naming the ONNX
file), a config.properties, and the command `torchserve --start` builds (java ... ModelServer), run
directly so that two servers on one host share no pid file (/tmp/.model_server.pid), and each its own
java.io.tmpdir (the workers' unix sockets live there). Prints one line
`ready <url> metrics=<url> management=<url> pid=<java pid>` once every worker is READY; SIGTERM or
SIGINT stop TorchServe (its shutdown hook stops the workers).
"""
import argparse
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
PEER = pathlib.Path(__file__).resolve().parent
TS_DIR = ROOT / "build" / "torchserve"


class ConfigError(Exception):
    pass


def read_config(argv):
    p = argparse.ArgumentParser(prog="serve.py", description="run by `make torchserve` (peers/torchserve/driver.ts)")
    for flag in ("--workers", "--intra-op-thread-count", "--batch-size", "--max-batch-delay-ms", "--port", "--management-port", "--metrics-port"):
        p.add_argument(flag, required=True, type=int)
    p.add_argument("--host", required=True)
    p.add_argument("--models", required=True, type=lambda raw: raw.split(","))
    p.add_argument("--models-dir", required=True)
    p.add_argument("--ready-timeout", required=True, type=float)
    a = p.parse_args(argv)
    return {**vars(a), "models_dir": pathlib.Path(a.models_dir).resolve()}


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def write_store(cfg, store, venv_bin):
    """One no-archive model per detector: handler.py + model-config.yaml (TorchServe's per-model config)."""
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    for model in cfg["models"]:
        onnx_file = cfg["models_dir"] / f"efficientdet-{model}.onnx"
        if not onnx_file.exists():
            raise ConfigError(f"{onnx_file} not found: run 'make models' or set MODELS_DIR")
        name = f"efficientdet-{model}"
        yaml = store / f"{name}.model-config.yaml"
        # JSON is YAML: TorchServe reads this with its YAML loader.
        yaml.write_text(json.dumps({
            "minWorkers": cfg["workers"], "maxWorkers": cfg["workers"],
            "batchSize": cfg["batch_size"], "maxBatchDelay": cfg["max_batch_delay_ms"],
            "responseTimeout": 120, "startupTimeout": 120,
            "handler": {"onnx_file": str(onnx_file), "intra_op_thread_count": cfg["intra_op_thread_count"]},
        }, indent=2) + "\n")
        subprocess.run([str(venv_bin / "torch-model-archiver"), "--model-name", name, "--version", "1",
                        "--handler", str(PEER / "handler.py"), "--config-file", str(yaml),
                        "--export-path", str(store), "--archive-format", "no-archive", "--force"], check=True)
        yaml.unlink()


def workers_ready(management, models, workers):
    try:
        for m in models:
            with urllib.request.urlopen(f"{management}/models/efficientdet-{m}", timeout=2) as res:
                desc = json.loads(res.read())[0]
            if sum(1 for w in desc.get("workers", []) if w.get("status") == "READY") < workers:
                return False
        return True
    except (OSError, ValueError, IndexError, KeyError):
        return False


def main():
    cfg = read_config(sys.argv[1:])
    host = cfg["host"]
    ports = {k: cfg[k] or free_port(host) for k in ("port", "management_port", "metrics_port")}
    grpc = [free_port(host), free_port(host)]
    run_dir = TS_DIR / "run" / str(ports["port"])
    try:
        env_file = TS_DIR / "env.json"
        if not env_file.exists():
            raise ConfigError(f"{env_file} missing: run 'make torchserve-env'")
        tenv = json.loads(env_file.read_text())
        if shutil.which(tenv["java"]) is None:
            raise ConfigError(f"{tenv['java']} not found: install a Java 11+ runtime (Debian: apt-get install openjdk-17-jre-headless) and rerun 'make torchserve-env'")
        write_store(cfg, run_dir / "store", pathlib.Path(tenv["python"]).parent)
    except (ConfigError, subprocess.CalledProcessError) as err:
        print(f"torchserve: {err}", file=sys.stderr)
        return 2
    props = {
        "inference_address": f"http://{host}:{ports['port']}",
        "management_address": f"http://{host}:{ports['management_port']}",
        "metrics_address": f"http://{host}:{ports['metrics_port']}",
        "grpc_inference_address": host, "grpc_management_address": host,
        "grpc_inference_port": grpc[0], "grpc_management_port": grpc[1],
        # 0.12 turns token authorization on by default; the peer is on loopback like ours.
        "disable_token_authorization": "true",
        "enable_model_api": "true",
        "metrics_mode": "prometheus",
        # The handler's own counters (compute time, executions, images) join /metrics without a metrics.yaml.
        "model_metrics_auto_detect": "true",
        # The per-minute system-metrics collector forks a Python process: an idle server must take no CPU.
        "disable_system_metrics": "true",
        "model_store": str(run_dir / "store"),
        "load_models": ",".join(f"efficientdet-{m}" for m in cfg["models"]),
        "default_workers_per_model": cfg["workers"],
        "install_py_dep_per_model": "false",
        # A D2 tensor is 7 MB, over the 6.5 MB default: room for batches of prepared tensors (64 MB).
        "max_request_size": 64 << 20,
        "max_response_size": 64 << 20,
    }
    shutil.rmtree(run_dir / "logs", ignore_errors=True)
    (run_dir / "config.properties").write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    # Each server its own tmpdir: the workers' unix sockets (.ts.sock.<port>) and unpacked models.
    tmp = tempfile.mkdtemp(prefix="torchserve-peer-")
    ts_home = pathlib.Path(tenv["site_packages"])
    args = [tenv["java"], f"-Dmodel_server_home={ts_home}", f"-Djava.io.tmpdir={tmp}",
            "-cp", f".:{ts_home / 'ts' / 'frontend' / '*'}", "org.pytorch.serve.ModelServer",
            "--python", tenv["python"], "-f", str(run_dir / "config.properties"), "-s", str(run_dir / "store"), "-ncs"]
    env = dict(os.environ)
    env["LOG_LOCATION"] = env["METRICS_LOCATION"] = str(run_dir / "logs")
    # The workers inherit PYTHONPATH: the torch stand-in (see torch-stand-in/torch/__init__.py).
    env["PYTHONPATH"] = ":".join(p for p in (str(PEER / "torch-stand-in"), env.get("PYTHONPATH", "")) if p)
    url, management = props["inference_address"], props["management_address"]
    print(f"torchserve: torchserve {tenv['versions']['torchserve']} on {tenv['java_version']} workers={cfg['workers']} batch={cfg['batch_size']} store={run_dir / 'store'} logs={run_dir / 'logs'}", flush=True)
    child = subprocess.Popen(args, env=env, cwd=run_dir, stdout=subprocess.DEVNULL)

    stopping = []
    def stop(signum, _frame):
        stopping.append(signum)
        if len(stopping) == 1 and child.poll() is None:
            child.send_signal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    deadline = time.monotonic() + cfg["ready_timeout"]
    while not stopping and child.poll() is None and not workers_ready(management, cfg["models"], cfg["workers"]):
        if time.monotonic() > deadline:
            print(f"torchserve: workers not READY after READY_TIMEOUT={cfg['ready_timeout']:g}s (see {run_dir / 'logs' / 'model_log.log'}); stopping it", file=sys.stderr, flush=True)
            stop(signal.SIGTERM, None)
            break
        time.sleep(0.5)
    if child.poll() is None and not stopping:
        print(f"ready {url} metrics={props['metrics_address']}/metrics management={management} pid={child.pid}", flush=True)
    code = child.wait()
    shutil.rmtree(tmp, ignore_errors=True)
    if stopping:
        # The JVM exits 143 (128 + SIGTERM) after its shutdown hook ran.
        print(f"torchserve: stopped (java exit code {code})", flush=True)
        return 0 if code in (0, 143, -signal.SIGTERM) else code
    print(f"torchserve: java exited with code {code} (see {run_dir / 'logs'})", file=sys.stderr, flush=True)
    return code or 1


if __name__ == "__main__":
    sys.exit(main())
