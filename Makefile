# Every target installs what it needs and skips what is already there.
# Variables (same names everywhere): SCENARIO IMPL DURATION TARGET DATASET_DIR MAX_IMAGES EP K6
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

# SCENARIO, IMPL and the other knobs reach the tools through the environment; each tool has its own
# defaults (bench: concurrency8 on baseline; server: every implementation), so none is set here.

# onnxruntime-node's install script downloads the CUDA EP; hosts without an NVIDIA GPU skip it.
# A CUDA host gets it by default, or with `ONNXRUNTIME_NODE_INSTALL=cuda12 make deps`.
ONNXRUNTIME_NODE_INSTALL ?= $(if $(shell command -v nvidia-smi 2>/dev/null),,skip)
export ONNXRUNTIME_NODE_INSTALL

TSX := node --import tsx
# The server's node flags, from the one file every tool reads (why: lib/node/server-launch.ts).
SERVER_NODE := node $(file < lib/node/server-node-args)
# The npm stamp is named by the content of package.json + package-lock.json, so a checkout that only
# touches them (a branch switch, a copy with new modification times) reinstalls nothing and any change to them does.
DEPS_HASH := $(shell cat package.json package-lock.json | sha256sum | cut -c1-16)
STAMP := node_modules/.installed-$(DEPS_HASH)

.PHONY: help docs deps k6 loadgen harness build typecheck models models-int8 data server bench bench-merge k6-operator bench-models perf-analyzer perf-analyzer-install host-bounds calibrate reference accuracy report test clean k6-run triton triton-env torchserve torchserve-env fastapi fastapi-env region interference tune

help: ## list targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(STAMP):
	@echo "deps: npm ci (ONNXRUNTIME_NODE_INSTALL=$(or $(ONNXRUNTIME_NODE_INSTALL),default); package.json + package-lock.json $(DEPS_HASH))"
	npm ci --no-audit --no-fund
	@rm -f node_modules/.installed node_modules/.installed-*
	@touch $@

docs: $(STAMP) ## write the knob tables of README.md and docs/configuration.md from the knob registries (idempotent)
	@$(TSX) tools/docs.ts

deps: $(STAMP) ## install node packages (npm ci) when the lockfile changed

k6: ## resolve k6 (K6=path, a pinned k6 on PATH, or build it from source into build/bin)
	@tools/go/k6/resolve.sh

loadgen: ## build vegeta, the independent load generator, from the pinned source in tools/go/loadgen (once)
	@tools/go/loadgen/resolve.sh

build: $(STAMP) ## bundle scenarios/*.ts into build/k6/*.js with esbuild
	@$(TSX) tools/build.ts

typecheck: $(STAMP) ## type-check Node-side and k6-side code separately
	node_modules/.bin/tsc -p tsconfig.node.json
	node_modules/.bin/tsc -p tsconfig.k6.json

models: $(STAMP) ## generate EfficientDet D0-D2 ONNX files into build/models (idempotent)
	@$(TSX) tools/models/generate.ts

models-int8: models data ## int8 QDQ variants of D0-D2 calibrated on the synthetic data -> build/models/*-int8.onnx (idempotent)
	@INT8=1 STACKED=0 $(TSX) tools/models/generate.ts

# The int8 files are made only for the runs that serve int8 (about 25 s the first time).
comma := ,
INT8_IF_NEEDED = $(if $(filter int8 all,$(subst $(comma), ,$(IMPL))),models-int8)

bench-models: models ## time each model in-process (batch 1 and 4) -> results/models/
	@$(TSX) tools/model-bench/bench.ts

data: $(STAMP) models ## make the synthetic dataset in build/data/synthetic and the v2 per-model tensors of its first TENSOR_IMAGES images (idempotent)
	@$(TSX) tools/data/synthetic.ts
	@$(TSX) tools/data/tensors.ts

server: models ## run the inference server (HOST, PORT, MODELS_DIR, EP, ...)
	@$(SERVER_NODE) server/main.ts

bench: k6 build models data $(INT8_IF_NEEDED) ## run SCENARIO against IMPL and write results/<run>/
	@$(TSX) tools/bench/run.ts

bench-merge: $(STAMP) ## merge k6 runners' samples under SAMPLES_DIR (+ SAMPLES_DIR/merge.json or MERGE_SPEC) into one summary; exit 99 on a broken threshold
	@$(TSX) tools/scale-out/merge.ts

k6-operator: k6 data ## k6-operator manifests (k6 archive in a ConfigMap, TestRun with RUNNERS pods) -> build/k6-operator/<name>/ (TARGET RUNNERS SCENARIO IMPL SAMPLES_PVC ...)
	@$(TSX) tools/scale-out/operator.ts

perf-analyzer-install: ## install Triton's perf_analyzer (tritonclient 2.51.0 wheel, venv) into build/perf-analyzer (idempotent)
	@peers/perf-analyzer/install.sh

perf-analyzer: perf-analyzer-install models data ## Triton's perf_analyzer against V2_MODELS (d0: efficientdet-d0) at LEVELS (1,8) over v2 binary tensors -> results/<run>/perf_analyzer.csv
	@$(TSX) peers/perf-analyzer/run.ts

host-bounds: k6 build models data ## measure this host's bounds (baseline and invalid sweeps) -> results/host-bounds.json
	@$(TSX) tools/bench/host-bounds.ts

# The old name of host-bounds ("calibration" is the int8 step's word): one line naming the new one.
calibrate:
	@echo "calibrate was renamed: run 'make host-bounds' (it writes results/host-bounds.json)" >&2; exit 2

reference: models data ## baseline reference outputs -> results/reference/<dataset>/
	@$(TSX) tools/accuracy/reference.ts

accuracy: models data $(INT8_IF_NEEDED) ## replay the reference images through IMPL -> accuracy.json
	@$(TSX) tools/accuracy/replay.ts

harness: k6 loadgen build models data ## measure the measurer: k6 vs vegeta, k6 CPU per request, served vs in-process -> results/harness/ (IMPL LEVELS DURATION ROUNDS GENERATORS)
	@$(TSX) tools/harness/run.ts

report: k6 build models models-int8 data ## compare implementations: interleaved sweeps (or a traffic mix with MIX), REPEATS rounds -> results/report/<timestamp>/ (IMPL LEVELS MIX DURATION REPEATS SERVER REUSE TUNE)
	@$(TSX) tools/report/run.ts

region: k6 build models data ## capacity region: per mix direction, the highest total rate with every model within REGION_SLO -> results/region/ (IMPL PEERS REGION_DIRECTIONS REGION_SLO DURATION REGION_BUDGET)
	@$(TSX) tools/region/run.ts

interference: k6 build models data ## interference matrix: each model's p99 at a light rate beside another's growing rate -> results/interference/ (IMPL PEERS INTERFERENCE_MODELS INTERFERENCE_LIGHT INTERFERENCE_RATES)
	@$(TSX) tools/region/interference.ts

tune: k6 build models models-int8 data ## search serving configurations of our server (and Triton with PEERS=triton) for the best goodput within TUNE_SLO, accuracy and TUNE_MEMORY_MB -> results/tune/ (TUNE_SEARCH TUNE_BUDGET SCENARIO IMPL TUNE_WORKERS TARGET_RATE TUNE_RESUME)
	@$(TSX) tools/tune/run.ts

# The Triton peer (peers/triton): a Python venv from PyPI in build/triton/venv, made once and again
# when the pinned requirements change. TRITON_PYTHON picks the interpreter (default python3).
TRITON_VENV := build/triton/venv
$(TRITON_VENV)/.installed: peers/triton/requirements.txt peers/triton/install.sh peers/triton/prepare.py
	@peers/triton/install.sh

triton-env: $(TRITON_VENV)/.installed ## install the Triton peer's venv (tritonserver 2.51.0 via nvidia-pytriton, onnxruntime) into build/triton

# `models` and the node packages only when missing: the npm stamp must not reinstall node packages under
# a running `make report PEERS=triton`. peers/triton/driver.ts reads the Triton knobs
# (peers/triton/config.ts) and runs serve.py in the venv with them.
triton: triton-env $(if $(wildcard node_modules/tsx/package.json),,$(STAMP)) $(if $(wildcard $(or $(MODELS_DIR),build/models)/efficientdet-d2.onnx),,models) ## run Triton Inference Server on the same models (TRITON_MODEL_SET=instances|dynamic, docs/peers.md)
	@$(TSX) peers/triton/driver.ts

# The TorchServe peer (peers/torchserve): torchserve 0.12.0 from PyPI in build/torchserve/venv (a Java
# 11+ runtime must be installed), made once and again when the pinned requirements change.
# peers/torchserve/driver.ts reads the TorchServe knobs (peers/torchserve/config.ts) and runs serve.py.
TORCHSERVE_VENV := build/torchserve/venv
$(TORCHSERVE_VENV)/.installed: peers/torchserve/requirements.txt peers/torchserve/install.sh
	@peers/torchserve/install.sh

torchserve-env: $(TORCHSERVE_VENV)/.installed ## install the TorchServe peer's venv (torchserve 0.12.0, onnxruntime; needs Java 11+) into build/torchserve

torchserve: torchserve-env $(if $(wildcard node_modules/tsx/package.json),,$(STAMP)) $(if $(wildcard $(or $(MODELS_DIR),build/models)/efficientdet-d2.onnx),,models) ## run TorchServe on the same models through an onnxruntime handler (TORCHSERVE_WORKERS, docs/peers.md)
	@$(TSX) peers/torchserve/driver.ts

# The FastAPI + onnxruntime peer (peers/fastapi): a Python venv from PyPI in build/fastapi/venv, made once
# and again when the pinned requirements change. FASTAPI_PYTHON picks the interpreter (default python3).
FASTAPI_VENV := build/fastapi/venv
$(FASTAPI_VENV)/.installed: peers/fastapi/requirements.txt peers/fastapi/install.sh
	@peers/fastapi/install.sh

fastapi-env: $(FASTAPI_VENV)/.installed ## install the FastAPI + onnxruntime peer's venv (fastapi, uvicorn, Pillow, onnxruntime 1.30.0) into build/fastapi

# peers/fastapi/driver.ts reads the FastAPI knobs (peers/fastapi/config.ts) and runs server.py in the venv.
fastapi: fastapi-env $(if $(wildcard node_modules/tsx/package.json),,$(STAMP)) $(if $(wildcard $(or $(MODELS_DIR),build/models)/efficientdet-d2.onnx),,models) ## run the FastAPI + onnxruntime peer on the same models (FASTAPI_API=native|seed, FASTAPI_WORKERS, docs/peers.md)
	@$(TSX) peers/fastapi/driver.ts

# TEST_ORDER=reverse runs the test files in reverse order: each file must stand alone (docs/testing.md).
TEST_ORDER ?= normal
test: k6 typecheck build models data ## install what is missing, typecheck, build, run all tests (TEST_ORDER=normal|reverse)
	@case "$(TEST_ORDER)" in normal|reverse) ;; *) echo "test: TEST_ORDER=$(TEST_ORDER) is not valid: expected one of normal, reverse"; exit 2;; esac
	node --import tsx --test --test-concurrency=1 $$(find test -name '*.test.ts' | sort $(if $(filter reverse,$(TEST_ORDER)),-r))

clean: ## remove generated files (build/, results/ runs)
	rm -rf build $(filter-out results/README.md,$(wildcard results/*))

k6-run: k6 ## run one bundled script with the resolved k6: make k6-run SCRIPT=build/k6/x.js [K6_ARGS=...]
	@test -n "$(SCRIPT)" || { echo "k6-run: set SCRIPT=build/k6/<name>.js (run 'make build' first)"; exit 2; }
	"$$(cat build/k6.path)" run $(K6_ARGS) "$(SCRIPT)"
