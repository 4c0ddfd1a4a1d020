// The worker pool on its own: real workers, a real D0 session. A dead worker fails only its own
// request and is replaced; the pool keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import { readModelInfos } from '../../server/runtime/model-info.ts';
import { WorkerPool } from '../../server/runtime/pool.ts';
import { decodeImage } from '../../server/runtime/decode.ts';
import { MODELS_DIR, testJpeg } from './server-helpers.ts';

test('worker pool: results per image, queue time, a crashed worker is replaced', async () => {
  const models = await readModelInfos(MODELS_DIR, ['d0']);
  const logs: string[] = [];
  const pool = await WorkerPool.start({
    size: 1,
    models,
    session: { providers: ['cpu'], intraOpThreads: 1, graphOpt: 'all', spinning: 'run', ortLogLevel: 'fatal' },
    warmup: false,
    log: (l) => logs.push(l),
  });
  try {
    assert.equal(pool.ep, 'cpu');
    const jpeg = await testJpeg(256, 192);
    const image = () => decodeImage(jpeg, { maxPixels: 1e6 });
    // Two requests on one worker: the second waits for the first.
    const [a, b] = await Promise.all([pool.run([await image()], ['d0']), pool.run([await image(), await image()], ['d0'])]);
    assert.equal(a.runs[0]!.detections.length, 1);
    assert.equal(b.runs[0]!.detections.length, 2);
    assert.ok(b.queue_ms >= a.runs[0]!.infer_ms * 0.5, `second request queued ${b.queue_ms} ms`);
    assert.deepEqual(b.runs[0]!.detections[0]!.boxes, a.runs[0]!.detections[0]!.boxes);

    // Kill the worker mid-request: that request fails, the next one is served by a replacement.
    const doomed = pool.run([await image()], ['d0']);
    const slots = (pool as unknown as { slots: { worker: Worker }[] }).slots;
    await slots[0]!.worker.terminate();
    await assert.rejects(doomed, /inference worker exited/);
    const after = await pool.run([await image()], ['d0']);
    assert.deepEqual(after.runs[0]!.detections[0]!.boxes, a.runs[0]!.detections[0]!.boxes);
    assert.ok(logs.some((l) => /starting a replacement/.test(l)), logs.join('\n'));
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.run([], ['d0']), /closed/);
});
