// The server's version, read once from package.json (reported by /health, /metrics and GET /v2).
import { readFileSync } from 'node:fs';

export const SERVER_VERSION: string = (() => {
  try {
    return String(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  } catch {
    return 'unknown';
  }
})();
