// Start-up failures end with one line naming the cause and the fix, and a non-zero exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODELS_DIR, spawnServer, waitFor } from './server-helpers.ts';
import { probeCuda } from '../helpers/cuda.ts';

async function failsWith(env: Record<string, string>, args: string[], code: number, line: RegExp): Promise<void> {
  const s = await spawnServer(env, args);
  assert.equal(await s.exited, code, s.stdout() + s.stderr());
  const errLines = s.stderr().trim().split('\n');
  assert.equal(errLines.length, 1, `one line on stderr, got:\n${s.stderr()}`);
  assert.match(errLines[0]!, line);
}

test('a bad setting names the variable and the allowed values (exit 2)', async () => {
  await failsWith({ EP: 'tpu' }, [], 2, /^server: EP=tpu is not valid: expected one of cpu, cuda, cuda,cpu$/);
  await failsWith({}, ['--graph-opt', 'max'], 2, /^server: --graph-opt=max is not valid: expected one of disabled, basic, extended, all$/);
});

test('missing models: one line naming the file and `make models`', async () => {
  // The models are read side by side: whichever file is found missing first is named.
  await failsWith({ MODELS_DIR: '/nonexistent/models' }, [], 1, /^server: model file \/nonexistent\/models\/efficientdet-d[012]\.onnx not found: run `make models`/);
});

test('EP=cuda: served on CUDA where its EP loads, else a stop at start-up with one clear line', async () => {
  // Whether the CUDA EP loads here is found out in this process, apart from the server (test/helpers/cuda.ts).
  const cuda = await probeCuda(`${MODELS_DIR}/efficientdet-d0.onnx`);
  if (!cuda.loads) {
    await failsWith({ EP: 'cuda' }, [], 1, /^server: EP=cuda: onnxruntime's CUDA execution provider could not load .*fix: .*EP=cpu/);
    return;
  }
  const s = await spawnServer({ EP: 'cuda', IMPL: 'baseline', LOG_LEVEL: 'info' });
  try {
    await waitFor(s, () => / ready http/.test(s.stdout()), 120_000, "the 'ready' line");
    assert.match(s.stdout(), / ready http\S+ ep=cuda /);
    assert.doesNotMatch(s.stdout() + s.stderr(), /falling back/);
  } finally {
    s.child.kill('SIGKILL');
    await s.exited;
  }
});
