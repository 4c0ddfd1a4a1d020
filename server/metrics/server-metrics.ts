// Prometheus metrics (prom-client), named after Triton's nv_inference_* family so dashboards and
// habits carry over; the mapping is documented in docs/server.md.
import client from 'prom-client';
import { EventLoopDelay } from './event-loop.ts';
import { MemoryTracker } from './memory.ts';
import { ModelStatsLedger } from './model-stats.ts';
import type { RequestRecord } from './request-record.ts';

/** Latency buckets in seconds: 1 ms .. 30 s, dense where CPU detectors land (50 ms .. 2 s). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64];

const MB = 1024 * 1024;

export class ServerMetrics {
  readonly registry = new client.Registry();
  readonly memory = new MemoryTracker();
  /** The same bookings per implementation and model, for the v2 statistics extension. */
  readonly modelStats = new ModelStatsLedger();
  private readonly loopDelay: EventLoopDelay;

  private readonly success = this.counter('nv_inference_request_success', 'Successful inference requests', ['impl']);
  private readonly failure = this.counter('nv_inference_request_failure', 'Failed inference requests, by HTTP status and error code', ['impl', 'status', 'reason']);
  private readonly count = this.counter('nv_inference_count', 'Images inferred (one per image per model)', ['impl', 'model']);
  private readonly execCount = this.counter('nv_inference_exec_count', 'Model executions (session runs per model; fewer than nv_inference_count when requests are batched together)', ['impl', 'model']);
  // Triton's cumulative microsecond counters, for rate()-based dashboards.
  private readonly requestUs = this.counter('nv_inference_request_duration_us', 'Cumulative request duration (arrival to response), microseconds', ['impl']);
  private readonly queueUs = this.counter(
    'nv_inference_queue_duration_us',
    'Cumulative request queue time: from the hand-off to the implementation to the end of its last job, less its compute critical path (waiting for the serialisation lock, a worker or a batch, before and between its jobs), microseconds',
    ['impl'],
  );
  // Not in Triton: with it, queue + critical path + overhead = request for every implementation.
  private readonly criticalUs = this.counter(
    'nv_inference_compute_critical_path_duration_us',
    "Cumulative compute critical path per request: the time during which at least one of the request's worker jobs ran (hand-off to result), microseconds",
    ['impl'],
  );
  private readonly modelQueueUs = this.counter('nv_inference_model_queue_duration_us', "Cumulative wait per model: from the request's hand-off to the implementation to the start of the first job that ran this model, microseconds", ['impl', 'model']);
  private readonly modelQueueHist = this.histogram('nv_inference_model_queue_duration_seconds', "Wait per model: from the request's hand-off to the implementation to the start of the first job that ran this model", ['impl', 'model'], LATENCY_BUCKETS);
  private readonly inputUs = this.counter('nv_inference_compute_input_duration_us', 'Cumulative letterbox + normalise time, microseconds', ['impl']);
  private readonly inferUs = this.counter('nv_inference_compute_infer_duration_us', 'Cumulative session.run time, microseconds', ['impl', 'model']);
  // Histograms for quantiles.
  private readonly requestHist = this.histogram('nv_inference_request_duration_seconds', 'Request duration by status (arrival to response)', ['impl', 'status'], LATENCY_BUCKETS);
  private readonly queueHist = this.histogram('nv_inference_queue_duration_seconds', 'Request queue time (waiting for the serialisation lock, a worker or a batch, before and between its jobs)', ['impl'], LATENCY_BUCKETS);
  private readonly decodeHist = this.histogram('nv_inference_decode_duration_seconds', 'Image decoding time per request (decodeImage: libjpeg-turbo for plain JPEGs, on the HTTP thread for a lone request, else on the libuv pool; sharp for the rest)', ['impl'], LATENCY_BUCKETS);
  private readonly inputHist = this.histogram('nv_inference_compute_input_duration_seconds', 'Letterbox + normalise time in the worker (all requested models)', ['impl'], LATENCY_BUCKETS);
  private readonly inferHist = this.histogram('nv_inference_compute_infer_duration_seconds', 'session.run time per model and batch', ['impl', 'model'], LATENCY_BUCKETS);
  private readonly batchHist = this.histogram('nv_inference_request_batch_size', 'Images per request', ['impl'], BATCH_BUCKETS);
  private readonly execBatchHist = this.histogram('nv_inference_exec_batch_size', 'Images per model execution (session.run); > 1 when requests are batched together', ['impl', 'model'], BATCH_BUCKETS);
  private readonly inflight = new client.Gauge({ name: 'nv_inference_inflight_requests', help: 'Inference requests received and not yet answered', labelNames: ['impl'], registers: [this.registry] });

  constructor(info: () => { ep: string; ready: boolean; version: string; pending: Record<string, number>; modelPending?: Record<string, Partial<Record<string, number>>> }) {
    this.loopDelay = new EventLoopDelay();
    client.collectDefaultMetrics({ register: this.registry });
    const delay = this.loopDelay;
    new client.Gauge({
      name: 'nv_server_event_loop_delay_seconds',
      help: 'Main-thread event-loop delay since start (perf_hooks.monitorEventLoopDelay, 10 ms resolution)',
      labelNames: ['quantile'],
      registers: [this.registry],
      collect() {
        for (const [quantile, seconds] of Object.entries(delay.quantiles())) this.set({ quantile }, seconds);
      },
    });
    const memory = this.memory;
    new client.Gauge({
      name: 'nv_cpu_memory_used_bytes',
      help: 'Host memory in use by the server process (RSS, all threads)',
      registers: [this.registry],
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
    new client.Gauge({
      name: 'nv_memory_peak_bytes',
      help: 'Peak memory since the last POST /vram/reset (device = host RSS or cuda)',
      labelNames: ['device'],
      registers: [this.registry],
      collect() {
        const m = memory.read();
        this.reset();
        this.set({ device: m.device }, m.peak_mb * MB);
      },
    });
    new client.Gauge({
      name: 'nv_gpu_memory_used_bytes',
      help: 'GPU memory used by this process (nvidia-smi; 0 when not on CUDA)',
      registers: [this.registry],
      collect() {
        const m = memory.read();
        this.set(m.device === 'cuda' ? m.used_mb * MB : 0);
      },
    });
    new client.Gauge({
      name: 'nv_server_ready',
      help: '1 when every model is loaded and warmed up',
      registers: [this.registry],
      collect() {
        this.set(info().ready ? 1 : 0);
      },
    });
    new client.Gauge({
      name: 'nv_inference_pending_request_count',
      help: 'Work accepted and waiting to execute (serialisation lock or a free worker), per implementation: requests for baseline-like implementations, request x model jobs for concurrent and batched',
      labelNames: ['impl'],
      registers: [this.registry],
      collect() {
        for (const [impl, n] of Object.entries(info().pending)) this.set({ impl }, n);
      },
    });
    new client.Gauge({
      name: 'nv_inference_model_pending_request_count',
      help: 'Requests admitted to a model\'s own queue and not yet executing there, per implementation and model (implementations with a queue per model: isolated)',
      labelNames: ['impl', 'model'],
      registers: [this.registry],
      collect() {
        for (const [impl, byModel] of Object.entries(info().modelPending ?? {})) {
          for (const [model, n] of Object.entries(byModel)) this.set({ impl, model }, n ?? 0);
        }
      },
    });
    new client.Gauge({
      name: 'nv_server_info',
      help: 'Constant 1, labelled with the execution provider in use and the server version',
      labelNames: ['ep', 'version'],
      registers: [this.registry],
      collect() {
        const i = info();
        this.reset();
        this.set({ ep: i.ep, version: i.version }, 1);
      },
    });
  }

  private counter(name: string, help: string, labelNames: string[]) {
    return new client.Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram(name: string, help: string, labelNames: string[], buckets: number[]) {
    return new client.Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  requestStarted(impl: string): void {
    this.inflight.inc({ impl });
  }

  requestFinished(r: RequestRecord): void {
    const { impl } = r;
    this.inflight.dec({ impl });
    this.modelStats.book(r);
    this.requestHist.observe({ impl, status: String(r.status) }, r.total_s);
    // Runs that happened count even when the request failed afterwards (e.g. the client went away).
    for (const e of r.executions ?? []) {
      this.execCount.inc({ impl, model: e.model });
      this.execBatchHist.observe({ impl, model: e.model }, e.batch_size);
      this.inferHist.observe({ impl, model: e.model }, e.infer_s);
      this.inferUs.inc({ impl, model: e.model }, e.infer_s * 1e6);
    }
    if (r.status >= 400) {
      this.failure.inc({ impl, status: String(r.status), reason: r.reason });
      return;
    }
    this.success.inc({ impl });
    this.requestUs.inc({ impl }, r.total_s * 1e6);
    this.batchHist.observe({ impl }, r.images);
    if (r.decode_s !== undefined) this.decodeHist.observe({ impl }, r.decode_s);
    if (r.queue_s !== undefined) {
      this.queueHist.observe({ impl }, r.queue_s);
      this.queueUs.inc({ impl }, r.queue_s * 1e6);
    }
    if (r.compute_s !== undefined) this.criticalUs.inc({ impl }, r.compute_s * 1e6);
    for (const [model, s] of Object.entries(r.model_queue_s ?? {})) {
      this.modelQueueUs.inc({ impl, model }, s * 1e6);
      this.modelQueueHist.observe({ impl, model }, s);
    }
    if (r.preprocess_s !== undefined) {
      this.inputHist.observe({ impl }, r.preprocess_s);
      this.inputUs.inc({ impl }, r.preprocess_s * 1e6);
    }
    for (const model of r.models ?? []) this.count.inc({ impl, model }, r.images);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  stop(): void {
    this.loopDelay.stop();
    this.memory.stop();
  }
}
