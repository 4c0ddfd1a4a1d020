"""Triton Python-backend model: one EfficientDet ONNX file run by onnxruntime (CPU).

serve.py copies this file into every model of the generated repository; the model's config.pbtxt
names the ONNX file and the session settings in its `parameters`, the way Triton's own onnxruntime
backend takes them (intra_op_thread_count, ...). With the dynamic batcher, `execute` gets several
requests: their tensors run as one session.run and each request gets its own rows back.
"""
import json

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        options = ort.SessionOptions()
        # Same settings as the product's sessions (server/runtime/worker.ts): sequential, one
        # inter-op thread, all graph optimisations; intra-op threads from the config.
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = int(params["intra_op_thread_count"])
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # An idle server must take no CPU: intra-op workers block instead of spinning.
        options.add_session_config_entry("session.intra_op.allow_spinning", params["allow_spinning"])
        options.add_session_config_entry("session.inter_op.allow_spinning", params["allow_spinning"])
        self.session = ort.InferenceSession(params["onnx_file"], options, providers=["CPUExecutionProvider"])
        self.input_name = config["input"][0]["name"]
        self.output_names = [o["name"] for o in config["output"]]

    def execute(self, requests):
        inputs = [pb_utils.get_input_tensor_by_name(r, self.input_name).as_numpy() for r in requests]
        rows = [x.shape[0] for x in inputs]
        batch = inputs[0] if len(inputs) == 1 else np.concatenate(inputs)
        outputs = self.session.run(self.output_names, {self.input_name: batch})
        responses, start = [], 0
        for n in rows:
            tensors = [pb_utils.Tensor(name, np.ascontiguousarray(out[start:start + n])) for name, out in zip(self.output_names, outputs)]
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
            start += n
        return responses

    def finalize(self):
        self.session = None
