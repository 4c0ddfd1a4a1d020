import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { SERVER_ENTRY, SERVER_NODE_ARGS } from '../../lib/node/server-launch.ts';

test('make server starts the server with the flags every tool uses (lib/node/server-node-args)', () => {
  assert.ok(SERVER_NODE_ARGS.includes('--import') && SERVER_NODE_ARGS.some((a) => a.startsWith('--initial-old-space-size=')), SERVER_NODE_ARGS.join(' '));
  // -n prints the recipe without running it; `models` is skipped with -o so nothing is generated.
  const recipe = execFileSync('make', ['-n', '-o', 'models', 'server'], { encoding: 'utf8' });
  assert.match(recipe, new RegExp(`^node ${SERVER_NODE_ARGS.join(' ')} ${SERVER_ENTRY}$`, 'm'));
});
