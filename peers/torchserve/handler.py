"""TorchServe handler of the peer: one EfficientDet ONNX file run by onnxruntime (CPU).

serve.py archives this file once per model (torch-model-archiver, no weights inside: the model's
model-config.yaml names the ONNX file under `handler:`). TorchServe's worker calls initialize() once,
then handle() with the requests its batcher collected (batchSize/maxBatchDelay in model-config.yaml):
they run as one session.run and each request gets its own rows back.

Request: POST /predictions/efficientdet-dN with the prepared FP32 tensor bytes, [n,3,S,S] row-major
little-endian, as our v2 clients send after their JSON header (n = body size / one image's bytes).
Reply: the Open Inference Protocol's response with binary tensor data (a JSON header, then the
detection tensors' bytes; Inference-Header-Content-Length gives the header's length), the same
bytes Triton answers, so the k6 side reads both with one parser (lib/v2/wire.ts).
No torch import: a class that is not a BaseHandler (see torch-stand-in/torch/__init__.py).
"""
import json
import time

import numpy as np
import onnxruntime as ort

DETECTION_OUTPUTS = ("detection_boxes", "detection_scores", "detection_classes", "num_detections")


class OnnxDetector:
    def initialize(self, context):
        cfg = (context.model_yaml_config or {}).get("handler") or {}
        options = ort.SessionOptions()
        # Same settings as the product's sessions (server/runtime/worker.ts) and the Triton peer's:
        # sequential, one inter-op thread, all graph optimisations; intra-op threads from the config.
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = int(cfg["intra_op_thread_count"])
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # An idle worker must take no CPU: intra-op workers block instead of spinning.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self.session = ort.InferenceSession(cfg["onnx_file"], options, providers=["CPUExecutionProvider"])
        self.model_name = context.model_name
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.image_shape = tuple(int(d) for d in inp.shape[1:])
        self.image_bytes = 4 * int(np.prod(self.image_shape))
        dims = lambda shape: [d if isinstance(d, int) else -1 for d in shape]
        self.metadata = {
            "name": self.model_name,
            "inputs": [{"name": inp.name, "datatype": "FP32", "shape": [-1, *self.image_shape]}],
            "outputs": [{"name": o.name, "datatype": "FP32", "shape": dims(o.shape)} for o in self.session.get_outputs() if o.name in DETECTION_OUTPUTS],
        }
        # Warm-up, as our server and Triton warm their sessions: the first run is ~20x slower.
        self.session.run(list(DETECTION_OUTPUTS), {self.input_name: np.zeros((1, *self.image_shape), np.float32)})

    def handle(self, data, context):
        tensors, rows, replies = [], [], [None] * len(data)
        for i, request in enumerate(data):
            body = request.get("body") if request.get("body") is not None else request.get("data")
            size = len(body) if isinstance(body, (bytes, bytearray)) else -1
            if size <= 0 or size % self.image_bytes:
                # TorchServe's inference API has no model metadata: a request without a whole tensor
                # answers 400 with the model's tensor contract (the v2 metadata's shape), which the
                # k6 client's gate checks against the prepared tensors.
                context.set_response_status(400, "Bad Request", idx=i)
                context.set_response_content_type(i, "application/json")
                replies[i] = json.dumps({"error": f"{self.model_name} takes FP32 [n,{','.join(map(str, self.image_shape))}] tensor bytes (a multiple of {self.image_bytes}), got {size if size >= 0 else type(body).__name__}", **self.metadata})
                continue
            n = size // self.image_bytes
            tensors.append(np.frombuffer(body, dtype=np.float32).reshape(n, *self.image_shape))
            rows.append((i, n))
        if not tensors:
            return replies
        batch = tensors[0] if len(tensors) == 1 else np.concatenate(tensors)
        t0 = time.perf_counter()
        outputs = self.session.run(list(DETECTION_OUTPUTS), {self.input_name: batch})
        run_us = (time.perf_counter() - t0) * 1e6
        # Counters TorchServe exports on /metrics (model_metrics_auto_detect), for the report's split of
        # a request's time: every request of the batch waited for the whole run (as Triton books
        # compute per request), plus executions and images for the batch size that ran.
        context.metrics.add_counter("ts_handler_compute_microseconds", run_us * len(rows))
        context.metrics.add_counter("ts_handler_execution_count", 1)
        context.metrics.add_counter("ts_handler_image_count", len(batch))
        start = 0
        for i, n in rows:
            parts = [np.ascontiguousarray(o[start:start + n], dtype=np.float32) for o in outputs]
            start += n
            header = json.dumps({
                "model_name": self.model_name,
                "outputs": [{"name": name, "datatype": "FP32", "shape": list(p.shape), "parameters": {"binary_data_size": p.nbytes}} for name, p in zip(DETECTION_OUTPUTS, parts)],
            }).encode()
            context.set_response_content_type(i, "application/octet-stream")
            context.set_response_header(i, "Inference-Header-Content-Length", str(len(header)))
            replies[i] = header + b"".join(p.tobytes() for p in parts)
        return replies
