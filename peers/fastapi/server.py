"""The FastAPI + onnxruntime peer: the stack the seed documents measure, on our ONNX files.

uvicorn workers (processes), each with one onnxruntime session per model, Pillow to decode, and the
same letterbox + normalisation as our server (server/runtime/letterbox.ts), so its detections match
our baseline reference. It answers one of two APIs on the same paths (--api):

  native  our API: POST /infer/{impl} (raw image body or multipart `file` fields, ?models=d0,d1),
          -> {implementation, ep, images: [{image_id, width, height, models: {d0: {boxes, scores,
          labels, num_detections, inference_ms}}}], timing}; boxes in original-image pixels.
          GET /health {status, ready, ...}, GET /implementations.
  seed    the seed project's API: POST /infer/{impl} with multipart `file` -> {implementation,
          total_inference_time_ms, detections: [{boxes, scores, labels, model_name,
          inference_time_ms}]}, 100 rows per model zero-padded, labels 1-based, boxes in the seed's
          512 x 512 resized input (lib/seed.ts); GET /health {"status": "healthy", "models_loaded": true}.

Both: GET /vram (host memory of the whole process tree), POST /vram/reset, GET /metrics (Prometheus,
summed over the workers; the nv_inference_* names our server and Triton export, so the report's
server-side split reads it too). peers/fastapi/driver.ts passes every setting as a flag; nothing is
read from the environment but the hand-over from this supervisor to its workers.
"""
import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time

CONFIG_ENV = "FASTAPI_PEER_CONFIG"
MODEL_NAMES = ("d0", "d1", "d2")
SEED_INPUT_SIZE = 512
SEED_ROWS = 100


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--api", choices=["native", "seed"], required=True)
    p.add_argument("--impl", required=True, help="the implementation name the native API serves")
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--intra-op-threads", type=int, required=True)
    p.add_argument("--inter-op-threads", type=int, required=True)
    p.add_argument("--allow-spinning", type=int, choices=[0, 1], required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--models", required=True)
    p.add_argument("--models-dir", required=True)
    p.add_argument("--ready-timeout", type=float, required=True)
    return p.parse_args(argv)


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- worker side (one per process)

def js_round(x):
    """JavaScript's Math.round (halves up), which letterboxGeometry uses; Python's round() is to even."""
    return math.floor(x + 0.5)


class Model:
    """One ONNX file in one onnxruntime session, with what its metadata says about its input."""

    def __init__(self, name, models_dir, cfg):
        import numpy as np
        import onnxruntime as ort

        self.name = name
        self.file = os.path.join(models_dir, f"efficientdet-{name}.onnx")
        if not os.path.exists(self.file):
            raise SystemExit(f"fastapi: model file {self.file} not found: run `make models` or set MODELS_DIR")
        options = ort.SessionOptions()
        # The product's session settings (server/runtime/worker.ts, Triton's model.py): sequential,
        # all graph optimisations, threads from the knobs; no spinning, so an idle worker takes no CPU.
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = cfg["inter_op_threads"]
        options.intra_op_num_threads = cfg["intra_op_threads"]
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        spin = str(cfg["allow_spinning"])
        options.add_session_config_entry("session.intra_op.allow_spinning", spin)
        options.add_session_config_entry("session.inter_op.allow_spinning", spin)
        self.session = ort.InferenceSession(self.file, options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.size = int(float(meta["input_size"]))
        scale = float(meta["pixel_scale"])
        mean = [float(v) for v in meta["mean"].split(",")]
        std = [float(v) for v in meta["std"].split(",")]
        # letterbox.ts channelTable: x * (1 / (scale * std)) + (-mean / std) in doubles, stored as float32.
        x = np.arange(256, dtype=np.float64)
        self.tables = [(x * (1 / (scale * std[c])) + (-mean[c] / std[c])).astype(np.float32) for c in range(3)]
        self.input_name = self.session.get_inputs()[0].name
        self.outputs = ["detection_boxes", "detection_scores", "detection_classes", "num_detections"]
        # A first run, as our server's warm-up: the first request must not pay for it.
        self.session.run(self.outputs, {self.input_name: np.zeros((1, 3, self.size, self.size), np.float32)})

    def letterbox(self, image):
        """letterbox.ts: bilinear (antialiased) resize keeping the aspect, top-left, padding 0 after
        normalisation; returns the [1,3,S,S] tensor and (scale_x, scale_y)."""
        import numpy as np
        from PIL import Image

        w0, h0 = image.size
        s = self.size
        scale = s / max(w0, h0)
        w = min(s, max(1, js_round(w0 * scale)))
        h = min(s, max(1, js_round(h0 * scale)))
        resized = image if (w, h) == (w0, h0) else image.resize((w, h), Image.BILINEAR)
        px = np.asarray(resized, dtype=np.uint8)
        out = np.zeros((1, 3, s, s), dtype=np.float32)
        for c in range(3):
            out[0, c, :h, :w] = self.tables[c][px[:, :, c]]
        return out, (w / w0, h / h0)

    def detect(self, tensor):
        t0 = time.perf_counter()
        boxes, scores, classes, counts = self.session.run(self.outputs, {self.input_name: tensor})
        return boxes[0], scores[0], classes[0], counts[0], (time.perf_counter() - t0) * 1000


def rows_of(model, out, scale, width, height):
    """The image's detections in original-image pixels (worker.ts + unletterboxBox): boxes clipped."""
    import numpy as np

    boxes, scores, classes, count, infer_ms = out
    n = min(scores.shape[0], max(0, js_round(float(count))))
    b = boxes[:n].astype(np.float64)
    b[:, 0] /= scale[0]
    b[:, 2] /= scale[0]
    b[:, 1] /= scale[1]
    b[:, 3] /= scale[1]
    b[:, 0::2] = np.clip(b[:, 0::2], 0, width)
    b[:, 1::2] = np.clip(b[:, 1::2], 0, height)
    labels = [js_round(float(v)) for v in classes[:n]]
    return {"boxes": b.tolist(), "scores": scores[:n].astype(np.float64).tolist(), "labels": labels, "num_detections": n, "inference_ms": infer_ms}


def seed_rows(model, det, width, height):
    """Our detections in the seed's terms (lib/seed.ts toSeedBox): boxes in its 512 x 512 resized
    input, 100 rows zero-padded, 1-based labels (0 on padding)."""
    sx, sy = SEED_INPUT_SIZE / width, SEED_INPUT_SIZE / height
    boxes = [[b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy] for b in det["boxes"]]
    pad = SEED_ROWS - len(boxes)
    return {
        "boxes": boxes + [[0.0, 0.0, 0.0, 0.0]] * pad,
        "scores": det["scores"] + [0.0] * pad,
        "labels": det["labels"] + [0] * pad,
        "model_name": f"efficientdet_{model}",
        "inference_time_ms": det["inference_ms"],
    }


def decode(data):
    """Pillow: EXIF orientation applied, 8-bit RGB (as server/runtime/decode.ts gives our workers)."""
    import io

    from PIL import Image, ImageOps

    image = Image.open(io.BytesIO(data))
    image = ImageOps.exif_transpose(image)
    return image.convert("RGB") if image.mode != "RGB" else image


def tree_rss_mb(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total / 1024 / 1024


def create_app():
    """The ASGI app of one worker (uvicorn imports it by name in every worker process)."""
    import numpy as np  # noqa: F401  (loaded before the first request)
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, PlainTextResponse, Response
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram, generate_latest
    from prometheus_client import multiprocess

    cfg = json.loads(os.environ[CONFIG_ENV])
    models = {}
    # One inference at a time per worker (as one Triton instance): the rest wait here, booked as queue time.
    gate = asyncio.Semaphore(1)
    started = time.time()
    state = {"peak_mb": 0.0}

    # Gauges summed over every worker that ever ran (multiprocess mode 'sum'), used as counters: a
    # prometheus_client Counter would be exported as *_total, not under the names our report reads.
    def counter(name, doc, labels):
        return Gauge(name, doc, labels, multiprocess_mode="sum")

    impl_label = ["impl"]
    m_success = counter("nv_inference_request_success", "successful inference requests", impl_label)
    m_failure = counter("nv_inference_request_failure", "failed inference requests", impl_label)
    m_request = counter("nv_inference_request_duration_us", "request time, arrival to answer, cumulative us", impl_label)
    m_queue = counter("nv_inference_queue_duration_us", "time waiting for the worker's session, cumulative us", impl_label)
    m_input = counter("nv_inference_compute_input_duration_us", "letterbox + normalisation, cumulative us", impl_label)
    m_infer = counter("nv_inference_compute_infer_duration_us", "session.run time, cumulative us", ["impl", "model"])
    m_count = counter("nv_inference_count", "images inferred", ["impl", "model"])
    m_exec = counter("nv_inference_exec_count", "session runs", ["impl", "model"])
    m_latency = Histogram("fastapi_request_duration_seconds", "request latency", impl_label, buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        for name in cfg["models"]:
            models[name] = Model(name, cfg["models_dir"], cfg)
        # Tell the supervisor this worker is ready (it prints the ready line once all are).
        with open(os.path.join(cfg["run_dir"], f"ready-{os.getpid()}"), "w") as f:
            f.write(str(os.getpid()))
        yield

    app = FastAPI(title="multidet-bench FastAPI + onnxruntime peer", lifespan=lifespan)

    def error(status, code, detail):
        return JSONResponse({"error": code, "detail": detail}, status_code=status)

    def worker_pids():
        return {cfg["supervisor_pid"], *(int(n.split("-")[1]) for n in os.listdir(cfg["run_dir"]) if n.startswith("ready-"))}

    @app.get("/health")
    def health():
        if cfg["api"] == "seed":
            return {"status": "healthy", "models_loaded": len(models) == len(cfg["models"]), "models": [f"efficientdet_{m}" for m in models], "workers": cfg["workers"]}
        return {
            "status": "ok", "ready": len(models) == len(cfg["models"]), "ep": "cpu",
            "models": [{"name": m.name, "input_size": m.size, "file": m.file} for m in models.values()],
            "implementations": [cfg["impl"]], "uptime_s": time.time() - started, "version": "fastapi-peer",
        }

    @app.get("/implementations")
    def implementations():
        return {"implementations": [{"name": cfg["impl"], "description": "FastAPI + onnxruntime peer (peers/fastapi/server.py)", "lossless": False}]}

    @app.get("/vram")
    def vram():
        used = tree_rss_mb(worker_pids())
        state["peak_mb"] = max(state["peak_mb"], used)
        return {"device": "host", "used_mb": used, "peak_mb": state["peak_mb"]}

    @app.post("/vram/reset")
    def vram_reset():
        state["peak_mb"] = tree_rss_mb(worker_pids())
        return {"device": "host", "used_mb": state["peak_mb"], "peak_mb": state["peak_mb"]}

    @app.get("/metrics")
    def metrics():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    def run_images(uploads, asked):
        """Decode, letterbox and run every asked model on each upload, in the worker's thread."""
        out, t = [], {"decode_ms": 0.0, "preprocess_ms": 0.0, "infer_ms": 0.0}
        for image_id, data in uploads:
            t0 = time.perf_counter()
            image = decode(data)
            t["decode_ms"] += (time.perf_counter() - t0) * 1000
            width, height = image.size
            per_model = {}
            for name in asked:
                model = models[name]
                t1 = time.perf_counter()
                tensor, scale = model.letterbox(image)
                t["preprocess_ms"] += (time.perf_counter() - t1) * 1000
                det = model.detect(tensor)
                t["infer_ms"] += det[4]
                m_infer.labels(cfg["impl_label"], name).inc(det[4] * 1000)
                m_count.labels(cfg["impl_label"], name).inc()
                m_exec.labels(cfg["impl_label"], name).inc()
                per_model[name] = rows_of(name, det, scale, width, height)
            out.append({"image_id": image_id, "width": width, "height": height, "models": per_model})
        return out, t

    @app.post("/infer/{impl}")
    async def infer(impl: str, request: Request):
        t0 = time.perf_counter()
        label = cfg["impl_label"]
        if cfg["api"] == "native" and impl != cfg["impl"]:
            return error(404, "unknown_implementation", f"unknown implementation {impl}; this server serves {cfg['impl']}")
        asked = list(models) if cfg["api"] == "seed" or "models" not in request.query_params else [s.strip().lower() for s in request.query_params["models"].split(",") if s.strip()]
        unknown = [m for m in asked if m not in models]
        if not asked or unknown:
            return error(400, "unknown_model", f"unknown model(s) {', '.join(unknown) or '(none)'}; known models are {', '.join(models)}")
        header_id = request.headers.get("x-image-id")
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form()
            files = form.getlist("file")
            if not files:
                return error(400, "empty_body", "multipart body has no 'file' field")
            uploads = [(header_id if len(files) == 1 and header_id is not None else (f.filename or None), await f.read()) for f in files]
        else:
            body = await request.body()
            if not body:
                return error(400, "empty_body", "the request carried no image bytes")
            uploads = [(header_id, body)]
        if cfg["api"] == "seed" and len(uploads) != 1:
            return error(400, "one_image", "the seed API takes one multipart `file` per request")
        tq = time.perf_counter()
        async with gate:
            queue_ms = (time.perf_counter() - tq) * 1000
            try:
                images, t = await asyncio.to_thread(run_images, uploads, asked)
            except Exception as e:  # Pillow's refusal of a non-image, a truncated file
                m_failure.labels(label).inc()
                return error(400, "invalid_image", f"image could not be decoded: {str(e).splitlines()[0][:200]}")
        total_ms = (time.perf_counter() - t0) * 1000
        if cfg["api"] == "seed":
            img = images[0]
            body = {"implementation": impl, "total_inference_time_ms": total_ms,
                    "detections": [seed_rows(name, det, img["width"], img["height"]) for name, det in img["models"].items()]}
        else:
            body = {"implementation": impl, "ep": "cpu",
                    "images": [{k: v for k, v in i.items() if k != "image_id" or v is not None} for i in images],
                    "timing": {**t, "queue_ms": queue_ms, "total_ms": total_ms}}
        response = JSONResponse(body)
        done_us = (time.perf_counter() - t0) * 1e6
        m_success.labels(label).inc()
        m_request.labels(label).inc(done_us)
        m_queue.labels(label).inc(queue_ms * 1000)
        m_input.labels(label).inc(t["preprocess_ms"] * 1000)
        m_latency.labels(label).observe(done_us / 1e6)
        return response

    return app


# ---------------------------------------------------------------- supervisor

def main(argv):
    args = parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = [m for m in models if m not in MODEL_NAMES]
    if bad or not models:
        print(f"fastapi: --models={args.models} is not valid: expected a comma list of {', '.join(MODEL_NAMES)}", file=sys.stderr)
        return 2
    port = args.port or free_port(args.host)
    run_dir = tempfile.mkdtemp(prefix="fastapi-peer-")
    # prometheus_client's multiprocess mode: every worker writes its samples here, /metrics sums them.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(run_dir, "prom")
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    cfg = {"api": args.api, "impl": args.impl, "impl_label": args.impl, "workers": args.workers, "intra_op_threads": args.intra_op_threads,
           "inter_op_threads": args.inter_op_threads, "allow_spinning": args.allow_spinning, "models": models,
           "models_dir": os.path.abspath(args.models_dir), "run_dir": run_dir, "supervisor_pid": os.getpid()}
    os.environ[CONFIG_ENV] = json.dumps(cfg)
    import onnxruntime
    import uvicorn

    url = f"http://{args.host}:{port}"
    print(f"fastapi: FastAPI + onnxruntime {onnxruntime.__version__} api={args.api} workers={args.workers} models={','.join(models)} on {url}", flush=True)

    def announce():
        # Ready once every worker has loaded its sessions (each writes ready-<pid>).
        deadline = time.time() + args.ready_timeout
        while time.time() < deadline:
            if len([n for n in os.listdir(run_dir) if n.startswith("ready-")]) >= args.workers:
                print(f"ready {url} metrics={url}/metrics api={args.api} workers={args.workers} pid={os.getpid()}", flush=True)
                return
            time.sleep(0.1)
        print(f"fastapi: not ready after {args.ready_timeout:g}s ({run_dir}): raise READY_TIMEOUT or see the lines above", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=announce, daemon=True).start()
    try:
        # uvicorn stops on SIGTERM/SIGINT: in-flight requests finish, the workers exit, then it returns.
        uvicorn.run("server:create_app", factory=True, app_dir=os.path.dirname(os.path.abspath(__file__)), host=args.host, port=port,
                    workers=args.workers, log_level="warning", access_log=False, timeout_graceful_shutdown=30)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    print("fastapi: stopped (uvicorn exit code 0)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
