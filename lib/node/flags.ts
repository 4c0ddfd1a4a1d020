// Command-line flags of a knob registry, read with Node's util.parseArgs: `--port 8001` or
// `--port=8001`, one string per knob that declares a flag. Unknown flags are an error naming the
// known ones, in the ConfigError form every runtime uses.
import { parseArgs } from 'node:util';
import { ConfigError } from '../env.ts';
import type { Registry } from '../knobs.ts';

export function parseFlags(registry: Registry, argv: readonly string[]): Record<string, string> {
  const flags = Object.values(registry).flatMap((k) => (k.flag === undefined ? [] : [k.flag]));
  const options = Object.fromEntries(flags.map((f) => [f, { type: 'string' as const }]));
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return values as Record<string, string>;
  } catch (e) {
    // parseArgs says what was wrong (unknown option, missing value, positional) in its own words.
    const first = (e as Error).message.split('\n')[0]!.replace(/\. This command does not take positional arguments.*$/, '');
    throw new ConfigError(`${first}: known flags are ${flags.map((f) => `--${f}`).join(' ')}`);
  }
}
