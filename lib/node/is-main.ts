// "Is this module the program node was started with?" for the CLI entry points. Compares file URLs
// of real paths: import.meta.url is percent-encoded and symlink-resolved, process.argv[1] is neither,
// so a plain string comparison silently skips main() in a checkout under a path with a space or a link.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === moduleUrl;
  } catch {
    return false;
  }
}
