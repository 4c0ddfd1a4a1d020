// Operational routes: GET /health, /implementations, /metrics, /vram and POST /vram/reset.
import { performance } from 'node:perf_hooks';
import { Router } from 'express';
import type { HealthResponse, ImplementationsResponse } from '../../lib/types.ts';
import type { ServerConfig } from '../config.ts';
import { HttpError } from '../http/errors.ts';
import type { ImplementationHost } from '../lifecycle.ts';
import type { ServerMetrics } from '../metrics/server-metrics.ts';
import { SERVER_VERSION } from '../version.ts';

export function opsRoutes(config: ServerConfig, host: ImplementationHost, metrics: ServerMetrics): Router {
  const router = Router();
  const startedAt = performance.now();

  router.get('/health', (_req, res) => {
    const body: HealthResponse = {
      status: host.ready ? 'ok' : 'loading',
      ready: host.ready,
      ep: host.ep,
      models: host.models.map((m) => ({ name: m.name, input_size: m.inputSize, file: m.file })),
      implementations: [...host.served],
      uptime_s: (performance.now() - startedAt) / 1000,
      version: SERVER_VERSION,
      ep_requested: config.ep,
      ep_notes: [...host.epNotes],
      settings: {
        workers: config.workers,
        threads: config.threads,
        graph_opt: config.graphOpt,
        max_body_mb: config.maxBodyMb,
        max_pixels: config.maxPixels,
        max_batch: config.requestMaxBatch,
        parallel_workers: config.parallelWorkers,
        parallel_threads: config.parallelThreads,
        batch_max_size: config.batcherMaxBatch,
        batch_max_delay_us: config.batcherMaxDelayUs,
        spinning: config.spinning,
        queue_max_size: config.queueMaxSize,
        queue_timeout_us: config.queueTimeoutUs,
      },
      queues: host.queues(),
    };
    // 503 while loading so plain HTTP probes wait too; the body says why.
    if (!host.ready) res.status(503).set('Retry-After', '2');
    res.json(body);
  });

  router.get('/implementations', (_req, res) => {
    const body: ImplementationsResponse = {
      implementations: host.served.map((name) => {
        const impl = host.peek(name);
        return { name, description: impl?.description ?? '', lossless: impl?.lossless ?? false };
      }),
    };
    res.json(body);
  });

  router.get('/vram', (_req, res) => {
    res.json(metrics.memory.read());
  });
  router.post('/vram/reset', (req, res) => {
    const window = typeof req.query['window'] === 'string' ? req.query['window'] : undefined;
    if (window !== undefined && !/^[\w.-]{1,64}$/.test(window)) {
      throw new HttpError(400, 'invalid_window', `window=${JSON.stringify(window).slice(0, 80)} must be 1-64 letters, digits, '.', '_' or '-'`);
    }
    res.json(metrics.memory.reset(window));
  });

  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', metrics.registry.contentType).send(await metrics.text());
  });
  return router;
}
