"""make triton: runs Triton Inference Server (the tritonserver binary pytriton bundles) on the same
ONNX files as our server, with a model repository generated the way a Triton user writes one.

Knobs (environment; names after Triton's config fields):
  TRITON_MODEL_SET              instances | dynamic (instances)
      instances: max_batch_size 0, instance_group count x KIND_CPU per model: like our `concurrent`
      dynamic:   the dynamic batcher per model (max_batch_size, preferred_batch_size,
                 max_queue_delay_microseconds) on the same instances: like our `batched`
  TRITON_INSTANCE_COUNT         instance_group count per model (2)
  TRITON_INTRA_OP_THREAD_COUNT  onnxruntime intra-op threads per instance (1)
  TRITON_ALLOW_SPINNING         onnxruntime intra-op spinning, 0 | 1 (0: an idle server takes no CPU)
  TRITON_MAX_BATCH_SIZE         dynamic set: max_batch_size (4)
  TRITON_PREFERRED_BATCH_SIZE   dynamic set: preferred_batch_size, comma list (4)
  TRITON_MAX_QUEUE_DELAY_MICROSECONDS  dynamic set: max_queue_delay_microseconds (2000)
  TRITON_HOST                   listen address of all three endpoints (127.0.0.1)
  TRITON_HTTP_PORT, TRITON_GRPC_PORT, TRITON_METRICS_PORT   ports (0 = a free one; default 0)
  MODELS                        d0,d1,d2 subset (all)
  MODELS_DIR                    the ONNX files (build/models)
  READY_TIMEOUT                 seconds to wait for /v2/health/ready (300)
Prints one line `ready <url> metrics=<url> grpc=<host:port> set=<set> pid=<tritonserver pid>` once
/v2/health/ready answers 200; SIGTERM or SIGINT stop tritonserver cleanly (in-flight requests finish).
"""
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
MODEL_NAMES = ("d0", "d1", "d2")
# The detection tensors of the ONNX contract; the raw heads (85 MB per image) are not served.
DETECTION_OUTPUTS = ("detection_boxes", "detection_scores", "detection_classes", "num_detections")
ORT_TO_TRITON = {"tensor(float)": "TYPE_FP32", "tensor(int64)": "TYPE_INT64", "tensor(int32)": "TYPE_INT32"}


class ConfigError(Exception):
    pass


def knob_int(name, default, lo, hi):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not lo <= value <= hi:
        raise ConfigError(f"{name}={raw!r} is not allowed: an integer {lo}-{hi}")
    return value


def knob_choice(name, default, allowed):
    raw = os.environ.get(name, "") or default
    if raw not in allowed:
        raise ConfigError(f"{name}={raw!r} is not allowed: one of {', '.join(allowed)}")
    return raw


def knob_list(name, default, allowed):
    raw = os.environ.get(name, "") or default
    items = [s.strip() for s in raw.split(",") if s.strip()]
    bad = [s for s in items if s not in allowed]
    if not items or bad:
        raise ConfigError(f"{name}={raw!r} is not allowed: a comma list of {', '.join(allowed)}")
    return items


def read_config():
    cfg = {
        "model_set": knob_choice("TRITON_MODEL_SET", "instances", ("instances", "dynamic")),
        "instance_count": knob_int("TRITON_INSTANCE_COUNT", 2, 1, 64),
        "intra_op_thread_count": knob_int("TRITON_INTRA_OP_THREAD_COUNT", 1, 1, 256),
        "allow_spinning": knob_choice("TRITON_ALLOW_SPINNING", "0", ("0", "1")),
        "max_batch_size": knob_int("TRITON_MAX_BATCH_SIZE", 4, 1, 1024),
        "max_queue_delay_microseconds": knob_int("TRITON_MAX_QUEUE_DELAY_MICROSECONDS", 2000, 0, 10_000_000),
        "host": os.environ.get("TRITON_HOST", "") or "127.0.0.1",
        "http_port": knob_int("TRITON_HTTP_PORT", 0, 0, 65535),
        "grpc_port": knob_int("TRITON_GRPC_PORT", 0, 0, 65535),
        "metrics_port": knob_int("TRITON_METRICS_PORT", 0, 0, 65535),
        "models": knob_list("MODELS", ",".join(MODEL_NAMES), MODEL_NAMES),
        "models_dir": pathlib.Path(os.environ.get("MODELS_DIR", "") or ROOT / "build" / "models").resolve(),
        "ready_timeout_s": knob_int("READY_TIMEOUT", 300, 1, 86400),
    }
    raw = os.environ.get("TRITON_PREFERRED_BATCH_SIZE", "") or str(cfg["max_batch_size"])
    try:
        preferred = [int(s) for s in raw.split(",")]
    except ValueError:
        preferred = []
    if not preferred or any(not 1 <= p <= cfg["max_batch_size"] for p in preferred):
        raise ConfigError(f"TRITON_PREFERRED_BATCH_SIZE={raw!r} is not allowed: a comma list of integers 1-TRITON_MAX_BATCH_SIZE ({cfg['max_batch_size']})")
    cfg["preferred_batch_size"] = preferred
    return cfg


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


def config_pbtxt(name, onnx_file, signature, cfg):
    tensor_in, tensors_out = signature
    batched = cfg["model_set"] == "dynamic"
    lines = [
        f'name: "{name}"',
        'backend: "python"',
        f"max_batch_size: {cfg['max_batch_size'] if batched else 0}",
        "input [\n" + ",\n".join([tensor_block(tensor_in, batched)]) + "\n]",
        "output [\n" + ",\n".join(tensor_block(t, batched) for t in tensors_out) + "\n]",
        f"instance_group [ {{ count: {cfg['instance_count']} kind: KIND_CPU }} ]",
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
        (repo / name / "config.pbtxt").write_text(config_pbtxt(name, onnx_file, onnx_signature(onnx_file), cfg))
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
    try:
        cfg = read_config()
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
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    deadline = time.monotonic() + cfg["ready_timeout_s"]
    while not stopping and child.poll() is None and not ready(url):
        if time.monotonic() > deadline:
            print(f"triton: {url}/v2/health/ready not ready after READY_TIMEOUT={cfg['ready_timeout_s']}s; stopping it", file=sys.stderr, flush=True)
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
