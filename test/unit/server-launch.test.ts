import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SERVER_ENTRY, SERVER_NODE_ARGS } from '../../lib/node/server-launch.ts';

test("make server, npm run server and the bench start the server with the same node flags", () => {
  const expected = `node ${SERVER_NODE_ARGS.join(' ')}`;
  const makefile = /^SERVER_NODE := (.+)$/m.exec(readFileSync('Makefile', 'utf8'))?.[1];
  assert.equal(makefile, expected, 'Makefile SERVER_NODE differs from lib/node/server-launch.ts SERVER_NODE_ARGS');
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts['server'], `${expected} ${SERVER_ENTRY}`);
});
