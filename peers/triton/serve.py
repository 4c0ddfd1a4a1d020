"""make triton: runs Triton Inference Server (the tritonserver binary pytriton bundles) on the same
ONNX files as our server, with a model repository generated the way a Triton user writes one.

Run by peers/triton/driver.ts, which reads the knobs (peers/triton/config.ts TRITON_KNOBS: the
environment, names after Triton's config fields, bad values refused with one line) and passes every
value here as a flag; this script reads no knob from the environment and keeps no defaults of its own.
  --model-set            instances | dynamic (TRITON_MODEL_SET)
      instances: max_batch_size 0, instance_group count x KIND_CPU per model: like our `concurrent`
      dynamic:   the dynamic batcher per model (max_batch_size, preferred_batch_size,
                 max_queue_delay_microseconds) on the same instances: like our `batched`
  --instances            instance_group count of each model, d0:2,d1:2,d2:2
                         (TRITON_INSTANCES, else TRITON_INSTANCE_COUNT for every model)
  --intra-op-thread-count  onnxruntime intra-op threads per instance (TRITON_INTRA_OP_THREAD_COUNT)
  --allow-spinning       onnxruntime intra-op spinning, 0 | 1 (TRITON_ALLOW_SPINNING)
  --max-batch            dynamic set: max_batch_size (TRITON_MAX_BATCH)
  --preferred-batch      dynamic set: preferred_batch_size, comma list (TRITON_PREFERRED_BATCH)
  --max-delay-us         dynamic set: max_queue_delay_microseconds (TRITON_MAX_DELAY)
  --host                 listen address of all three endpoints (TRITON_HOST)
  --port, --grpc-port, --metrics-port   ports, 0 = a free one (TRITON_PORT, TRITON_GRPC_PORT, TRITON_METRICS_PORT)
  --models               d0,d1,d2 subset (MODELS)
  --models-dir           the ONNX files (MODELS_DIR)
  --ready-timeout        seconds to wait for /v2/health/ready (READY_TIMEOUT)
Prints one line `ready <url> metrics=<url> grpc=<host:port> set=<set> pid=<tritonserver pid>` once
/v2/health/ready answers 200; SIGTERM or SIGINT stop tritonserver cleanly (in-flight requests finish).
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
import time
import urllib.request

import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRITON_DIR = ROOT / "build" / "triton"
# The detection tensors of the ONNX contract; the raw heads (85 MB per image) are not served.
DETECTION_OUTPUTS = ("detection_boxes", "detection_scores", "detection_classes", "num_detections")
ORT_TO_TRITON = {"tensor(float)": "TYPE_FP32", "tensor(int64)": "TYPE_INT64", "tensor(int32)": "TYPE_INT32"}


class ConfigError(Exception):
    pass


def read_config(argv):
    """The knobs as driver.ts passes them: every flag required, the values already checked there."""
    def int_list(raw):
        return [int(x) for x in raw.split(",")]
    p = argparse.ArgumentParser(prog="serve.py", description="run by `make triton` (peers/triton/driver.ts)")
    p.add_argument("--model-set", required=True, choices=("instances", "dynamic"))
    p.add_argument("--instances", required=True, type=lambda raw: {m: int(n) for m, n in (x.split(":") for x in raw.split(","))})
    p.add_argument("--intra-op-thread-count", required=True, type=int)
    p.add_argument("--allow-spinning", required=True, choices=("0", "1"))
    p.add_argument("--max-batch", required=True, type=int)
    p.add_argument("--preferred-batch", required=True, type=int_list)
    p.add_argument("--max-delay-us", required=True, type=int)
    p.add_argument("--host", required=True)
    p.add_argument("--port", required=True, type=int)
    p.add_argument("--grpc-port", required=True, type=int)
    p.add_argument("--metrics-port", required=True, type=int)
    p.add_argument("--models", required=True, type=lambda raw: raw.split(","))
    p.add_argument("--models-dir", required=True)
    p.add_argument("--ready-timeout", required=True, type=float)
    a = p.parse_args(argv)
    return {
        "model_set": a.model_set,
        "instances": a.instances,
        "intra_op_thread_count": a.intra_op_thread_count,
        "allow_spinning": a.allow_spinning,
        "max_batch_size": a.max_batch,
        "preferred_batch_size": a.preferred_batch,
        "max_queue_delay_microseconds": a.max_delay_us,
        "host": a.host,
        "http_port": a.port,
        "grpc_port": a.grpc_port,
        "metrics_port": a.metrics_port,
        "models": a.models,
        "models_dir": pathlib.Path(a.models_dir).resolve(),
        "ready_timeout_s": a.ready_timeout,
    }


def onnx_signature(path):
    """Input and detection outputs (name, Triton type, shape) as the ONNX file declares them."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    def describe(arg):
        return {"name": arg.name, "data_type": ORT_TO_TRITON[arg.type], "shape": [d if isinstance(d, int) else -1 for d in arg.shape]}
    outputs = {o.name: describe(o) for o in session.get_outputs()}
    missing = [n for n in DETECTION_OUTPUTS if n not in outputs]
    if missing:
        raise ConfigError(f"{path} lacks the detection outputs {', '.join(missing)}: MODELS_DIR must hold the EfficientDet ONNX contract (make models)")
    return describe(session.get_inputs()[0]), [outputs[n] for n in DETECTION_OUTPUTS]


def tensor_block(t, batched):
    # With max_batch_size > 0 Triton owns the batch dimension and dims leave it out; Triton refuses
    # empty dims, so the per-row scalar num_detections (the model's [N]) is dims [1] with reshape
    # [ ]: clients see [N, 1] (a Triton batching model cannot declare [N]).
    dims = t["shape"][1:] if batched else t["shape"]
    reshape = ""
    if batched and not dims:
        dims, reshape = [1], "\n    reshape: { shape: [ ] }"
    return f"""  {{
    name: "{t['name']}"
    data_type: {t['data_type']}
    dims: [ {', '.join(str(d) for d in dims)} ]{reshape}
  }}"""


def config_pbtxt(name, model, onnx_file, signature, cfg):
    tensor_in, tensors_out = signature
    batched = cfg["model_set"] == "dynamic"
    lines = [
        f'name: "{name}"',
        'backend: "python"',
        f"max_batch_size: {cfg['max_batch_size'] if batched else 0}",
        "input [\n" + ",\n".join([tensor_block(tensor_in, batched)]) + "\n]",
        "output [\n" + ",\n".join(tensor_block(t, batched) for t in tensors_out) + "\n]",
        f"instance_group [ {{ count: {cfg['instances'][model]} kind: KIND_CPU }} ]",
    ]
    if batched:
        lines.append(
            "dynamic_batching {\n"
            f"  preferred_batch_size: [ {', '.join(str(p) for p in cfg['preferred_batch_size'])} ]\n"
            f"  max_queue_delay_microseconds: {cfg['max_queue_delay_microseconds']}\n"
            "}"
        )
    # Warm-up at load, as our server warms its sessions: the first onnxruntime run is ~20x slower.
    warm_dims = tensor_in["shape"][1:] if batched else [1] + tensor_in["shape"][1:]
    lines.append(
        "model_warmup [ {\n"
        '  name: "zeros"\n  batch_size: 1\n'
        f'  inputs {{ key: "{tensor_in["name"]}" value: {{ data_type: {tensor_in["data_type"]} dims: [ {", ".join(str(d) for d in warm_dims)} ] zero_data: true }} }}\n'
        "} ]"
    )
    params = {"onnx_file": str(onnx_file), "intra_op_thread_count": str(cfg["intra_op_thread_count"]), "allow_spinning": cfg["allow_spinning"]}
    lines += [f'parameters {{ key: "{k}" value: {{ string_value: "{v}" }} }}' for k, v in params.items()]
    return "\n".join(lines) + "\n"


def write_repository(cfg):
    """build/triton/models/<set>/efficientdet-dN/{config.pbtxt,1/model.py}, regenerated each start."""
    repo = TRITON_DIR / "models" / cfg["model_set"]
    shutil.rmtree(repo, ignore_errors=True)
    for model in cfg["models"]:
        onnx_file = cfg["models_dir"] / f"efficientdet-{model}.onnx"
        if not onnx_file.exists():
            raise ConfigError(f"{onnx_file} not found: run 'make models' or set MODELS_DIR")
        name = f"efficientdet-{model}"
        (repo / name / "1").mkdir(parents=True)
        shutil.copy(pathlib.Path(__file__).with_name("model.py"), repo / name / "1" / "model.py")
        (repo / name / "config.pbtxt").write_text(config_pbtxt(name, model, onnx_file, onnx_signature(onnx_file), cfg))
    return repo


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ready(url):
    try:
        with urllib.request.urlopen(f"{url}/v2/health/ready", timeout=2) as res:
            return res.status == 200
    except OSError:
        return False


def main():
    cfg = read_config(sys.argv[1:])
    try:
        env_file = TRITON_DIR / "env.json"
        if not env_file.exists():
            raise ConfigError(f"{env_file} missing: run 'make triton-env'")
        tenv = json.loads(env_file.read_text())
        repo = write_repository(cfg)
    except ConfigError as err:
        print(f"triton: {err}", file=sys.stderr)
        return 2
    host = cfg["host"]
    ports = {k: cfg[k] or free_port(host) for k in ("http_port", "grpc_port", "metrics_port")}
    args = [
        tenv["tritonserver"],
        f"--model-repository={repo}",
        f"--backend-directory={tenv['backend_directory']}",
        f"--http-address={host}", f"--http-port={ports['http_port']}",
        f"--grpc-address={host}", f"--grpc-port={ports['grpc_port']}",
        # The statistics and metrics endpoints stay open (no --http-restricted-api): perf_analyzer
        # and the bench read them.
        "--allow-metrics=true", f"--metrics-address={host}", f"--metrics-port={ports['metrics_port']}",
        "--allow-gpu-metrics=false",
        # A region prefix of its own, so two servers on one host never share Python-backend memory;
        # a D2 image is 7 MB, so the regions start at 64 MB and grow by 32 MB.
        f"--backend-config=python,shm-region-prefix-name=triton_peer_{ports['http_port']}_",
        "--backend-config=python,shm-default-byte-size=67108864",
        "--backend-config=python,shm-growth-byte-size=33554432",
        "--exit-on-error=true", "--strict-readiness=true", "--model-control-mode=none",
    ]
    env = dict(os.environ)
    # The stub embeds libpython: load the one of the venv's own interpreter (see install.sh), then
    # pytriton's bundled libraries. The venv's bin first on PATH makes the embedded interpreter
    # find the venv (and its onnxruntime, numpy) from pyvenv.cfg.
    env["LD_LIBRARY_PATH"] = ":".join(p for p in (tenv["libpython_dir"], tenv["libs"], env.get("LD_LIBRARY_PATH", "")) if p)
    env["PATH"] = f"{pathlib.Path(tenv['python']).parent}:{env.get('PATH', '')}"
    url = f"http://{host}:{ports['http_port']}"
    print(f"triton: tritonserver {tenv['versions']['nvidia-pytriton']} (pytriton) set={cfg['model_set']} repository={repo}", flush=True)
    child = subprocess.Popen(args, env=env)

    stopping = []
    def stop(signum, _frame):
        stopping.append(signum)
        # Once: a second signal (make's SIGTERM through driver.ts after the terminal's SIGINT) must
        # not hurry tritonserver's own clean stop.
        if len(stopping) == 1 and child.poll() is None:
            child.send_signal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    deadline = time.monotonic() + cfg["ready_timeout_s"]
    while not stopping and child.poll() is None and not ready(url):
        if time.monotonic() > deadline:
            print(f"triton: {url}/v2/health/ready not ready after READY_TIMEOUT={cfg['ready_timeout_s']:g}s; stopping it", file=sys.stderr, flush=True)
            stop(signal.SIGTERM, None)
            break
        time.sleep(0.5)
    if child.poll() is None and not stopping:
        print(f"ready {url} metrics=http://{host}:{ports['metrics_port']}/metrics grpc={host}:{ports['grpc_port']} set={cfg['model_set']} pid={child.pid}", flush=True)
    code = child.wait()
    if stopping:
        print(f"triton: stopped (tritonserver exit code {code})", flush=True)
        return 0 if code in (0, -signal.SIGTERM) else code
    print(f"triton: tritonserver exited with code {code}", file=sys.stderr, flush=True)
    return code or 1


if __name__ == "__main__":
    sys.exit(main())
